import BigNum
public import VaultStatistics

extension DecryptedModel {
    /// The decrypted blocks as the statistics' input: ``Moments`` over the model's numeric variables (the response
    /// first) for the total, every level and every group, with the release's public counts.
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` when the formula does not parse or a sum does not fit 127
    ///   bits (not an EduVault release).
    public func sums() throws(AggregationError) -> ModelSums {
        let formula: ModelFormula
        do { formula = try ModelFormula.parse(release.model.formula) } catch {
            throw AggregationError(.invalidRelease, "the model release's formula: \(error.message)")
        }
        let numeric = release.numeric
        func product(_ i: Int, _ j: Int) -> String {
            switch (min(i, j), max(i, j)) {
            case (0, 0): return "y2"
            case (0, let b): return "xy:\(numeric[b])"
            case (let a, let b) where a == b: return "x2:\(numeric[a])"
            case (let a, let b): return "xx:\(numeric[a]):\(numeric[b])"
            }
        }
        func moments(_ block: Block) throws(AggregationError) -> Moments {
            var m = Moments(variableCount: numeric.count)
            m.n = block.count
            func value(_ name: String) throws(AggregationError) -> Int128 {
                guard let big = block.product(name), let v = Int128(big.decimalString) else {
                    throw AggregationError(.invalidRelease, "a block lacks the product \(name), or it is out of range")
                }
                return v
            }
            for i in numeric.indices { m.sums[i] = try value(i == 0 ? "y" : "x:\(numeric[i])") }
            var index = 0
            for i in numeric.indices {
                for j in i..<numeric.count {
                    m.products[index] = try value(product(i, j))
                    index += 1
                }
            }
            return m
        }
        var levelMoments: [[Moments]] = []
        for blocks in levels {
            var row: [Moments] = []
            for block in blocks { row.append(try moments(block)) }
            levelMoments.append(row)
        }
        var random: ModelSums.RandomGroups? = nil
        if let r = release.random {
            var groupMoments: [Moments] = []
            for block in groups { groupMoments.append(try moments(block)) }
            random = ModelSums.RandomGroups(
                name: r.name, groups: r.groups, moments: groupMoments,
                levelCounts: r.levelCounts)
        }
        return ModelSums(
            formula: formula, scale: release.scale, numeric: numeric,
            categorical: release.categorical.map { CategoricalTerm(name: $0.name, levels: $0.levels) },
            total: try moments(total), levels: levelMoments, pairCounts: release.pairCounts, random: random)
    }

    /// Fits the model from the decrypted sums (`VaultStatistics.ModelFit`): OLS with ANOVA, correlations, Hedges' g
    /// for the release's contrast, and the REML random-intercept model when the release has groups.
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` for unusable sums, `.decryption` when the statistics cannot
    ///   be computed from them (for example a singular design the counts did not show).
    public func fit() throws(AggregationError) -> ModelResult {
        let sums = try sums()
        do { return try ModelFit.fit(sums, contrast: release.model.contrast) } catch {
            throw AggregationError(.decryption, "the model cannot be fitted from this release: \(error.message)")
        }
    }
}
