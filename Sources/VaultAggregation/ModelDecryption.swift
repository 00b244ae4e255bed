public import BigNum
import Foundation
public import Paillier

/// A decrypted model release: for every block, the exact sum of every packed product (fixed-point integers).
///
/// The statistics (`VaultStatistics.ModelFit`) work from these sums and the release's public counts.
public struct DecryptedModel: Sendable {
    /// One block's exact sums, by product name (`y`, `y2`, `x:v`, `x2:v`, `xy:v`, `xx:v:w`).
    public struct Block: Sendable {
        public var count: Int
        public var products: [String: BigNum]

        /// The sum of a product, looking up `xx:v:w` in either order.
        public func product(_ name: String) -> BigNum? {
            if let value = products[name] { return value }
            let parts = name.split(separator: ":")
            guard parts.count == 3, parts[0] == "xx" else { return nil }
            return products["xx:\(parts[2]):\(parts[1])"]
        }
    }

    public var release: ModelRelease
    public var total: Block
    /// Per categorical term, per level.
    public var levels: [[Block]]
    /// Per random group.
    public var groups: [Block]

    /// Decrypts every block of `release` with the bureau's key (CRT, constant time, all cores) and unpacks the slots.
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` for a release made under another key or a sum that is not
    ///   a ciphertext of the key, `.decryption` when a sum decrypts outside its slots (overflow).
    /// - Complexity: one decryption per block and ciphertext of the layout.
    public static func decrypt(_ release: ModelRelease, key: SharedPrivateKey) async throws -> DecryptedModel {
        try await decrypt(release, with: SingleKeyDecryptor(key: key))
    }

    /// Decrypts every block of `release` with `decryptor` (the bureau's key, or a quorum of threshold partial
    /// decryptions) and unpacks the slots: the one path from a model release to its sums, whatever the custody.
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` for a release made under another key or a sum that is not
    ///   a ciphertext of the key, `.decryption` when a sum decrypts outside its slots (overflow), and whatever the
    ///   decryptor throws.
    /// - Complexity: one decryption per block and ciphertext of the layout (as the decryptor does it), then linear.
    public static func decrypt(_ release: ModelRelease, with decryptor: some ReleaseDecryptor) async throws
        -> DecryptedModel
    {
        let blocks = release.allBlocks
        let ciphertexts = try release.encryptedSums(under: decryptor.publicKey, keyDescription: decryptor.keyDescription)
        let plaintexts = try await decryptor.decryptCells(ciphertexts, of: release)
        guard plaintexts.count == ciphertexts.count else {
            throw AggregationError(.decryption, "decrypted \(plaintexts.count) of \(ciphertexts.count) sums")
        }
        let layout = release.layout
        let slots: SlotLayout
        do { slots = try SlotLayout(slotBits: layout.slotBits, slotCount: layout.slotsPerCiphertext) } catch {
            throw AggregationError(.invalidRelease, error.message)
        }
        var decrypted: [Block] = []
        for (b, block) in blocks.enumerated() {
            var unpacked: [[BigNum]] = []
            for c in 0..<layout.ciphertextCount {
                do { unpacked.append(try slots.unpack(plaintexts[b * layout.ciphertextCount + c])) } catch {
                    throw AggregationError(
                        .decryption,
                        "a block's sum does not fit its slots: overflow, or not an "
                            + "EduVault sum")
                }
            }
            var products: [String: BigNum] = [:]
            for product in layout.products { products[product.name] = unpacked[product.ciphertext][product.slot] }
            decrypted.append(Block(count: block.count, products: products))
        }
        var next = 1
        var levels: [[Block]] = []
        for term in release.levels {
            levels.append(Array(decrypted[next..<(next + term.count)]))
            next += term.count
        }
        return DecryptedModel(release: release, total: decrypted[0], levels: levels, groups: Array(decrypted[next...]))
    }
}
