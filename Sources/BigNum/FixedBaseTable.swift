internal import COpenSSL

/// A precomputed table for `g^e mod m` with a fixed base `g` and secret exponents of a bounded size: the DJN
/// short-exponent noise `h_s^α mod n²` of Paillier encryption.
///
/// For window width `w` the exponent is cut into `⌈bits / w⌉` digits and the table holds, for every digit
/// position `i` and every digit value `j`, the value `g^(j · 2^(w·i))` in Montgomery form. An exponentiation is
/// then one Montgomery product per digit and no squarings.
///
/// **Constant time.** The digit values are secret, so a lookup never indexes the table by them: it reads every
/// entry of the row and keeps the wanted one with a mask computed without branches. Time and memory access
/// pattern depend only on the public sizes. (Residual caveat, documented in SECURITY.md: OpenSSL trims leading
/// zero limbs of a loaded value, which could in principle change its code path; for a table entry that is
/// uniform modulo m this happens with probability about 2^-64 per lookup.)
///
/// `@unchecked Sendable`: the table and context are written only in `init` and afterwards only read.
///
/// Memory: `⌈bits / w⌉ · 2^w · limbs · 8` bytes — see ``byteCount``.
public final class FixedBaseTable: @unchecked Sendable {
    /// The context of the modulus.
    public let context: MontgomeryContext
    /// The largest exponent size in bits this table serves.
    public let exponentBits: Int
    /// The window width in bits.
    public let window: Int
    private let windows: Int
    private let limbs: Int
    private let entries: UnsafeMutablePointer<UInt64>
    private let entryCount: Int

    /// The memory the table occupies, in bytes.
    public var byteCount: Int { entryCount * limbs * 8 }

    /// Builds the table for `base` (in `1 ..< m`).
    ///
    /// Complexity: `⌈bits / w⌉ · 2^w` Montgomery products.
    public init(context: MontgomeryContext, base: BigNum, exponentBits: Int, window: Int = 6) throws(BigNumError) {
        precondition(window >= 1 && window <= 10, "window must be 1...10 bits")
        precondition(exponentBits >= 1)
        self.context = context
        self.exponentBits = exponentBits
        self.window = window
        self.windows = (exponentBits + window - 1) / window
        self.limbs = context.limbCount
        let rowSize = 1 << window
        self.entryCount = windows * rowSize
        self.entries = .allocate(capacity: entryCount * limbs)
        entries.initialize(repeating: 0, count: entryCount * limbs)

        let reducedBase = base.modulo(context.modulus)
        guard !reducedBase.isZero else { throw BigNumError(.invalidArgument, "table base must be non-zero mod m") }
        let mont = context.mont
        let limbs = self.limbs
        let entries = self.entries
        let one = BigNum(UInt64(1))
        defer { withExtendedLifetime((reducedBase, one)) {} }
        try withBNContext { ctx throws(BigNumError) in
            let cur = OpenSSLCall.mustSucceed(BN_new(), "BN_new")
            defer { BN_free(cur) }
            let step = OpenSSLCall.mustSucceed(BN_new(), "BN_new")
            defer { BN_free(step) }
            // step = base^(2^(w·i)) in Montgomery form, for i = 0.
            try OpenSSLCall.check(BN_to_montgomery(step, reducedBase.storage.bn, mont, ctx), "BN_to_montgomery")
            for i in 0..<windows {
                let row = entries + i * rowSize * limbs
                // j = 0: 1 in Montgomery form.
                try OpenSSLCall.check(BN_to_montgomery(cur, one.storage.bn, mont, ctx), "BN_to_montgomery")
                try Self.store(cur, row, limbs)
                for j in 1..<rowSize {
                    try OpenSSLCall.check(BN_mod_mul_montgomery(cur, cur, step, mont, ctx), "BN_mod_mul_montgomery")
                    try Self.store(cur, row + j * limbs, limbs)
                }
                // next step = step^(2^w) = cur · step.
                try OpenSSLCall.check(BN_mod_mul_montgomery(step, cur, step, mont, ctx), "BN_mod_mul_montgomery")
            }
        }
    }

    deinit { entries.deallocate() }

    private static func store(_ bn: OpaquePointer, _ dst: UnsafeMutablePointer<UInt64>, _ limbs: Int) throws(BigNumError) {
        let bytes = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: UInt8.self)
        try OpenSSLCall.check(BN_bn2lebinpad(bn, bytes, Int32(limbs * 8)), equals: Int32(limbs * 8), "BN_bn2lebinpad",
                              .internalFailure, "table entry does not fit")
        #if _endian(big)
        for k in 0..<limbs { dst[k] = UInt64(littleEndian: dst[k]) }
        #endif
    }

    /// `base^exponent mod m` in Montgomery form (`·R mod m`), ready for a single Montgomery product.
    ///
    /// - Precondition: `exponent` is non-negative and has at most ``exponentBits`` bits.
    public func powerMontgomery(_ exponent: BigNum) throws(BigNumError) -> BigNum {
        precondition(!exponent.isNegative && exponent.bitCount <= exponentBits, "exponent too large for this table")
        let out = BigNum(secret: true)
        let limbs = self.limbs
        let window = self.window
        let rowSize = 1 << window
        let digitMask = UInt64(rowSize - 1)
        // The exponent as little-endian 64-bit limbs, one spare limb so a digit may straddle a boundary.
        let expLimbs = (exponentBits + 63) / 64 + 1
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: limbs + expLimbs)
        scratch.initialize(repeating: 0, count: limbs + expLimbs)
        defer {
            // Wipe the exponent digits and the selected entry before freeing.
            for k in 0..<(limbs + expLimbs) { scratch[k] = 0 }
            OPENSSL_cleanse(scratch, (limbs + expLimbs) * 8)
            scratch.deallocate()
        }
        let expWords = scratch + limbs
        let selected = scratch
        let expBytes = UnsafeMutableRawPointer(expWords).assumingMemoryBound(to: UInt8.self)
        try OpenSSLCall.check(BN_bn2lebinpad(exponent.storage.bn, expBytes, Int32((expLimbs - 1) * 8)),
                              equals: Int32((expLimbs - 1) * 8), "BN_bn2lebinpad", .tooLarge, "exponent too large")
        #if _endian(big)
        for k in 0..<expLimbs { expWords[k] = UInt64(littleEndian: expWords[k]) }
        #endif

        try withBNContext(secret: true) { ctx throws(BigNumError) in
            let sel = OpenSSLCall.mustSucceed(BN_new(), "BN_new")
            defer { BN_clear_free(sel) }
            let acc = out.storage.bn
            for i in 0..<windows {
                // Digit i of the exponent: bits w·i ..< w·i + w (positions are public, values secret).
                let bitPos = i * window
                let word = bitPos >> 6, offset = UInt64(bitPos & 63)
                var digit = expWords[word] >> offset
                if offset + UInt64(window) > 64 { digit |= expWords[word + 1] << (64 - offset) }
                digit &= digitMask
                // Masked scan of the whole row.
                let row = UnsafePointer(entries + i * rowSize * limbs)
                for k in 0..<limbs { selected[k] = 0 }
                for j in 0..<rowSize {
                    let diff = UInt64(j) ^ digit
                    let mask = 0 &- ((diff &- 1) >> 63)  // all ones iff diff == 0
                    let entry = row + j * limbs
                    for k in 0..<limbs { selected[k] |= entry[k] & mask }
                }
                #if _endian(big)
                for k in 0..<limbs { selected[k] = selected[k].littleEndian }
                #endif
                let target = i == 0 ? acc : sel
                let selectedBytes = UnsafeRawPointer(selected).assumingMemoryBound(to: UInt8.self)
                try OpenSSLCall.check(BN_lebin2bn(selectedBytes, Int32(limbs * 8), target), "BN_lebin2bn")
                if i > 0 {
                    try OpenSSLCall.check(BN_mod_mul_montgomery(acc, acc, sel, context.mont, ctx),
                                          "BN_mod_mul_montgomery")
                }
            }
        }
        return out
    }

    /// `base^exponent mod m`.
    public func power(_ exponent: BigNum) throws(BigNumError) -> BigNum {
        let montValue = try powerMontgomery(exponent)
        let out = BigNum(secret: true)
        try withExtendedLifetime(montValue) { () throws(BigNumError) in
            try withBNContext { ctx throws(BigNumError) in
                try OpenSSLCall.check(BN_from_montgomery(out.storage.bn, montValue.storage.bn, context.mont, ctx),
                                      "BN_from_montgomery", .internalFailure, "Montgomery conversion failed")
            }
        }
        return out
    }
}
