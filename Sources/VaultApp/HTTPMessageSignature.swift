public import Foundation
public import Primitives

/// RFC 9421 HTTP Message Signatures as EduVault uses them, with RFC 9530 `Content-Digest`.
///
/// Every request to the service is signed by its caller's Ed25519 key (`alg="ed25519"`, `keyid` = principal id)
/// over the covered components `"@method"`, `"@target-uri"` and `"content-digest"` (SHA-256 of the body, empty or
/// not), with the signature parameters `created` (Unix seconds) and `nonce`:
///
/// ```
/// Content-Digest: sha-256=:<base64 SHA-256 of the body>:
/// Signature-Input: sig1=("@method" "@target-uri" "content-digest");created=1735689600;keyid="GS-R01";alg="ed25519";nonce="…"
/// Signature: sig1=:<base64 Ed25519 signature over the signature base>:
/// ```
///
/// The signature base (RFC 9421 §2.5) is one line per component, `"<name>": <value>`, then
/// `"@signature-params": <the inner list and parameters as sent>`, joined by LF with no trailing newline.
///
/// The parser is strict: exactly one signature, exactly these three components, only these parameters, and the
/// canonical serialisation (what `sign` writes). Anything else is refused rather than interpreted.
public enum HTTPMessageSignature {
    /// The signature label the clients use.
    public static let label = "sig1"
    /// The components every request signature must cover, in this order.
    public static let components = ["@method", "@target-uri", "content-digest"]
    /// A `created` more than this many seconds old is stale.
    public static let maxAge: Int64 = 300
    /// A `created` more than this many seconds ahead of the server's clock is refused.
    public static let maxSkewAhead: Int64 = 60
    /// The longest header value read.
    public static let maxHeaderBytes = 4096

    /// The headers a signed request carries.
    public struct Headers: Sendable, Equatable {
        public var contentDigest: String
        public var signatureInput: String
        public var signature: String
    }

    /// `sha-256=:<base64>:` for a body's SHA-256 (RFC 9530).
    public static func contentDigest(sha256: [UInt8]) -> String { "sha-256=:" + Data(sha256).base64EncodedString() + ":" }

    /// The SHA-256 a `Content-Digest` header states, or nil unless it is exactly one `sha-256` member.
    public static func parseContentDigest(_ header: String) -> [UInt8]? {
        guard header.utf8.count <= 200, header.hasPrefix("sha-256=:"), header.hasSuffix(":") else { return nil }
        let encoded = header.dropFirst("sha-256=:".count).dropLast()
        guard let bytes = Data(base64Encoded: String(encoded)), bytes.count == 32 else { return nil }
        return Array(bytes)
    }

    /// The `@signature-params` value: the inner list of covered components and the parameters.
    public static func signatureParams(created: Int64, keyID: String, nonce: String) -> String {
        "(" + components.map { "\"\($0)\"" }.joined(separator: " ") + ");created=\(created);keyid=\"\(keyID)\";"
            + "alg=\"ed25519\";nonce=\"\(nonce)\""
    }

    /// The signature base (RFC 9421 §2.5).
    public static func signatureBase(method: String, targetURI: String, contentDigest: String, params: String) -> [UInt8] {
        Array(("\"@method\": \(method)\n\"@target-uri\": \(targetURI)\n\"content-digest\": \(contentDigest)\n"
               + "\"@signature-params\": \(params)").utf8)
    }

    /// A fresh nonce: 16 random bytes, base64url without padding.
    public static func newNonce() throws(PrimitivesError) -> String {
        Data(try SecureRandom.bytes(16)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Signs a request.
    ///
    /// - Parameters:
    ///   - targetURI: the absolute URI requested, as the server will rebuild it (`scheme://host:port/path?query`).
    ///   - body: the request body (empty for GET).
    /// - Throws: `PrimitivesError` if the CSPRNG or the signature fails.
    public static func sign(
        method: String, targetURI: String, body: some Collection<UInt8>, keyID: String, key: Ed25519.PrivateKey,
        created: Int64 = Int64(Date().timeIntervalSince1970), nonce: String? = nil
    ) throws(PrimitivesError) -> Headers {
        let digest = contentDigest(sha256: SHA256.hash(body))
        let chosen: String
        if let nonce { chosen = nonce } else { chosen = try newNonce() }
        let params = signatureParams(created: created, keyID: keyID, nonce: chosen)
        let signature = try key.signature(for: signatureBase(method: method, targetURI: targetURI, contentDigest: digest,
                                                             params: params))
        return Headers(contentDigest: digest, signatureInput: "\(label)=\(params)",
                       signature: "\(label)=:\(Data(signature).base64EncodedString()):")
    }

    /// A parsed, not yet verified, request signature.
    public struct Parsed: Sendable, Equatable {
        public var keyID: String
        public var created: Int64
        public var nonce: String
        /// The `@signature-params` value as received.
        public var params: String
        public var signature: [UInt8]
    }

    /// Why a signature is refused (each answered with 401, the reason in one line).
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        /// A short label for metrics (`missing`, `malformed`, `stale`, `future`, `replayed`, `unknown_key`,
        /// `revoked`, `bad_signature`, `digest_mismatch`).
        public var metric: String
        public init(_ metric: String, _ reason: String) {
            self.metric = metric
            self.reason = reason
        }
        public var description: String { reason }
    }

    /// Parses `Signature-Input` and `Signature` strictly.
    public static func parse(signatureInput: String?, signature: String?) throws(Failure) -> Parsed {
        guard let signatureInput, let signature else {
            throw Failure("missing", "the request is not signed (RFC 9421 Signature-Input and Signature headers)")
        }
        let malformed = Failure("malformed", "the request's Signature-Input or Signature header is not in the form this vault reads")
        guard signatureInput.utf8.count <= maxHeaderBytes, signature.utf8.count <= maxHeaderBytes,
              let equals = signatureInput.firstIndex(of: "=")
        else { throw malformed }
        let label = String(signatureInput[..<equals])
        guard !label.isEmpty, label.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }) else {
            throw malformed
        }
        let params = String(signatureInput[signatureInput.index(after: equals)...])
        let inner = "(" + components.map { "\"\($0)\"" }.joined(separator: " ") + ")"
        guard params.hasPrefix(inner) else {
            throw Failure("malformed", "the signature must cover exactly \"@method\" \"@target-uri\" \"content-digest\"")
        }
        var values: [String: String] = [:]
        for item in params.dropFirst(inner.count).split(separator: ";", omittingEmptySubsequences: false).dropFirst() {
            guard let eq = item.firstIndex(of: "=") else { throw malformed }
            let name = String(item[..<eq])
            let value = String(item[item.index(after: eq)...])
            guard ["created", "keyid", "alg", "nonce"].contains(name), values[name] == nil else { throw malformed }
            values[name] = value
        }
        guard params.dropFirst(inner.count).first == ";" else { throw malformed }
        func quoted(_ name: String) throws(Failure) -> String {
            guard let value = values[name], value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") else {
                throw malformed
            }
            let text = String(value.dropFirst().dropLast())
            guard !text.isEmpty, text.utf8.count <= 128,
                  text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C })
            else { throw malformed }
            return text
        }
        guard let createdText = values["created"], createdText.utf8.count <= 12, createdText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let created = Int64(createdText)
        else { throw malformed }
        guard try quoted("alg") == "ed25519" else { throw Failure("malformed", "the signature algorithm must be ed25519") }
        let keyID = try quoted("keyid")
        let nonce = try quoted("nonce")
        guard nonce.utf8.count >= 16 else { throw Failure("malformed", "the signature's nonce is shorter than 16 characters") }
        let prefix = label + "=:"
        guard signature.hasPrefix(prefix), signature.hasSuffix(":"), signature.utf8.count > prefix.utf8.count + 1,
              let bytes = Data(base64Encoded: String(signature.dropFirst(prefix.count).dropLast())), bytes.count == 64
        else { throw Failure("malformed", "the Signature header must carry one Ed25519 signature labelled \(label)") }
        return Parsed(keyID: keyID, created: created, nonce: nonce, params: params, signature: Array(bytes))
    }

    /// Checks `created` against the clock: at most `maxAge` seconds old and `maxSkewAhead` ahead.
    public static func checkFreshness(_ parsed: Parsed, now: Int64) throws(Failure) {
        if now - parsed.created > maxAge {
            throw Failure("stale", "the signature was created more than \(maxAge) s ago; sign the request again")
        }
        if parsed.created - now > maxSkewAhead {
            throw Failure("future", "the signature was created more than \(maxSkewAhead) s in the future; check the clock")
        }
    }

    /// Verifies the signature over the request's method, target URI and `Content-Digest` header value.
    public static func verify(_ parsed: Parsed, method: String, targetURI: String, contentDigest: String,
                              publicKey: Ed25519.PublicKey) -> Bool {
        let base = signatureBase(method: method, targetURI: targetURI, contentDigest: contentDigest, params: parsed.params)
        return (try? publicKey.isValidSignature(parsed.signature, for: base)) == true
    }
}
