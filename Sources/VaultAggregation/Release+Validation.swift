/// The checks `Release.decode` makes beyond the JSON shape, so that a release that decodes is one EduVault could
/// have written: its cells and withheld cells are consistent with its query and with each other.
extension Release {
    /// The most cells (released plus withheld) a release may list: far above any query a policy allows.
    public static let maxCells = 100_000
    /// The longest decimal ciphertext a cell may carry: n² of the largest key EduVault accepts (8192 bits) has
    /// 4,933 digits.
    public static let maxSumDigits = 5_000

    /// Checks the release's internal consistency.
    ///
    /// - Every cell — released or withheld — is keyed by exactly the query's cell attributes (`by` plus the
    ///   contrast), and no two cells have the same key.
    /// - Every released cell counts at least one record, and the counts add up without overflow.
    /// - Every released sum is a canonical non-negative decimal of at most ``maxSumDigits`` digits; every withheld
    ///   cell names the rule that withheld it.
    /// - The query names each attribute once and does not contrast an attribute it also groups by.
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` naming what is inconsistent (never a value).
    public func validate() throws(AggregationError) {
        func fail(_ message: String) -> AggregationError { AggregationError(.invalidRelease, message) }
        let attributes = query.cellAttributes
        guard Set(attributes).count == attributes.count else {
            throw fail("the release's query names an attribute twice")
        }
        guard cells.count <= Self.maxCells, suppressed.count <= Self.maxCells - cells.count else {
            throw fail("the release lists more than \(Self.maxCells) cells")
        }
        let expected = Set(attributes)
        var keys = Set<[String]>()
        var total = 0
        for cell in cells {
            guard Set(cell.by.keys) == expected else {
                throw fail("a released cell is not keyed by the query's attributes")
            }
            guard keys.insert(attributes.map { cell.by[$0] ?? "" }).inserted else {
                throw fail("two cells of the release have the same attribute values")
            }
            guard cell.count >= 1 else { throw fail("a released cell has no records") }
            let (sum, overflow) = total.addingReportingOverflow(cell.count)
            guard !overflow else { throw fail("the release's cell counts overflow") }
            total = sum
            let digits = cell.sum.utf8
            guard !digits.isEmpty, digits.count <= Self.maxSumDigits,
                  digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  digits.first != UInt8(ascii: "0") || digits.count == 1
            else { throw fail("a released sum is not a canonical decimal ciphertext") }
        }
        for cell in suppressed {
            guard Set(cell.by.keys) == expected else {
                throw fail("a withheld cell is not keyed by the query's attributes")
            }
            guard keys.insert(attributes.map { cell.by[$0] ?? "" }).inserted else {
                throw fail("two cells of the release have the same attribute values")
            }
            guard !cell.rule.isEmpty else { throw fail("a withheld cell names no rule") }
        }
    }
}
