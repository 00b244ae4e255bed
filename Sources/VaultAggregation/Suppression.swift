public import VaultStore

/// Disclosure control for one release: which cells to withhold and why. Pure functions over cell keys, counts and
/// atom sets, so they are tested on their own. (``LinearAudit`` is the rule that reasons across releases.)
public enum Suppression {
    /// Rule ids, as `Policies/default.yaml` names them.
    public static let kMin = "K-MIN"
    public static let complementary = "COMP-SUPP"
    public static let differencing = "DIFF-GUARD"
    public static let linearAudit = "LIN-AUDIT"

    /// A candidate cell: its values for each grouping attribute, its atoms (sorted ids) and record count.
    public struct Candidate: Sendable {
        public var values: [String]
        public var atoms: [Int64]
        public var count: Int
        public init(values: [String], atoms: [Int64], count: Int) {
            self.values = values
            self.atoms = atoms
            self.count = count
        }
    }

    /// K-MIN: cells with fewer than `k` records (and at least one) are withheld.
    public static func primary(_ cells: [Candidate], k: Int) -> [Int: String] {
        var out: [Int: String] = [:]
        for (i, c) in cells.enumerated() where c.count < k { out[i] = kMin }
        return out
    }

    /// COMP-SUPP: complementary suppression. For every grouping attribute, cells that agree on all the other
    /// attributes are siblings whose sum is a marginal total someone may know (from another query, or a query with
    /// fewer attributes). In each sibling group with any withheld cell, withhold further siblings — smallest first —
    /// until at least two are withheld and together they hold at least `k` records, so no withheld cell equals a
    /// known total minus released cells. Repeats over all attributes until nothing changes.
    public static func complementary(_ cells: [Candidate], suppressed: [Int: String], k: Int) -> [Int: String] {
        var out = suppressed
        guard let width = cells.first?.values.count else { return out }
        var changed = true
        while changed {
            changed = false
            for dim in 0..<max(width, 1) {
                var groups: [[String]: [Int]] = [:]
                for (i, c) in cells.enumerated() {
                    var key = c.values
                    if dim < key.count { key.remove(at: dim) }
                    groups[key, default: []].append(i)
                }
                for (_, members) in groups {
                    let withheld = members.filter { out[$0] != nil }
                    guard !withheld.isEmpty else { continue }
                    var withheldCount = withheld.reduce(0) { $0 + cells[$1].count }
                    var withheldCells = withheld.count
                    let candidates = members.filter { out[$0] == nil }.sorted { (cells[$0].count, $0) < (cells[$1].count, $1) }
                    for next in candidates where withheldCells < 2 || withheldCount < k {
                        out[next] = complementary
                        withheldCount += cells[next].count
                        withheldCells += 1
                        changed = true
                    }
                }
            }
        }
        return out
    }

    /// DIFF-GUARD: the number of records in the symmetric difference of two cells given as sorted atom lists,
    /// stopping early once it reaches `limit` (O(|a| + |b|)). `size` gives each atom's records.
    public static func symmetricDifference(_ a: [Int64], _ b: [Int64], size: (Int64) -> Int, limit: Int) -> Int {
        var i = 0, j = 0, diff = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] {
                i += 1
                j += 1
            } else if a[i] < b[j] {
                diff += size(a[i])
                i += 1
            } else {
                diff += size(b[j])
                j += 1
            }
            if diff >= limit { return diff }
        }
        while i < a.count && diff < limit {
            diff += size(a[i])
            i += 1
        }
        while j < b.count && diff < limit {
            diff += size(b[j])
            j += 1
        }
        return diff
    }

    /// Whether a new cell differs from an earlier released one by 1 … k−1 records.
    public static func isDifferencing(_ new: Candidate, _ earlier: ReleaseCell, size: (Int64) -> Int, k: Int) -> Bool {
        guard abs(new.count - earlier.recordCount) < k else { return false }
        let d = symmetricDifference(new.atoms, earlier.atoms, size: size, limit: k)
        return d >= 1 && d < k
    }
}
