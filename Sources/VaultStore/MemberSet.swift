/// The compact encoding of a released cell's member set: record rowids sorted ascending, each stored as the
/// difference from the previous one (the first from 0) in unsigned LEB128 varints.
///
/// Law: `decode(encode(ids)) == ids` for every strictly increasing array of positive rowids.
public enum MemberSet {
    /// Encodes strictly increasing, positive rowids.
    ///
    /// - Throws: `StoreError.invalidRelease` if the ids are not strictly increasing or not positive.
    public static func encode(_ sortedRowIDs: [Int64]) throws(StoreError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(sortedRowIDs.count * 2)
        var previous: Int64 = 0
        for id in sortedRowIDs {
            guard id > previous else {
                throw StoreError(.invalidRelease, "member rowids must be positive and strictly increasing")
            }
            var delta = UInt64(id - previous)
            while delta >= 0x80 {
                out.append(UInt8(truncatingIfNeeded: delta) | 0x80)
                delta >>= 7
            }
            out.append(UInt8(delta))
            previous = id
        }
        return out
    }

    /// Decodes a member set.
    ///
    /// - Throws: `StoreError.invalidRelease` for a truncated or overlong encoding.
    public static func decode(_ bytes: some Collection<UInt8>) throws(StoreError) -> [Int64] {
        var ids: [Int64] = []
        var current: Int64 = 0
        var delta: UInt64 = 0
        var shift: UInt64 = 0
        var inProgress = false
        for byte in bytes {
            guard shift < 63 else { throw StoreError(.invalidRelease, "a member set has an overlong varint") }
            delta |= UInt64(byte & 0x7F) << shift
            inProgress = true
            if byte & 0x80 == 0 {
                guard delta > 0, delta <= UInt64(Int64.max - current) else {
                    throw StoreError(.invalidRelease, "a member set is not strictly increasing")
                }
                current += Int64(delta)
                ids.append(current)
                delta = 0
                shift = 0
                inProgress = false
            } else {
                shift += 7
            }
        }
        guard !inProgress else { throw StoreError(.invalidRelease, "a member set is truncated") }
        return ids
    }
}
