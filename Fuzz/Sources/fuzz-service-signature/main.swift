// Request authentication of `eduvault serve` (RFC 9421 signatures, RFC 9530 Content-Digest, Host, nonce).
//
// Path: the input is a request in text form (FuzzService.TextRequest: request line, header lines, body), turned into
// the RequestHead the HTTP middleware builds, then RequestAuthenticator.authenticate — the server's own code — with
// a fixed clock, three registered principals (one revoked) and an in-memory nonce journal; then the body check.
// Each input is tried twice: as given, and re-signed by the key its keyid names (so mutations of the method, target,
// Host, digest and parameters reach everything after the signature check).
// Properties: a request accepted carries one Host, one Signature-Input, Signature and Content-Digest; its signer is
// registered and not revoked; an Ed25519 signature that this target re-derives (its own parse, its own signature
// base) verifies over exactly the method, scheme://Host+target, the Content-Digest value and the parameters; its
// `created` is within the window; the same request again is refused as a replay; and flipping any byte of a covered
// component (method, target, Host, Content-Digest, parameters) makes it refused. A body is accepted only if its
// SHA-256 is the signed digest.
import Foundation
import FuzzDriver
import FuzzSupport
import Primitives
import VaultApp
import VaultStore

/// The signature base as RFC 9421 §2.5 defines it, built here independently of HTTPMessageSignature.
func base(method: String, uri: String, digest: String, params: String) -> [UInt8] {
    Array("\"@method\": \(method)\n\"@target-uri\": \(uri)\n\"content-digest\": \(digest)\n\"@signature-params\": \(params)".utf8)
}

/// The parameters and label of a Signature-Input value (`label=params`).
func split(_ input: String) -> (label: String, params: String)? {
    guard let eq = input.firstIndex(of: "=") else { return nil }
    return (String(input[..<eq]), String(input[input.index(after: eq)...]))
}

/// The request re-signed by the key of the principal its keyid names (nil when it names none, or has no usable
/// Signature-Input).
func resigned(_ request: FuzzService.TextRequest) -> FuzzService.TextRequest? {
    guard let input = request.values("Signature-Input").first, let (label, params) = split(input),
          let signer = FuzzService.signers.first(where: { params.contains("keyid=\"\($0.principal.id)\"") }),
          let host = request.values("Host").first, let digest = request.values("Content-Digest").first,
          let signature = try? signer.key.signature(for: base(method: request.method, uri: "\(request.scheme)://\(host)\(request.target)",
                                                             digest: digest, params: params))
    else { return nil }
    var copy = request
    copy.set("Signature", "\(label)=:\(Data(signature).base64EncodedString()):")
    return copy
}

/// Authenticates with a fresh journal (as a server that never saw the request).
func authenticate(_ head: RequestHead) -> Result<AuthenticatedRequest, RequestRefusal> {
    Result { () throws(RequestRefusal) -> AuthenticatedRequest in
        try FuzzService.authenticator().authenticate(head, now: FuzzService.now)
    }
}

/// Checks what must hold of an accepted request.
func checkAccepted(_ request: FuzzService.TextRequest, _ accepted: AuthenticatedRequest) {
    let head = request.head
    Fuzz.require(head.hosts.count == 1 && head.signatureInput.count == 1 && head.signature.count == 1
                     && head.contentDigest.count == 1, "accepted with a missing or repeated Host or signature header")
    guard let signer = FuzzService.signers.first(where: { $0.principal == accepted.principal }) else {
        return Fuzz.require(false, "accepted for a principal that is not registered")
    }
    Fuzz.require(signer.principal.revoked == nil, "accepted a revoked key")
    guard let (label, params) = split(head.signatureInput[0]) else { return Fuzz.require(false, "accepted without label=") }
    let signatureHeader = head.signature[0]
    let prefix = label + "=:"
    guard signatureHeader.hasPrefix(prefix), signatureHeader.hasSuffix(":"),
          let signature = Data(base64Encoded: String(signatureHeader.dropFirst(prefix.count).dropLast()))
    else { return Fuzz.require(false, "accepted a Signature header this target cannot read") }
    let uri = "\(head.scheme)://\(head.hosts[0])\(head.target)"
    let derived = base(method: head.method, uri: uri, digest: head.contentDigest[0], params: params)
    Fuzz.require((try? signer.key.publicKey.isValidSignature(Array(signature), for: derived)) == true,
                 "accepted a signature that does not verify over the re-derived signature base")
    Fuzz.require(params.hasPrefix("(\"@method\" \"@target-uri\" \"content-digest\");"), "accepted other covered components")
    Fuzz.require(params.contains("keyid=\"\(signer.principal.id)\""), "accepted a keyid other than the signer's")
    let digestText = head.contentDigest[0]
    Fuzz.require(digestText.hasPrefix("sha-256=:") && digestText.hasSuffix(":")
                     && Data(base64Encoded: String(digestText.dropFirst(9).dropLast())).map(Array.init) == accepted.digest,
                 "the digest returned is not the Content-Digest's")
    Fuzz.require(accepted.signature.created >= FuzzService.now - HTTPMessageSignature.maxAge
                     && accepted.signature.created <= FuzzService.now + HTTPMessageSignature.maxSkewAhead,
                 "accepted a created outside the window")
    Fuzz.require(params.contains(";created=\(accepted.signature.created);") && params.contains("nonce=\"\(accepted.signature.nonce)\""),
                 "created or nonce are not the ones signed")
    // The same request twice: a replay.
    let journal = FuzzService.authenticator()
    let first = Result { () throws(RequestRefusal) -> AuthenticatedRequest in try journal.authenticate(head, now: FuzzService.now) }
    let second = Result { () throws(RequestRefusal) -> AuthenticatedRequest in try journal.authenticate(head, now: FuzzService.now) }
    Fuzz.require((try? first.get()) != nil, "accepted once, refused by a fresh server")
    if case .failure(.unauthenticated(let failure)) = second { Fuzz.require(failure.metric == "replayed", "replay refused as \(failure.metric)") }
    else { Fuzz.require(false, "a replayed request was not refused as a replay") }
    // Flipping a byte of any covered component makes it refused (positions chosen from the signature, 3 each).
    let seed = Array(signature.prefix(8))
    func positions(_ count: Int) -> [Int] { count == 0 ? [] : seed.prefix(3).map { Int($0) % count } }
    func flipped(_ text: String, _ position: Int) -> String {
        var bytes = Array(text.utf8)
        bytes[position] ^= 0x01
        return String(decoding: bytes, as: UTF8.self)
    }
    var mutants: [RequestHead] = []
    for p in positions(head.method.utf8.count) { var m = head; m.method = flipped(m.method, p); mutants.append(m) }
    for p in positions(head.target.utf8.count) { var m = head; m.target = flipped(m.target, p); mutants.append(m) }
    for p in positions(head.hosts[0].utf8.count) { var m = head; m.hosts = [flipped(m.hosts[0], p)]; mutants.append(m) }
    for p in positions(digestText.utf8.count) { var m = head; m.contentDigest = [flipped(digestText, p)]; mutants.append(m) }
    for p in positions(params.utf8.count) {
        var m = head
        m.signatureInput = [label + "=" + flipped(params, p)]
        mutants.append(m)
    }
    for mutant in mutants where mutant != head {
        // A flip the text form cannot tell apart (invalid UTF-8 decoded to U+FFFD twice) is not a change.
        guard mutant.targetURI != head.targetURI || mutant.method != head.method || mutant.contentDigest != head.contentDigest
                || mutant.signatureInput != head.signatureInput
        else { continue }
        Fuzz.require((try? authenticate(mutant).get()) == nil, "accepted after a covered byte changed")
    }
    // The body: accepted only when it hashes to the signed digest.
    let bodyOK = (try? RequestAuthenticator.checkBody(request.body, digest: accepted.digest)) != nil
    Fuzz.require(bodyOK == (SHA256.hash(request.body) == accepted.digest), "the body check disagrees with SHA-256")
    if bodyOK, !request.body.isEmpty {
        var body = request.body
        body[Int(seed[0]) % body.count] ^= 0x01
        Fuzz.require((try? RequestAuthenticator.checkBody(body, digest: accepted.digest)) == nil, "a changed body passed")
    }
}

Fuzz.run { data in
    guard let request = FuzzService.TextRequest(data) else { return }
    if case .success(let accepted) = authenticate(request.head) { checkAccepted(request, accepted) }
    guard let signed = resigned(request) else { return }
    if case .success(let accepted) = authenticate(signed.head) { checkAccepted(signed, accepted) }
}
