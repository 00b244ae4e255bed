internal import COpenSSL

/// Random bytes from OpenSSL's CSPRNG — the only source of randomness in EduVault.
public enum SecureRandom {
    /// Returns `count` bytes from `RAND_priv_bytes`.
    ///
    /// - Throws: ``PrimitivesError/Code/randomnessUnavailable`` when OpenSSL cannot seed itself.
    public static func bytes(_ count: Int) throws(PrimitivesError) -> [UInt8] {
        precondition(count >= 0 && count <= Int(Int32.max), "byte count out of range")
        var out = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return out }
        let drawn = out.withUnsafeMutableBufferPointer {
            RAND_priv_bytes($0.baseAddress, Int32(count))  // checked: below
        }
        try OpenSSLCall.check(drawn, "RAND_priv_bytes", .randomnessUnavailable,
                              "the system random number generator is unavailable")
        return out
    }
}

/// Compares two byte sequences in time that depends only on their lengths.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}

/// Overwrites the bytes with zeros in a way the optimiser may not remove (`OPENSSL_cleanse`).
public func secureWipe(_ bytes: inout [UInt8]) {
    let count = bytes.count
    bytes.withUnsafeMutableBytes { buffer in
        if let base = buffer.baseAddress { OPENSSL_cleanse(base, count) }
    }
}
