internal import COpenSSL

/// The running product of many values modulo an odd `m` — the vault's inner loop (a homomorphic sum of Paillier
/// ciphertexts is their product modulo n²).
///
/// Each value is multiplied into the running product with **one** Montgomery multiplication and no conversion:
/// the product of `k` plain values `x₁…x_k` under Montgomery multiplication is `Π xᵢ · R^-(k-1)`, and
/// ``finalize()`` removes the `R^-(k-1)` factor once, with one short exponentiation and one multiplication.
///
/// Not `Sendable`: one accumulator belongs to one task. Reduce in parallel by giving each task its own
/// accumulator and combining the finalised results with ``MontgomeryContext/multiply(_:_:)``.
///
/// Complexity: O(1) Montgomery products per value; ``finalize()`` costs O(log k) products.
public struct ProductAccumulator: ~Copyable {
    private var cells: ProductAccumulatorSet

    /// Starts an empty product (which finalises to 1).
    public init(context: MontgomeryContext) {
        cells = ProductAccumulatorSet(context: context, cells: 1)
    }

    /// How many values went in.
    public var count: Int { cells.count(of: 0) }

    /// Multiplies in a value given as big-endian bytes.
    ///
    /// - Throws: ``BigNumError/Code/invalidArgument`` when the value is zero or not below the modulus.
    public mutating func multiply(bigEndian bytes: UnsafeRawBufferPointer) throws(BigNumError) {
        try cells.multiply(bigEndian: bytes, into: 0)
    }

    /// Multiplies in a value.
    ///
    /// - Throws: ``BigNumError/Code/invalidArgument`` when the value is zero or not below the modulus.
    public mutating func multiply(_ value: BigNum) throws(BigNumError) {
        try cells.multiply(value, into: 0)
    }

    /// The product of every value multiplied in, modulo m (1 when none was).
    public func finalize() throws(BigNumError) -> BigNum { try cells.finalize(0) }
}

/// Running products modulo one odd `m` for many cells at once — what one summing thread keeps: an accumulator per
/// cell, indexed by the cell's number, sharing one scratch value and one `BN_CTX`.
///
/// Each value costs one `BN_bin2bn` into the reused scratch value, the range check `0 < x < m` and one Montgomery
/// multiplication into its cell; nothing is allocated per value (a cell's accumulator on its first value). As
/// with ``ProductAccumulator``, cell `c` holds `Π xᵢ · R^-(k-1)` and ``finalize(_:)`` removes the factor.
///
/// Not `Sendable`: one set belongs to one thread (its `BN_CTX` is not thread-safe).
///
/// Complexity: O(1) Montgomery products per value; memory O(cells) accumulators of m's width.
public struct ProductAccumulatorSet: ~Copyable {
    private let context: MontgomeryContext
    /// `context`'s `BN_MONT_CTX` and modulus, read once: `context` owns them, is never mutated and lives as long
    /// as this value, so the pointers stay valid without a retain per product.
    private let mont: OpaquePointer
    private let modulus: OpaquePointer
    /// A value of m's width is at most 8·limbs bytes; anything longer cannot be below m (and is refused before
    /// `BN_bin2bn` sees it).
    private let maxBytes: Int
    private var accumulators: [OpaquePointer?]
    private var counts: [Int]
    private let scratch: OpaquePointer
    private let ctx: OpaquePointer

    /// Starts `cells` empty products (each finalises to 1).
    ///
    /// - Precondition: `cells >= 0`.
    public init(context: MontgomeryContext, cells: Int) {
        precondition(cells >= 0, "a negative number of cells")
        self.context = context
        self.mont = context.mont
        self.modulus = context.modulus.storage.bn
        self.maxBytes = context.limbCount * 8 + 8
        self.accumulators = [OpaquePointer?](repeating: nil, count: cells)
        self.counts = [Int](repeating: 0, count: cells)
        self.scratch = OpenSSLCall.mustSucceed(BN_new(), "BN_new")
        self.ctx = OpenSSLCall.mustSucceed(BN_CTX_new(), "BN_CTX_new")
    }

    deinit {
        for accumulator in accumulators { if let accumulator { BN_free(accumulator) } }
        BN_free(scratch)
        BN_CTX_free(ctx)
    }

    /// The number of cells.
    public var cellCount: Int { counts.count }

    /// How many values went into `cell`.
    public func count(of cell: Int) -> Int { counts[cell] }

    /// Multiplies a value given as big-endian bytes into `cell`.
    ///
    /// - Precondition: `0 <= cell < cellCount`.
    /// - Throws: ``BigNumError/Code/invalidArgument`` when the value is zero or not below the modulus.
    @inline(__always)
    public mutating func multiply(bigEndian bytes: UnsafeRawBufferPointer, into cell: Int) throws(BigNumError) {
        guard bytes.count <= maxBytes else { throw BigNumError(.invalidArgument, "value is not in 1 ..< m") }
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        try OpenSSLCall.check(BN_bin2bn(base, Int32(bytes.count), scratch), "BN_bin2bn", .internalFailure,
                              "out of memory")
        try absorbScratch(into: cell)
    }

    /// Multiplies a value into `cell`.
    ///
    /// - Precondition: `0 <= cell < cellCount`.
    /// - Throws: ``BigNumError/Code/invalidArgument`` when the value is zero or not below the modulus.
    public mutating func multiply(_ value: BigNum, into cell: Int) throws(BigNumError) {
        OpenSSLCall.mustSucceed(BN_copy(scratch, value.storage.bn), "BN_copy")
        try absorbScratch(into: cell)
    }

    @inline(__always)
    private mutating func absorbScratch(into cell: Int) throws(BigNumError) {
        guard BN_is_zero(scratch) == 0, BN_is_negative(scratch) == 0, BN_ucmp(scratch, modulus) < 0 else {
            throw BigNumError(.invalidArgument, "value is not in 1 ..< m")
        }
        if let acc = accumulators[cell], counts[cell] > 0 {
            try OpenSSLCall.check(BN_mod_mul_montgomery(acc, acc, scratch, mont, ctx), "BN_mod_mul_montgomery",
                                  .internalFailure, "Montgomery multiplication failed")
        } else {
            let acc = accumulators[cell] ?? OpenSSLCall.mustSucceed(BN_new(), "BN_new")
            accumulators[cell] = acc
            OpenSSLCall.mustSucceed(BN_copy(acc, scratch), "BN_copy")
        }
        // At most one value per byte of memory: cannot overflow.
        counts[cell] += 1
    }

    /// The product of every value multiplied into `cell`, modulo m (1 when none was).
    ///
    /// - Precondition: `0 <= cell < cellCount`.
    /// - Throws: ``BigNumError/Code/internalFailure`` when OpenSSL fails.
    public func finalize(_ cell: Int) throws(BigNumError) -> BigNum {
        guard counts[cell] > 0, let acc = accumulators[cell] else { return BigNum(UInt64(1)) }
        let out = BigNum()
        OpenSSLCall.mustSucceed(BN_copy(out.storage.bn, acc), "BN_copy")
        guard counts[cell] > 1 else { return out }
        let correction = try context.radixPower(counts[cell] - 1)
        return context.multiply(out, correction)
    }
}
