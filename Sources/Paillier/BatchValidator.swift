import BigNum

/// Validates a stream of ciphertexts from outside (a school's batch) at the cost of one Montgomery product each.
///
/// Per ciphertext it checks the exact width and 0 < c < n²; coprimality with n is checked once for the whole
/// batch: because n = p·q with p, q prime, gcd(Π cᵢ mod n, n) = 1 exactly when gcd(cᵢ, n) = 1 for every i. A batch
/// with one bad ciphertext is therefore refused whole at ``finish()`` (which is how the vault treats batches).
///
/// Not `Sendable`: one validator per batch.
public final class CiphertextBatchValidator {
    private let key: PublicKey
    private var product: ProductAccumulator

    public init(key: PublicKey) {
        self.key = key
        product = ProductAccumulator(context: key.core.montN2)
    }

    /// How many ciphertexts were checked.
    public var count: Int { product.count }

    /// Checks one ciphertext's width and range and folds it into the batch's coprimality check.
    public func check(_ bytes: [UInt8]) throws(PaillierError) {
        guard bytes.count == key.ciphertextByteCount else {
            throw PaillierError(.malformedCiphertext,
                                "a ciphertext of this key is \(key.ciphertextByteCount) bytes, not \(bytes.count)")
        }
        var failure: PaillierError?
        bytes.withUnsafeBytes { buffer in
            do throws(BigNumError) { try product.multiply(bigEndian: buffer) } catch {
                failure = CiphertextSum.mapped(error, "a ciphertext is zero or not below n² of this key")
            }
        }
        if let failure { throw failure }
    }

    /// Finishes the batch: every ciphertext checked so far is coprime to n.
    public func finish() throws(PaillierError) {
        let all: BigNum
        do { all = try product.finalize() } catch {
            throw PaillierError(.internalFailure, "could not finish the ciphertext check: \(error.message)")
        }
        let coprime: Bool
        do { coprime = try all.isCoprime(to: key.n) } catch {
            throw PaillierError(.internalFailure, "could not finish the ciphertext check: \(error.message)")
        }
        guard coprime else {
            throw PaillierError(.invalidCiphertext, "a ciphertext shares a factor with n, which no encryption produces")
        }
    }
}
