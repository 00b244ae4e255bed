import VaultStatistics

/// The checks `ModelRelease.decode` makes beyond the JSON shape, so that a model release that decodes is one
/// EduVault could have written: sizes bounded, counts consistent between the total, the levels, the pairs of levels
/// and the groups, every product the model needs present exactly once in the layout.
extension ModelRelease {
    /// The largest model release file read.
    public static let maxFileBytes = 64 << 20
    /// The most categorical levels of one term, random groups, and blocks in all.
    public static let maxLevels = 1_000
    public static let maxGroups = 20_000
    public static let maxBlocks = 40_000
    /// The most packed ciphertexts per record, and slots per ciphertext.
    public static let maxCiphertexts = 64
    public static let maxSlots = 64
    /// The most terms of a model.
    public static let maxTerms = 64
    /// The largest record count a release may state (far above any vault).
    public static let maxCount = 1 << 40

    /// The product names a layout may hold for the model's numeric variables (response first): `y`, `y2`, `x:v`,
    /// `x2:v`, `xy:v`, and `xx:v:w` for each pair (in either order).
    static func requiredProducts(numeric: [String]) -> [[String]] {
        let covariates = numeric.dropFirst()
        var names: [[String]] = [["y"], ["y2"]]
        for (i, v) in covariates.enumerated() {
            names += [["x:\(v)"], ["x2:\(v)"], ["xy:\(v)"]]
            for w in covariates.dropFirst(i + 1) { names.append(["xx:\(v):\(w)", "xx:\(w):\(v)"]) }
        }
        return names
    }

    /// Checks the release's internal consistency.
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` naming what is inconsistent (never a value).
    public func validate() throws(AggregationError) {
        func fail(_ message: String) -> AggregationError {
            AggregationError(.invalidRelease, "model release: \(message)")
        }
        guard [id, vault, keyID, created].allSatisfy({ !$0.isEmpty && $0.utf8.count <= 200 }) else {
            throw fail("an identifier field is empty or too long")
        }
        guard (0...6).contains(scale), logIndex >= 1 else {
            throw fail("the scale or log index is not one EduVault writes")
        }

        // The layout.
        guard (8...1024).contains(layout.slotBits), (1...Self.maxSlots).contains(layout.slotsPerCiphertext),
            (1...Self.maxCiphertexts).contains(layout.ciphertextCount),
            layout.slotBits * layout.slotsPerCiphertext <= 16_384,
            !layout.products.isEmpty, layout.products.count <= layout.slotsPerCiphertext * layout.ciphertextCount
        else { throw fail("the slot layout is not one EduVault writes") }
        var productNames = Set<String>()
        var locations = Set<Int>()
        for product in layout.products {
            guard Self.isProductName(product.name), productNames.insert(product.name).inserted else {
                throw fail("the layout names a product twice or names an unknown product")
            }
            guard (0..<layout.ciphertextCount).contains(product.ciphertext),
                (0..<layout.slotsPerCiphertext).contains(product.slot),
                locations.insert(product.ciphertext * layout.slotsPerCiphertext + product.slot).inserted
            else { throw fail("two products share a slot, or a product lies outside the layout") }
        }

        // The model: formula, numeric and categorical terms.
        let formula = try ModelSpec.parseFormula(model.formula)
        guard formula.response == "score", numeric.first == "score" else { throw fail("the response is not score") }
        guard numeric.count <= Self.maxTerms + 1, categorical.count <= Self.maxTerms,
            Set(numeric).count == numeric.count, Set(categorical.map(\.name)).count == categorical.count,
            Set(numeric).isDisjoint(with: categorical.map(\.name)),
            Set(formula.terms) == Set(numeric.dropFirst()).union(categorical.map(\.name)),
            formula.terms.count == numeric.count - 1 + categorical.count
        else { throw fail("the numeric and categorical terms do not match the formula") }
        for names in Self.requiredProducts(numeric: numeric) where !names.contains(where: productNames.contains) {
            throw fail("the layout lacks a product the model needs")
        }
        for term in categorical {
            guard (2...Self.maxLevels).contains(term.levels.count),
                zip(term.levels, term.levels.dropFirst()).allSatisfy({ $0 < $1 }),
                term.levels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 64 })
            else { throw fail("a categorical term has fewer than two levels, too many, or levels out of order") }
        }
        if let contrast = model.contrast {
            guard let term = categorical.first(where: { $0.name == contrast }), term.levels.count == 2 else {
                throw fail("the contrast is not a two-level categorical term of the model")
            }
        }
        guard model.random == random?.name else { throw fail("the random effect does not match the model") }
        guard model.filters.count <= 64,
            model.filters.allSatisfy({ $0.key.utf8.count <= 64 && $0.value.utf8.count <= 64 })
        else { throw fail("the filters are too long") }

        // Blocks and counts.
        let blockCount = 1 + levels.reduce(0) { $0 + $1.count } + (random?.blocks.count ?? 0)
        guard blockCount <= Self.maxBlocks else { throw fail("more than \(Self.maxBlocks) blocks") }
        func check(_ block: Block) throws(AggregationError) {
            guard (1...Self.maxCount).contains(block.count) else {
                throw fail("a block's record count is out of range")
            }
            guard block.sums.count == layout.ciphertextCount else {
                throw fail("a block does not carry one sum per ciphertext of the layout")
            }
            for sum in block.sums {
                let digits = sum.utf8
                guard !digits.isEmpty, digits.count <= Release.maxSumDigits,
                    digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                    digits.first != UInt8(ascii: "0") || digits.count == 1
                else { throw fail("a block sum is not a canonical decimal ciphertext") }
            }
        }
        try check(total)
        guard levels.count == categorical.count else { throw fail("the levels do not match the categorical terms") }
        for (term, blocks) in zip(categorical, levels) {
            guard blocks.count == term.levels.count else { throw fail("a term's level blocks do not match its levels") }
            var sum = 0
            for block in blocks {
                try check(block)
                sum += block.count
            }
            guard sum == total.count else { throw fail("a term's level counts do not add up to the total") }
        }
        let t = categorical.count
        guard pairCounts.count == t * (t - 1) / 2 else { throw fail("the pair counts do not match the terms") }
        var pair = 0
        for a in 0..<t {
            for b in (a + 1)..<max(a + 1, t) {
                let table = pairCounts[pair]
                pair += 1
                let rows = levels[a].map(\.count)
                let columns = levels[b].map(\.count)
                guard table.count == rows.count, table.allSatisfy({ $0.count == columns.count }),
                    table.allSatisfy({ $0.allSatisfy { (0...Self.maxCount).contains($0) } }),
                    table.map({ $0.reduce(0, +) }) == rows,
                    (0..<columns.count).map({ j in table.reduce(0) { $0 + $1[j] } }) == columns
                else { throw fail("a table of pair counts does not add up to its terms' level counts") }
            }
        }
        if let random {
            guard ModelSpec.isName(random.name), !categorical.contains(where: { $0.name == random.name }),
                (1...Self.maxGroups).contains(random.groups.count), random.blocks.count == random.groups.count,
                zip(random.groups, random.groups.dropFirst()).allSatisfy({ $0 < $1 }),
                random.groups.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 64 }),
                random.levelCounts.count == random.groups.count
            else { throw fail("the random groups are inconsistent") }
            var sum = 0
            var perLevel = levels.map { [Int](repeating: 0, count: $0.count) }
            for (block, counts) in zip(random.blocks, random.levelCounts) {
                try check(block)
                sum += block.count
                guard counts.count == t else { throw fail("a group's level counts do not match the terms") }
                for (i, row) in counts.enumerated() {
                    guard row.count == levels[i].count, row.allSatisfy({ (0...Self.maxCount).contains($0) }),
                        row.reduce(0, +) == block.count
                    else { throw fail("a group's level counts do not add up to its records") }
                    for (j, c) in row.enumerated() { perLevel[i][j] += c }
                }
            }
            guard sum == total.count, perLevel == levels.map({ $0.map(\.count) }) else {
                throw fail("the groups' counts do not add up to the total and the levels")
            }
        }
    }

    /// `y`, `y2`, `x:v`, `x2:v`, `xy:v` or `xx:v:w` with identifier names.
    static func isProductName(_ name: String) -> Bool {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.first {
        case "y", "y2": return parts.count == 1
        case "x", "x2", "xy": return parts.count == 2 && ModelSpec.isName(parts[1])
        case "xx":
            return parts.count == 3 && ModelSpec.isName(parts[1]) && ModelSpec.isName(parts[2])
                && parts[1] != parts[2]
        default: return false
        }
    }
}
