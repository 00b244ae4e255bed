import Foundation
public import Paillier
public import VaultModel

extension Descriptor {
    /// The Paillier public key this descriptor names, checked against the descriptor's `key_id` and `key_bits`.
    ///
    /// The one place a descriptor's JWK becomes a ``PublicKey``: the query engine and every command use it.
    /// - Throws: `PaillierError` (`.keyTooSmall` below 2048 bits unless `allowInsecureSize`, `.malformedKey`),
    ///   or `.invalidKey` when the key does not match the descriptor's id or size (the file was altered).
    public func paillierKey(allowInsecureSize: Bool) throws(PaillierError) -> PublicKey {
        let jwk: Data
        do { jwk = try JSONEncoder().encode(publicKey) } catch {
            throw PaillierError(.malformedKey, "the descriptor's public key cannot be encoded")
        }
        let key = try PaillierJSON.decodePublicKey(jwk, allowInsecureSize: allowInsecureSize)
        guard key.keyID == keyID, key.bitCount == keyBits else {
            throw PaillierError(.invalidKey, "the descriptor's public key does not match its key_id / key_bits; "
                                + "the file was altered")
        }
        return key
    }
}
