/// Exact integer moments of a set of records over the numeric variables `[response, x_1 ... x_p]` (index 0 is the
/// response): the count, the sums and the sums of pairwise products.
///
/// These are exactly what the vault's homomorphic sums decrypt to. Laws: `Moments` form a commutative monoid under
/// ``+(_:_:)`` with `Moments(variableCount:)` as identity, and adding records one by one with ``add(_:)`` equals
/// summing the moments of any partition of them. Arithmetic traps on Int128 overflow (never reached by real data:
/// 2^127 is about 1.7e38).
public struct Moments: Sendable, Equatable, Codable {
    /// Number of records.
    public var n: Int
    /// `sums[i]` = Σ v_i over the records, for i in 0...p.
    public var sums: [Int128]
    /// Σ v_i v_j for i <= j, in row-major upper-triangle order: (0,0), (0,1) ... (0,p), (1,1) ... (p,p).
    public var products: [Int128]

    /// Zero moments for `variableCount` = p + 1 variables (the response included).
    ///
    /// - Precondition: `variableCount >= 1`.
    public init(variableCount: Int) {
        precondition(variableCount >= 1, "Moments need at least the response")
        n = 0
        sums = Array(repeating: 0, count: variableCount)
        products = Array(repeating: 0, count: variableCount * (variableCount + 1) / 2)
    }

    /// The number of variables p + 1 (the response included).
    public var variableCount: Int { sums.count }

    /// Adds one record: its values, `values.count == variableCount`.
    ///
    /// - Complexity: O(p²).
    public mutating func add(_ values: [Int128]) {
        precondition(values.count == sums.count, "a record needs one value per variable")
        n += 1
        var index = 0
        for i in values.indices {
            sums[i] += values[i]
            for j in i..<values.count {
                products[index] += values[i] * values[j]
                index += 1
            }
        }
    }

    /// The moments of the union of two disjoint record sets.
    ///
    /// - Precondition: both have the same `variableCount`.
    public static func + (a: Moments, b: Moments) -> Moments {
        precondition(a.sums.count == b.sums.count && a.products.count == b.products.count, "Moments of different shape")
        var result = a
        result.n += b.n
        for i in result.sums.indices { result.sums[i] += b.sums[i] }
        for i in result.products.indices { result.products[i] += b.products[i] }
        return result
    }

    /// Σ v_i v_j, for any order of `i` and `j`.
    public func product(_ i: Int, _ j: Int) -> Int128 {
        let (a, b) = i <= j ? (i, j) : (j, i)
        let count = sums.count
        // Row a of the upper triangle starts after rows 0..<a, which hold count, count-1, ... entries.
        return products[a * count - a * (a - 1) / 2 + (b - a)]
    }

    /// Whether the arrays have the lengths `variableCount` variables need.
    var isWellFormed: Bool {
        n >= 0 && !sums.isEmpty && products.count == sums.count * (sums.count + 1) / 2
    }

    private enum CodingKeys: String, CodingKey { case n, sums, products }

    /// Decodes `sums` and `products` from decimal strings (JSON numbers would lose precision).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        n = try container.decode(Int.self, forKey: .n)
        func integers(_ key: CodingKeys) throws -> [Int128] {
            try container.decode([String].self, forKey: key).map { text in
                guard let value = Int128(text) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: key, in: container, debugDescription: "not a decimal integer")
                }
                return value
            }
        }
        sums = try integers(.sums)
        products = try integers(.products)
        guard isWellFormed else {
            throw DecodingError.dataCorruptedError(
                forKey: .products, in: container, debugDescription: "products must hold (p+1)(p+2)/2 entries")
        }
    }

    /// Encodes `sums` and `products` as decimal strings.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(n, forKey: .n)
        try container.encode(sums.map { String($0) }, forKey: .sums)
        try container.encode(products.map { String($0) }, forKey: .products)
    }
}

/// A categorical term and its levels, sorted by Swift `String` `<`; the first level is the baseline of the treatment
/// coding (as patsy does), the others get one dummy column each.
public struct CategoricalTerm: Sendable, Equatable, Codable {
    /// The term's name as in the formula.
    public var name: String
    /// The levels, sorted ascending and distinct.
    public var levels: [String]

    /// Creates a term; sort `levels` first.
    public init(name: String, levels: [String]) {
        self.name = name
        self.levels = levels
    }
}

/// Everything one model release decrypts to: the exact fixed-point sums from which ``ModelFit`` computes the same
/// statistics statsmodels computes on the plaintext.
///
/// All values are fixed-point integers: real value = integer / 10^`scale`, the same scale for every numeric variable.
/// Dummy columns are 0/1 and need no scale.
public struct ModelSums: Sendable, Equatable, Codable {
    /// The model formula.
    public var formula: ModelFormula
    /// Decimal places of every numeric variable (0...18).
    public var scale: Int
    /// The numeric variables: `[response, numeric covariates in formula order]`; indexes of every ``Moments``.
    public var numeric: [String]
    /// The categorical terms, in formula order.
    public var categorical: [CategoricalTerm]
    /// Moments over all records used.
    public var total: Moments
    /// `levels[t][l]`: moments over the records in level `l` of categorical term `t`.
    public var levels: [[Moments]]
    /// `pairCounts[pair][la][lb]`: records with level `la` of term `a` and `lb` of term `b`, for the pairs of
    /// categorical terms a < b in the order (0,1), (0,2) ... (1,2) ...
    public var pairCounts: [[[Int]]]
    /// The per-group sums for a random-intercept model, when one is asked for.
    public var random: RandomGroups?

    /// The sums a random intercept (REML mixed model) needs beyond the fixed-effects sums.
    public struct RandomGroups: Sendable, Equatable, Codable {
        /// The grouping variable, e.g. `school`.
        public var name: String
        /// The groups, sorted ascending and distinct.
        public var groups: [String]
        /// Moments per group.
        public var moments: [Moments]
        /// `levelCounts[g][t][l]`: records of group `g` in level `l` of categorical term `t`.
        public var levelCounts: [[[Int]]]

        /// Creates the per-group sums.
        public init(name: String, groups: [String], moments: [Moments], levelCounts: [[[Int]]]) {
            self.name = name
            self.groups = groups
            self.moments = moments
            self.levelCounts = levelCounts
        }
    }

    /// Creates the sums of a model release.
    public init(
        formula: ModelFormula, scale: Int, numeric: [String], categorical: [CategoricalTerm], total: Moments,
        levels: [[Moments]], pairCounts: [[[Int]]], random: RandomGroups? = nil
    ) {
        self.formula = formula
        self.scale = scale
        self.numeric = numeric
        self.categorical = categorical
        self.total = total
        self.levels = levels
        self.pairCounts = pairCounts
        self.random = random
    }

    /// The index into ``pairCounts`` of categorical terms `a < b` among `count` terms.
    public static func pairIndex(_ a: Int, _ b: Int, count: Int) -> Int {
        precondition(a < b && b < count, "pairs are a < b < count")
        return a * count - a * (a + 1) / 2 + (b - a - 1)
    }
}
