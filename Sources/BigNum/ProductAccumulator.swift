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
    private let context: MontgomeryContext
    private let acc: OpaquePointer
    private let scratch: OpaquePointer
    private let ctx: OpaquePointer
    /// How many values went in.
    public private(set) var count: Int = 0

    /// Starts an empty product (which finalises to 1).
    public init(context: MontgomeryContext) {
        self.context = context
        self.acc = OpenSSLCall.mustSucceed(BN_new(), "BN_new")
        self.scratch = OpenSSLCall.mustSucceed(BN_new(), "BN_new")
        self.ctx = OpenSSLCall.mustSucceed(BN_CTX_new(), "BN_CTX_new")
    }

    deinit {
        BN_free(acc)
        BN_free(scratch)
        BN_CTX_free(ctx)
    }

    /// Multiplies in a value given as big-endian bytes.
    ///
    /// - Throws: ``BigNumError/Code/invalidArgument`` when the value is zero or not below the modulus.
    public mutating func multiply(bigEndian bytes: UnsafeRawBufferPointer) throws(BigNumError) {
        // A value of m's width is at most 8·limbs bytes; anything longer cannot be below m.
        guard bytes.count <= context.limbCount * 8 + 8 else {
            throw BigNumError(.invalidArgument, "value is not in 1 ..< m")
        }
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        try OpenSSLCall.check(BN_bin2bn(base, Int32(bytes.count), scratch), "BN_bin2bn", .internalFailure,
                              "out of memory")
        try absorbScratch()
    }

    /// Multiplies in a value.
    public mutating func multiply(_ value: BigNum) throws(BigNumError) {
        OpenSSLCall.mustSucceed(BN_copy(scratch, value.storage.bn), "BN_copy")
        try absorbScratch()
    }

    private mutating func absorbScratch() throws(BigNumError) {
        guard BN_is_zero(scratch) == 0, BN_is_negative(scratch) == 0,
              BN_ucmp(scratch, context.modulus.storage.bn) < 0
        else { throw BigNumError(.invalidArgument, "value is not in 1 ..< m") }
        if count == 0 {
            OpenSSLCall.mustSucceed(BN_copy(acc, scratch), "BN_copy")
        } else {
            try OpenSSLCall.check(BN_mod_mul_montgomery(acc, acc, scratch, context.mont, ctx), "BN_mod_mul_montgomery",
                                  .internalFailure, "Montgomery multiplication failed")
        }
        // At most one value per byte of memory: cannot overflow.
        count += 1
    }

    /// The product of every value multiplied in, modulo m (1 when none was).
    public func finalize() throws(BigNumError) -> BigNum {
        guard count > 0 else { return BigNum(UInt64(1)) }
        let out = BigNum()
        OpenSSLCall.mustSucceed(BN_copy(out.storage.bn, acc), "BN_copy")
        guard count > 1 else { return out }
        let correction = try context.radixPower(count - 1)
        return context.multiply(out, correction)
    }
}
