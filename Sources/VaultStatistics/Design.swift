/// The design matrix X of a model, described by its columns, with its exact centered cross-products.
///
/// Columns in patsy's order: the Intercept, then the treatment dummies of the categorical terms (formula order,
/// levels after the baseline), then the numeric covariates (formula order). No entry of X is ever formed: every
/// cross-product comes from the sums. Centered products are exact: n · Σ(x_a − x̄_a)(x_b − x̄_b) = n Σ x_a x_b −
/// Σ x_a Σ x_b is an integer (Int128, overflow-checked), converted to Double once, so the fits lose no precision to
/// the fixed-point scale or to large means.
struct Design: Sendable {
    /// A non-intercept column: a treatment dummy or a numeric variable (an index into ``Moments``, 0 = response).
    enum Column: Sendable, Equatable { case dummy(term: Int, level: Int), numeric(Int) }

    let sums: ModelSums
    /// Number of records.
    let n: Int
    /// The non-intercept columns in order.
    let columns: [Column]
    /// Column names, Intercept first.
    let names: [String]
    /// Each term with its range in `columns`, in column order (categorical terms first, as patsy orders them).
    let terms: [(name: String, range: Range<Int>)]
    /// The response as a column.
    static let response = Column.numeric(0)
    /// 10^scale.
    let unit: Double

    /// Validates `sums` and lays out the columns.
    ///
    /// - Throws: ``StatisticsError`` when the sums are inconsistent with the formula or with each other.
    init(_ sums: ModelSums) throws(StatisticsError) {
        try Design.validate(sums)
        self.sums = sums
        n = sums.total.n
        var columns: [Column] = []
        var names = ["Intercept"]
        var terms: [(name: String, range: Range<Int>)] = []
        for (t, term) in sums.categorical.enumerated() {
            let start = columns.count
            for level in 1..<term.levels.count {
                columns.append(.dummy(term: t, level: level))
                names.append("\(term.name)[T.\(term.levels[level])]")
            }
            terms.append((term.name, start..<columns.count))
        }
        for index in 1..<sums.numeric.count {
            terms.append((sums.numeric[index], columns.count..<(columns.count + 1)))
            columns.append(.numeric(index))
            names.append(sums.numeric[index])
        }
        self.columns = columns
        self.names = names
        self.terms = terms
        var unit = 1.0
        for _ in 0..<sums.scale { unit *= 10 }
        self.unit = unit
    }

    /// Σ x over all records, in units of 10^-exponent.
    func rawSum(_ column: Column) -> Int128 {
        switch column {
        case .dummy(let t, let l): Int128(sums.levels[t][l].n)
        case .numeric(let i): sums.total.sums[i]
        }
    }

    /// Σ x_a x_b over all records, in units of 10^-(exponent a + exponent b).
    func rawProduct(_ a: Column, _ b: Column) -> Int128 {
        switch (a, b) {
        case (.numeric(let i), .numeric(let j)): sums.total.product(i, j)
        case (.dummy(let t, let l), .numeric(let i)), (.numeric(let i), .dummy(let t, let l)): sums.levels[t][l].sums[i]
        case (.dummy(let t, let l), .dummy(let u, let m)):
            if t == u {
                l == m ? Int128(sums.levels[t][l].n) : 0
            } else if t < u {
                Int128(sums.pairCounts[ModelSums.pairIndex(t, u, count: sums.categorical.count)][l][m])
            } else {
                Int128(sums.pairCounts[ModelSums.pairIndex(u, t, count: sums.categorical.count)][m][l])
            }
        }
    }

    /// The power of ten a column's integers carry.
    func exponent(_ column: Column) -> Int {
        if case .numeric = column { sums.scale } else { 0 }
    }

    /// 10^(exponent a + exponent b) as a Double: exact up to 10^22 (scale <= 11), within 1e-16 relative beyond.
    func unit(_ a: Column, _ b: Column) -> Double {
        (exponent(a) > 0 ? unit : 1) * (exponent(b) > 0 ? unit : 1)
    }

    /// n Σ x_a x_b − Σ x_a Σ x_b, exactly (n² times the centered cross-product, in integer units).
    func exactCentered(_ a: Column, _ b: Column) throws(StatisticsError) -> Int128 {
        try Exact.subtract(Exact.multiply(Int128(n), rawProduct(a, b)), Exact.multiply(rawSum(a), rawSum(b)))
    }

    /// Σ (x_a − x̄_a)(x_b − x̄_b) in real units.
    func centered(_ a: Column, _ b: Column) throws(StatisticsError) -> Double {
        Double(try exactCentered(a, b)) / Double(n) / unit(a, b)
    }

    /// x̄ in real units.
    func mean(_ column: Column) -> Double {
        Double(rawSum(column)) / Double(n) / (exponent(column) > 0 ? unit : 1)
    }

    /// What a column is, for messages: a dummy's level and term, or a variable's name.
    func describe(_ index: Int) -> String {
        switch columns[index] {
        case .dummy(let t, let l): "level `\(sums.categorical[t].levels[l])` of `\(sums.categorical[t].name)`"
        case .numeric(let i): "`\(sums.numeric[i])`"
        }
    }

    /// Checks the shapes and the internal consistency of the sums (level sums add up to the totals, pair counts to
    /// the level counts, group sums to the totals), so that sums from a buggy or tampered release are refused
    /// instead of fitted.
    static func validate(_ sums: ModelSums) throws(StatisticsError) {
        guard (0...18).contains(sums.scale) else { throw StatisticsError("scale must be 0 to 18 decimal places") }
        guard sums.numeric.first == sums.formula.response else {
            throw StatisticsError("the first numeric variable must be the response `\(sums.formula.response)`")
        }
        let numericTerms = sums.formula.terms.filter { sums.numeric.dropFirst().contains($0) }
        let categoricalTerms = sums.formula.terms.filter { term in sums.categorical.contains { $0.name == term } }
        guard Array(sums.numeric.dropFirst()) == numericTerms,
            sums.categorical.map(\.name) == categoricalTerms,
            numericTerms.count + categoricalTerms.count == sums.formula.terms.count
        else {
            throw StatisticsError(
                "every formula term must be exactly one numeric or categorical variable, listed in formula order")
        }
        let variables = sums.numeric.count
        func check(_ moments: Moments, _ what: String) throws(StatisticsError) {
            guard moments.isWellFormed, moments.variableCount == variables else {
                throw StatisticsError("\(what): moments must cover the \(variables) numeric variables")
            }
        }
        try check(sums.total, "total")
        guard sums.total.n > 0 else { throw StatisticsError("no records") }
        guard sums.levels.count == sums.categorical.count else {
            throw StatisticsError("level moments must be given for every categorical term")
        }
        for (t, term) in sums.categorical.enumerated() {
            guard term.levels.count >= 2 else {
                throw StatisticsError("categorical term `\(term.name)` needs at least two levels")
            }
            guard zip(term.levels, term.levels.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw StatisticsError("levels of `\(term.name)` must be sorted and distinct")
            }
            guard sums.levels[t].count == term.levels.count else {
                throw StatisticsError("level moments of `\(term.name)` must match its levels")
            }
            var union = Moments(variableCount: variables)
            for moments in sums.levels[t] {
                try check(moments, "levels of `\(term.name)`")
                union = try Exact.add(union, moments)
            }
            guard union == sums.total else {
                throw StatisticsError("level moments of `\(term.name)` do not add up to the total moments")
            }
        }
        let t = sums.categorical.count
        guard sums.pairCounts.count == t * (t - 1) / 2 else {
            throw StatisticsError("pair counts must be given for every pair of categorical terms")
        }
        for a in 0..<t {
            for b in (a + 1)..<max(t, a + 1) {
                let table = sums.pairCounts[ModelSums.pairIndex(a, b, count: t)]
                let rows = sums.levels[a].map(\.n)
                let columns = sums.levels[b].map(\.n)
                guard table.count == rows.count, table.allSatisfy({ $0.count == columns.count }),
                    table.allSatisfy({ $0.allSatisfy { $0 >= 0 } }),
                    table.map({ $0.reduce(0, +) }) == rows,
                    (0..<columns.count).map({ j in table.reduce(0) { $0 + $1[j] } }) == columns
                else {
                    throw StatisticsError(
                        "pair counts of `\(sums.categorical[a].name)` × `\(sums.categorical[b].name)` do not match "
                            + "the level counts")
                }
            }
        }
        if let random = sums.random {
            guard zip(random.groups, random.groups.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw StatisticsError("groups of `\(random.name)` must be sorted and distinct")
            }
            guard random.moments.count == random.groups.count, random.levelCounts.count == random.groups.count else {
                throw StatisticsError("moments and level counts must be given for every group of `\(random.name)`")
            }
            var union = Moments(variableCount: variables)
            var levelTotals = sums.categorical.map { [Int](repeating: 0, count: $0.levels.count) }
            for (g, moments) in random.moments.enumerated() {
                try check(moments, "groups of `\(random.name)`")
                union = try Exact.add(union, moments)
                let counts = random.levelCounts[g]
                guard counts.count == t,
                    zip(counts, sums.categorical).allSatisfy({ $0.count == $1.levels.count }),
                    counts.allSatisfy({ $0.allSatisfy { $0 >= 0 } && $0.reduce(0, +) == moments.n })
                else {
                    throw StatisticsError("level counts of a group of `\(random.name)` do not match its records")
                }
                for term in 0..<t {
                    for level in counts[term].indices { levelTotals[term][level] += counts[term][level] }
                }
            }
            guard union == sums.total, levelTotals == sums.levels.map({ $0.map(\.n) }) else {
                throw StatisticsError("group sums of `\(random.name)` do not add up to the totals")
            }
        }
    }
}

/// Overflow-checked Int128 arithmetic: an overflow is refused, never wrapped.
enum Exact {
    static let overflow = StatisticsError("the sums are too large for exact 128-bit arithmetic")

    static func multiply(_ a: Int128, _ b: Int128) throws(StatisticsError) -> Int128 {
        let (value, overflowed) = a.multipliedReportingOverflow(by: b)
        guard !overflowed else { throw overflow }
        return value
    }

    static func subtract(_ a: Int128, _ b: Int128) throws(StatisticsError) -> Int128 {
        let (value, overflowed) = a.subtractingReportingOverflow(b)
        guard !overflowed else { throw overflow }
        return value
    }

    static func sum(_ a: Int128, _ b: Int128) throws(StatisticsError) -> Int128 {
        let (value, overflowed) = a.addingReportingOverflow(b)
        guard !overflowed else { throw overflow }
        return value
    }

    /// a + b for moments of the same shape, overflow-checked.
    static func add(_ a: Moments, _ b: Moments) throws(StatisticsError) -> Moments {
        var result = a
        result.n += b.n
        for i in result.sums.indices { result.sums[i] = try sum(result.sums[i], b.sums[i]) }
        for i in result.products.indices { result.products[i] = try sum(result.products[i], b.products[i]) }
        return result
    }
}
