// Passphrase-protected private key files (`decrypt --passphrase-file`): EduVault's `eduvault_sealed` envelope
// (scrypt + AES-256-GCM) around p and q.
//
// Path: PaillierJSON.sealedEnvelope (the envelope checks, run before any key derivation) and
// PaillierJSON.decodePrivateKey with the passphrase, as KeyLoading.privateKey does. The seeds use a cheap scrypt
// cost, which the decoder accepts (a low cost weakens only the file that chose it); inputs whose cost exceeds
// 2^12 are checked up to the key derivation only, so one input never takes seconds.
// Properties: the envelope parser and the full decoder agree on what is well formed; a file that opens yields a
// key whose p·q is its public n, and the same file opened twice gives the same key; a wrong passphrase never
// opens it.
import BigNum
import Foundation
import FuzzDriver
import FuzzSupport
import Paillier
import Primitives

let passphrase = "fuzz passphrase"

Fuzz.run { data in
    let envelope: PassphraseSealing.Sealed?
    do { envelope = try PaillierJSON.sealedEnvelope(data) } catch {
        // A malformed envelope must be refused by the full decoder too, before it asks for the passphrase.
        let refused = (try? PaillierJSON.decodePrivateKey(data, passphrase: nil, allowInsecureSize: true)) == nil
        return Fuzz.require(refused, "the decoder accepted an envelope the envelope check refused")
    }
    guard let sealed = envelope else { return }
    // Without a passphrase a sealed file never opens.
    Fuzz.require((try? PaillierJSON.decodePrivateKey(data, passphrase: nil, allowInsecureSize: true)) == nil,
                 "a sealed key opened without a passphrase")
    let (work, overflow) = sealed.n.multipliedReportingOverflow(by: sealed.r &* sealed.p)
    guard !overflow, work <= 1 << 12, sealed.r <= 64, sealed.p <= 64 else { return }
    guard let key = try? PaillierJSON.decodePrivateKey(data, passphrase: passphrase, allowInsecureSize: true) else { return }
    let (p, q) = key.factors
    Fuzz.require(p * q == key.publicKey.n, "p·q differs from n")
    guard let again = try? PaillierJSON.decodePrivateKey(data, passphrase: passphrase, allowInsecureSize: true) else {
        return Fuzz.require(false, "a sealed key opened once and not twice")
    }
    Fuzz.require(again.factors.p == p && again.factors.q == q, "the same file opened to two keys")
    Fuzz.require((try? PaillierJSON.decodePrivateKey(data, passphrase: passphrase + "x", allowInsecureSize: true)) == nil,
                 "a wrong passphrase opened the key")
}
