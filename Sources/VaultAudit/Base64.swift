/// Strict standard base64 (RFC 4648 §4), the encoding C2SP notes, checkpoints and verifier keys use.
///
/// Strict means: the standard alphabet only, `=` padding always present (length a multiple of 4), no whitespace or
/// line breaks, and the unused low bits of the last symbol zero — so every byte string has exactly one accepted
/// encoding, and an encoding that decodes always re-encodes to itself. (Go's `base64.StdEncoding`, which the
/// reference implementation uses, also accepts non-zero trailing bits; EduVault never writes them, and refuses them.)
enum StrictBase64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The value of each alphabet byte, 0xFF for bytes outside the alphabet.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    /// The padded encoding of `bytes`.
    ///
    /// Complexity: O(n).
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out += [
                alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)],
                alphabet[Int(n & 63)],
            ]
            i += 3
        }
        switch input.count - i {
        case 1:
            let n = UInt32(input[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        case 2:
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out += [
                alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)],
                UInt8(ascii: "="),
            ]
        default:
            break
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes `text` encodes, or nil unless it is strict base64 of at most `maxBytes` decoded bytes.
    ///
    /// Complexity: O(n); nothing is allocated before the length check.
    static func decode(_ text: Substring, maxBytes: Int) -> [UInt8]? {
        let utf8 = text.utf8
        let length = utf8.count
        guard length % 4 == 0, length / 4 * 3 <= maxBytes + 2 else { return nil }
        guard length > 0 else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity(length / 4 * 3)
        var quad = [UInt8](repeating: 0, count: 4)
        var index = utf8.startIndex
        var consumed = 0
        while index != utf8.endIndex {
            for k in 0..<4 {
                quad[k] = utf8[index]
                index = utf8.index(after: index)
            }
            consumed += 4
            let last = consumed == length
            let pad = quad[3] == UInt8(ascii: "=") ? (quad[2] == UInt8(ascii: "=") ? 2 : 1) : 0
            guard pad == 0 || last else { return nil }
            var n: UInt32 = 0
            for k in 0..<(4 - pad) {
                let v = values[Int(quad[k])]
                guard v != 0xFF else { return nil }
                n |= UInt32(v) << (18 - 6 * UInt32(k))
            }
            switch pad {
            case 0:
                out += [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
            case 1:
                guard n & 0xFF == 0 else { return nil }  // non-canonical trailing bits
                out += [UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF)]
            default:
                guard n & 0xFFFF == 0 else { return nil }
                out.append(UInt8(n >> 16 & 0xFF))
            }
        }
        guard out.count <= maxBytes else { return nil }
        return out
    }
}
