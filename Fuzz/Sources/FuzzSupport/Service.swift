public import Foundation
public import Primitives
public import VaultApp
public import VaultStore

/// The fixed world of the service targets: the clock, the registered principals and their keys (fixed, public
/// test seeds), and the text form of a request the `service-signature` target and its seeds share.
public enum FuzzService {
    /// The server's clock in the service targets (2026-01-01T00:00:00Z); seeds are signed 10 s before it.
    public static let now: Int64 = 1_767_225_600

    /// A principal of the fuzz world with its key.
    public struct Signer: Sendable {
        public var principal: Principal
        public var key: Ed25519.PrivateKey
    }

    static func key(_ label: String) -> Ed25519.PrivateKey {
        do { return try Ed25519.PrivateKey(rawRepresentation: SHA256.hash(Array(label.utf8))) } catch {
            FileHandle.standardError.write(Data("cannot make the fuzz key \(label): \(error)\n".utf8))
            exit(2)
        }
    }

    /// School GP (the batch target's signer), a bureau member, and a revoked auditor member.
    public static let signers: [Signer] = {
        let school = Fuzz.batchSigner
        let bureau = key("eduvault-fuzz-bureau")
        let revoked = key("eduvault-fuzz-revoked-auditor")
        return [
            Signer(principal: Principal(id: "GP", role: Principal.schoolRole, name: "GP", publicKey: school.publicKey.rawRepresentation,
                                        added: "2026-01-01T00:00:00Z", revoked: nil), key: school),
            Signer(principal: Principal(id: Principal.memberID(publicKey: bureau.publicKey.rawRepresentation), role: "bureau",
                                        name: "bureau", publicKey: bureau.publicKey.rawRepresentation,
                                        added: "2026-01-01T00:00:00Z", revoked: nil), key: bureau),
            Signer(principal: Principal(id: Principal.memberID(publicKey: revoked.publicKey.rawRepresentation), role: "auditor",
                                        name: "revoked-auditor", publicKey: revoked.publicKey.rawRepresentation,
                                        added: "2026-01-01T00:00:00Z", revoked: "2026-01-01T00:00:00Z"), key: revoked),
        ]
    }()

    /// The authenticator the server builds, with these principals and an in-memory nonce journal.
    public static func authenticator() -> RequestAuthenticator {
        RequestAuthenticator(nonces: NonceJournal()) { id throws(AppError) in
            signers.first { $0.principal.id == id }?.principal
        }
    }

    /// A request in text form: `METHOD TARGET SCHEME`, then header lines `Name: value`, an empty line, the body.
    public struct TextRequest: Sendable {
        public var method: String
        public var target: String
        public var scheme: String
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public init(method: String, target: String, scheme: String, headers: [(name: String, value: String)], body: [UInt8]) {
            self.method = method
            self.target = target
            self.scheme = scheme
            self.headers = headers
            self.body = body
        }

        /// Parses the text form; nil when it has no request line.
        public init?(_ data: Data) {
            let bytes = Array(data)
            var lines: [String] = []
            var start = 0
            var bodyStart = bytes.count
            var i = 0
            while i < bytes.count {
                if bytes[i] == 0x0A {
                    let line = String(decoding: bytes[start..<i], as: UTF8.self)
                    if line.isEmpty && !lines.isEmpty {
                        bodyStart = i + 1
                        break
                    }
                    lines.append(line)
                    start = i + 1
                }
                i += 1
            }
            if i == bytes.count, start < bytes.count { lines.append(String(decoding: bytes[start...], as: UTF8.self)) }
            guard let first = lines.first else { return nil }
            let parts = first.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { return nil }
            method = parts[0]
            target = parts[1]
            scheme = parts[2]
            headers = lines.dropFirst().compactMap { line in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                var value = line[line.index(after: colon)...]
                if value.first == " " { value = value.dropFirst() }
                return (String(line[..<colon]), String(value))
            }
            body = bodyStart < bytes.count ? Array(bytes[bodyStart...]) : []
        }

        /// The text form.
        public var encoded: Data {
            var text = "\(method) \(target) \(scheme)\n"
            for (name, value) in headers { text += "\(name): \(value)\n" }
            return Data((text + "\n").utf8) + Data(body)
        }

        /// The values of a header (names compared case-insensitively), in order.
        public func values(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }

        /// The head the HTTP layer hands to `RequestAuthenticator` (its Host fields become `hosts`).
        public var head: RequestHead {
            RequestHead(method: method, scheme: scheme, hosts: values("Host"), target: target,
                        signatureInput: values("Signature-Input"), signature: values("Signature"),
                        contentDigest: values("Content-Digest"),
                        headerBytes: headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        }

        /// Replaces every value of a header by one (or removes it).
        public mutating func set(_ name: String, _ value: String?) {
            let index = headers.firstIndex { $0.name.lowercased() == name.lowercased() } ?? headers.endIndex
            headers.removeAll { $0.name.lowercased() == name.lowercased() }
            if let value { headers.insert((name, value), at: min(index, headers.count)) }
        }
    }

    /// A request signed as the clients sign it, at `now - 10`.
    public static func signed(_ signer: Signer, method: String, target: String, host: String = "vault.example:8443",
                              scheme: String = "https", body: [UInt8] = [], nonce: String) -> TextRequest {
        let headers: HTTPMessageSignature.Headers
        do {
            headers = try HTTPMessageSignature.sign(method: method, targetURI: "\(scheme)://\(host)\(target)", body: body,
                                                    keyID: signer.principal.id, key: signer.key, created: now - 10, nonce: nonce)
        } catch {
            FileHandle.standardError.write(Data("cannot sign: \(error)\n".utf8))
            exit(2)
        }
        return TextRequest(method: method, target: target, scheme: scheme,
                           headers: [("Host", host), ("Content-Digest", headers.contentDigest),
                                     ("Signature-Input", headers.signatureInput), ("Signature", headers.signature),
                                     ("Content-Type", body.isEmpty ? "text/plain" : "application/json")],
                           body: body)
    }
}
