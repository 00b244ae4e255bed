import BigNum

/// A streaming homomorphic sum: feed ciphertexts (as values or as fixed-width bytes straight from storage) and
/// get Enc(Σ m) at the end.
///
/// The running product stays in Montgomery form so each added ciphertext costs one Montgomery multiplication;
/// the R factors are corrected once in ``result()``.
///
/// Not `Sendable`: one summer per task. For all cores, see ``PublicKey/sumInParallel(_:)``.
public struct CiphertextSum: ~Copyable {
    private let key: PublicKey
    private var accumulator: ProductAccumulator

    /// Starts an empty sum (Enc(0) with noise 1 if nothing is added).
    public init(key: PublicKey) {
        self.key = key
        self.accumulator = ProductAccumulator(context: key.core.montN2)
    }

    /// How many ciphertexts were added.
    public var count: Int { accumulator.count }

    /// Adds a ciphertext.
    public mutating func add(_ c: Ciphertext) throws(PaillierError) {
        do { try accumulator.multiply(c.value) } catch {
            throw Self.mapped(error, "a ciphertext is not in the key's ciphertext range")
        }
    }

    /// Adds a ciphertext given as its fixed-width big-endian bytes.
    ///
    /// Checks width and 0 < c < n² (cheap). The gcd(c, n) = 1 check is left to the ingest that stored the bytes.
    public mutating func add(bytes: UnsafeRawBufferPointer) throws(PaillierError) {
        guard bytes.count == key.ciphertextByteCount else {
            throw PaillierError(.malformedCiphertext,
                                "a ciphertext of this key is \(key.ciphertextByteCount) bytes, not \(bytes.count)")
        }
        do { try accumulator.multiply(bigEndian: bytes) } catch {
            throw Self.mapped(error, "a stored ciphertext is not in the key's ciphertext range")
        }
    }

    /// Adds a ciphertext given as its fixed-width big-endian bytes.
    public mutating func add(bytes: [UInt8]) throws(PaillierError) {
        var failure: PaillierError?
        bytes.withUnsafeBytes { buffer in
            do throws(PaillierError) { try add(bytes: buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// A value out of range is the ciphertext's fault; any other failure is OpenSSL's, and says so.
    static func mapped(_ error: BigNumError, _ outOfRange: String) -> PaillierError {
        error.code == .invalidArgument
            ? PaillierError(.invalidCiphertext, outOfRange)
            : PaillierError(.internalFailure, "summing ciphertexts failed: \(error.message)")
    }

    /// Enc(Σ m) of everything added (not re-randomised: call ``PublicKey/rerandomize(_:)`` before releasing it).
    public func result() throws(PaillierError) -> Ciphertext {
        do { return Ciphertext(unchecked: try accumulator.finalize()) } catch {
            throw PaillierError(.internalFailure, "could not finish the sum: \(error.message)")
        }
    }
}

/// Streaming homomorphic sums for many cells at once: what one summing thread of a query keeps, one running sum per
/// cell, indexed by the cell's number (no lookup by key per ciphertext).
///
/// Each ciphertext costs one Montgomery multiplication into its cell (see ``CiphertextSum``).
///
/// Not `Sendable`: one set per thread.
public struct CiphertextSums: ~Copyable {
    private let width: Int
    private var accumulators: ProductAccumulatorSet

    /// Starts `cells` empty sums.
    ///
    /// - Precondition: `cells >= 0`.
    public init(key: PublicKey, cells: Int) {
        width = key.ciphertextByteCount
        accumulators = ProductAccumulatorSet(context: key.core.montN2, cells: cells)
    }

    /// The number of cells.
    public var cellCount: Int { accumulators.cellCount }

    /// How many ciphertexts went into `cell`.
    public func count(of cell: Int) -> Int { accumulators.count(of: cell) }

    /// Adds a ciphertext given as its fixed-width big-endian bytes to `cell`.
    ///
    /// Checks width and 0 < c < n² (cheap). The gcd(c, n) = 1 check is left to the ingest that stored the bytes.
    ///
    /// - Precondition: `0 <= cell < cellCount`.
    /// - Throws: ``PaillierError/Code/malformedCiphertext`` for another width, ``PaillierError/Code/invalidCiphertext``
    ///   for a value out of range.
    @inline(__always)
    public mutating func add(bytes: UnsafeRawBufferPointer, to cell: Int) throws(PaillierError) {
        guard bytes.count == width else {
            throw PaillierError(.malformedCiphertext, "a ciphertext of this key is \(width) bytes, not \(bytes.count)")
        }
        do { try accumulators.multiply(bigEndian: bytes, into: cell) } catch {
            throw CiphertextSum.mapped(error, "a stored ciphertext is not in the key's ciphertext range")
        }
    }

    /// Enc(Σ m) of everything added to `cell`, or `nil` when nothing was (not re-randomised).
    ///
    /// - Throws: ``PaillierError/Code/internalFailure`` when OpenSSL fails.
    public func result(_ cell: Int) throws(PaillierError) -> Ciphertext? {
        guard accumulators.count(of: cell) > 0 else { return nil }
        do { return Ciphertext(unchecked: try accumulators.finalize(cell)) } catch {
            throw PaillierError(.internalFailure, "could not finish the sum: \(error.message)")
        }
    }
}
