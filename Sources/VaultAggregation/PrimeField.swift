/// Arithmetic modulo a prime p < 2^62: the exact field the linear audit computes ranks in (no floating point).
///
/// Elements are `UInt64` values in `0 ..< p`. Products use the full 128-bit product and one hardware division.
struct PrimeField: Sendable, Equatable {
    /// The modulus (a prime, 2^61 < p < 2^62).
    let p: UInt64

    init(_ p: UInt64) {
        precondition(p > 2 && p < 1 << 62, "the audit prime must lie below 2^62")
        self.p = p
    }

    /// Arithmetic modulo any odd m > 2 (for the primality test; `add` needs m < 2^63).
    private init(anyOddModulus m: UInt64) { p = m }

    @inline(__always) func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let s = a &+ b  // < 2^63: no wrap
        return s >= p ? s &- p : s
    }

    @inline(__always) func sub(_ a: UInt64, _ b: UInt64) -> UInt64 { a >= b ? a &- b : a &+ (p &- b) }

    @inline(__always) func neg(_ a: UInt64) -> UInt64 { a == 0 ? 0 : p &- a }

    @inline(__always) func mul(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let wide = a.multipliedFullWidth(by: b)
        return p.dividingFullWidth((wide.high, wide.low)).remainder  // high < p, so the quotient fits
    }

    func pow(_ base: UInt64, _ exponent: UInt64) -> UInt64 {
        var result: UInt64 = 1, b = base % p, e = exponent
        while e > 0 {
            if e & 1 == 1 { result = mul(result, b) }
            b = mul(b, b)
            e >>= 1
        }
        return result
    }

    /// The inverse of a non-zero element (extended Euclid; all values stay below p < 2^62, so Int64 suffices).
    func inverse(_ a: UInt64) -> UInt64 {
        precondition(a != 0 && a < p, "zero has no inverse")
        var (r0, r1) = (Int64(p), Int64(a))
        var (t0, t1): (Int64, Int64) = (0, 1)
        while r1 != 0 {
            let q = r0 / r1
            (r0, r1) = (r1, r0 - q * r1)
            (t0, t1) = (t1, t0 - q * t1)
        }
        return t0 < 0 ? UInt64(t0 + Int64(p)) : UInt64(t0)
    }

    /// Whether `n` is prime (deterministic Miller–Rabin for 64-bit integers).
    static func isPrime(_ n: UInt64) -> Bool {
        if n < 2 { return false }
        for small: UInt64 in [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
            if n % small == 0 { return n == small }
        }
        var d = n - 1, s = 0
        while d & 1 == 0 {
            d >>= 1
            s += 1
        }
        let field = PrimeField(anyOddModulus: n)
        witnesses: for a: UInt64 in [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37] {
            var x = field.pow(a, d)
            if x == 1 || x == n - 1 { continue }
            for _ in 0..<max(0, s - 1) {
                x = field.mul(x, x)
                if x == n - 1 { continue witnesses }
            }
            return false
        }
        return true
    }
}
