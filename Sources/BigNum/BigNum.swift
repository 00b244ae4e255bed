internal import COpenSSL

/// Owns one OpenSSL `BIGNUM` and frees it exactly once.
///
/// `@unchecked Sendable`: the handle is never mutated after the owning ``BigNum`` publishes it (every mutation
/// goes through `BigNum.mutate`, which copies unless the storage is uniquely referenced), so concurrent readers
/// only ever read.
final class BigNumStorage: @unchecked Sendable {
    let bn: OpaquePointer
    /// Secret values carry `BN_FLG_CONSTTIME` and are wiped with `BN_clear_free`.
    let isSecret: Bool

    init(bn: OpaquePointer, secret: Bool) {
        self.bn = bn
        self.isSecret = secret
        if secret { BN_set_flags(bn, BN_FLG_CONSTTIME) }
    }

    convenience init(secret: Bool) {
        self.init(bn: OpenSSLCall.mustSucceed(BN_new(), "BN_new"), secret: secret)
    }

    deinit {
        if isSecret { BN_clear_free(bn) } else { BN_free(bn) }
    }
}

/// An arbitrary-precision signed integer backed by OpenSSL's `BIGNUM`.
///
/// A value type with copy-on-write storage. Values created with `secret: true` (prime factors, λ, CRT exponents,
/// encryption noise) take OpenSSL's constant-time paths where OpenSSL offers them and are wiped when released.
///
/// Laws: `+` and `*` are commutative and associative; `(a / b) * b + a % b == a` for `b != 0` with truncated
/// division (OpenSSL's `BN_div`); ``modulo(_:)`` is always in `0 ..< m`.
///
/// Failures: operations whose failure depends on their input (decoding, an inverse, a modular exponentiation, the
/// random number generator) throw a ``BigNumError``. Operations that OpenSSL can fail only when it cannot allocate
/// memory (`+ - *`, shifts, modular products, conversions to text) stay non-throwing and stop the process with a
/// message naming the call — never a placeholder value; their argument preconditions (a non-zero divisor or
/// modulus) are the caller's to check, as for Swift's own integers. See `OpenSSLCall` and SECURITY.md.
public struct BigNum: Sendable {
    var storage: BigNumStorage

    init(storage: BigNumStorage) { self.storage = storage }

    /// Makes a new zero value; `secret` marks it constant-time and wipe-on-free.
    init(secret: Bool = false) { storage = BigNumStorage(secret: secret) }

    /// Whether the value is marked secret.
    public var isSecret: Bool { storage.isSecret }

    /// Borrow the underlying handle for reading.
    @inline(__always)
    func withBN<R, E: Error>(_ body: (OpaquePointer) throws(E) -> R) throws(E) -> R {
        try body(storage.bn)
    }

    /// A copy that is marked secret (constant-time flag, wiped on release).
    public func markedSecret() -> BigNum {
        let out = BigNum(secret: true)
        OpenSSLCall.mustSucceed(BN_copy(out.storage.bn, storage.bn), "BN_copy")
        BN_set_flags(out.storage.bn, BN_FLG_CONSTTIME)
        return out
    }

    /// The same value without the secret marking, for results that are public although computed from secrets
    /// (a ciphertext made with secret noise). `BN_copy` does not carry `BN_FLG_CONSTTIME` over.
    public func publicCopy() -> BigNum {
        guard isSecret else { return self }
        let out = BigNum()
        OpenSSLCall.mustSucceed(BN_copy(out.storage.bn, storage.bn), "BN_copy")
        return out
    }

    // MARK: - Construction

    /// A non-negative integer from a machine word.
    public init(_ value: UInt64) {
        self.init()
        OpenSSLCall.mustSucceed(BN_set_word(storage.bn, UInt(value)), "BN_set_word")
    }

    /// A signed integer from a machine word.
    public init(_ value: Int) {
        self.init(UInt64(value.magnitude))
        if value < 0 { BN_set_negative(storage.bn, 1) }
    }

    /// The longest big-endian encoding ``init(bigEndian:secret:)`` reads: 1 MiB (8 Mbit), far above any key or
    /// ciphertext (a 16384-bit modulus squared is 4 KiB), far below OpenSSL's own limit (64 MiB).
    public static let maxByteCount = 1 << 20

    /// A non-negative integer from big-endian bytes (leading zeros allowed).
    ///
    /// - Throws: ``BigNumError/Code/tooLarge`` beyond ``maxByteCount`` bytes; ``BigNumError/Code/internalFailure``
    ///   when OpenSSL cannot convert them.
    public init(bigEndian bytes: some Collection<UInt8>, secret: Bool = false) throws(BigNumError) {
        guard bytes.count <= Self.maxByteCount else {
            throw BigNumError(.tooLarge, "an integer of more than \(Self.maxByteCount) bytes")
        }
        self.init(secret: secret)
        let bn = storage.bn
        var result: OpaquePointer?? = bytes.withContiguousStorageIfAvailable { buffer in
            BN_bin2bn(buffer.baseAddress, Int32(buffer.count), bn)  // checked: below (count ≤ maxByteCount fits Int32)
        }
        if result == nil {
            let copy = Array(bytes)
            result = copy.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), bn) }  // checked: below
        }
        try OpenSSLCall.check(result ?? nil, "BN_bin2bn", .internalFailure, "could not read an integer")
        if secret { BN_set_flags(bn, BN_FLG_CONSTTIME) }
    }

    /// Parses a decimal integer: an optional `-` then one or more ASCII digits, nothing else.
    ///
    /// - Throws: ``BigNumError/Code/malformed`` for anything else (spaces, `+`, exponents, empty text).
    public init(decimal text: some StringProtocol) throws(BigNumError) {
        let utf8 = Array(text.utf8)
        let digits = utf8.first == UInt8(ascii: "-") ? utf8.dropFirst() : utf8[...]
        guard !digits.isEmpty, digits.count <= 100_000,
              digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { throw BigNumError(.malformed, "not a decimal integer") }
        var ptr: OpaquePointer? = nil
        // BN_dec2bn returns the number of characters it read: all of them (≤ 100001, fits Int32), or 0 on failure.
        let parsed = String(decoding: utf8, as: UTF8.self).withCString { BN_dec2bn(&ptr, $0) }  // checked: below
        do throws(BigNumError) {
            try OpenSSLCall.check(parsed, equals: Int32(utf8.count), "BN_dec2bn", .malformed, "not a decimal integer")
            let owned = try OpenSSLCall.check(ptr, "BN_dec2bn", .malformed, "not a decimal integer")
            self.init(storage: BigNumStorage(bn: owned, secret: false))
        } catch {
            if let ptr { BN_free(ptr) }
            throw error
        }
    }

    // MARK: - Export

    /// The magnitude as minimal big-endian bytes (empty for zero).
    public var bigEndianBytes: [UInt8] {
        let count = Int(eduvault_BN_num_bytes(storage.bn))
        var out = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return out }
        // Writes exactly `count` bytes into a buffer of that size; it has no failure but a wrong length.
        let written = out.withUnsafeMutableBufferPointer { BN_bn2bin(storage.bn, $0.baseAddress) }  // checked
        OpenSSLCall.mustSucceed(written == Int32(count) ? 1 : 0, "BN_bn2bin")
        return out
    }

    /// The magnitude as exactly `width` big-endian bytes, zero-padded on the left.
    ///
    /// - Throws: ``BigNumError/Code/tooLarge`` when the value needs more than `width` bytes.
    public func bigEndianBytes(width: Int) throws(BigNumError) -> [UInt8] {
        guard width >= 0, width <= Self.maxByteCount else {
            throw BigNumError(.tooLarge, "a width of \(width) bytes is out of range")
        }
        var out = [UInt8](repeating: 0, count: width)
        let written = out.withUnsafeMutableBufferPointer {
            BN_bn2binpad(storage.bn, $0.baseAddress, Int32(width))  // checked: below
        }
        try OpenSSLCall.check(written, equals: Int32(width), "BN_bn2binpad", .tooLarge,
                              "value does not fit in \(width) bytes")
        return out
    }

    /// Writes the magnitude as exactly `buffer.count` big-endian bytes; `false` when it does not fit.
    public func writeBigEndian(into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        guard buffer.count <= Self.maxByteCount else { return false }
        let base = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self)
        do throws(BigNumError) {
            try OpenSSLCall.check(BN_bn2binpad(storage.bn, base, Int32(buffer.count)), equals: Int32(buffer.count),
                                  "BN_bn2binpad", .tooLarge)
            return true
        } catch { return false }
    }

    /// The value in decimal, with a leading `-` when negative.
    ///
    /// `BN_bn2dec` fails only when OpenSSL cannot allocate the text; then the process stops (see ``BigNum``'s
    /// allocation policy) rather than print a placeholder where a number belongs.
    public var decimalString: String {
        let cstr = OpenSSLCall.mustSucceed(BN_bn2dec(storage.bn), "BN_bn2dec")
        defer { eduvault_OPENSSL_free(cstr) }
        return String(cString: cstr)
    }

    /// The value as an `Int`, or `nil` when it does not fit.
    public var intValue: Int? {
        guard bitCount <= 63 else { return nil }
        let magnitude = Int(BN_get_word(storage.bn))
        return isNegative ? -magnitude : magnitude
    }

    // MARK: - Inspection

    /// The number of significant bits of the magnitude (0 for zero).
    public var bitCount: Int { Int(BN_num_bits(storage.bn)) }
    /// The number of bytes of the magnitude.
    public var byteCount: Int { Int(eduvault_BN_num_bytes(storage.bn)) }
    public var isZero: Bool { BN_is_zero(storage.bn) == 1 }
    public var isOne: Bool { BN_is_one(storage.bn) == 1 }
    public var isOdd: Bool { BN_is_odd(storage.bn) == 1 }
    public var isNegative: Bool { BN_is_negative(storage.bn) == 1 }
    /// Whether bit `index` of the magnitude is set (`false` beyond the value, and for a negative index).
    public func bit(_ index: Int) -> Bool {
        guard index >= 0, index < bitCount else { return false }
        return BN_is_bit_set(storage.bn, Int32(index)) == 1
    }
}

// MARK: - Equality and order

extension BigNum: Equatable, Comparable, Hashable {
    public static func == (a: BigNum, b: BigNum) -> Bool { BN_cmp(a.storage.bn, b.storage.bn) == 0 }
    public static func < (a: BigNum, b: BigNum) -> Bool { BN_cmp(a.storage.bn, b.storage.bn) < 0 }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(isNegative)
        hasher.combine(bigEndianBytes)
    }
}

extension BigNum: CustomStringConvertible {
    /// Secret values never print.
    public var description: String { isSecret ? "BigNum(secret, \(bitCount) bits)" : decimalString }
}

extension BigNum: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self.init(value) }
}
