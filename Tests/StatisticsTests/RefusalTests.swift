import Foundation
import Testing
import VaultStatistics

/// Every model the data cannot support is refused with a typed, one-line error, never a NaN or a plausible number.
@Suite("Refusals")
struct RefusalTests {
    /// A small data set: y, x, a covariate z, a categorical g (3 levels), a two-level h.
    static let small = Dataset(
        csv: """
            y,x,z,g,h,k
            3,1,4,a,p,s1
            5,2,1,b,q,s1
            4,3,5,c,p,s1
            8,4,1,a,q,s2
            7,5,5,b,p,s2
            9,6,9,c,q,s2
            12,7,2,a,p,s3
            10,8,6,b,q,s3
            13,9,5,c,p,s3
            14,10,3,a,q,s3
            """)

    static func refusal(
        _ dataset: Dataset, _ formula: String, random: String? = nil, contrast: String? = nil,
        declaredLevels: [String: [String]] = [:]
    ) throws -> String {
        let sums = try dataset.sums(formula, scale: 0, random: random, declaredLevels: declaredLevels)
        do {
            let result = try ModelFit.fit(sums, contrast: contrast)
            Issue.record("not refused: \(result.model)")
            return ""
        } catch {
            #expect(!error.message.contains("\n"))
            return error.message
        }
    }

    @Test("a formula outside main effects `response ~ a + b` is refused", arguments: [
        "score", "score ~", "~ a", "score ~ a ~ b", "score ~ a*b", "score ~ a:b", "score ~ log(a)", "score ~ a - 1",
        "score ~ 0 + a", "score ~ 1", "score ~ a + a", "score ~ score", "Score ~ a", "score ~ a +", "score ~ + a",
        "score ~ .", "score ~ I(a^2)", "score ~ a / b", "score ~ a | b", "score ~ \(String(repeating: "a", count: 33))",
        "score ~ a\tb", "score ~ é",
    ])
    func badFormula(_ text: String) {
        #expect(throws: StatisticsError.self) { try ModelFormula.parse(text) }
    }

    @Test("formulas parse to their canonical text")
    func goodFormula() throws {
        let formula = try ModelFormula.parse("  score~sex +  prior_score+ region-2  ")
        #expect(formula.response == "score")
        #expect(formula.terms == ["sex", "prior_score", "region-2"])
        #expect(formula.text == "score ~ sex + prior_score + region-2")
        #expect(try ModelFormula.parse(formula.text) == formula)
        let data = try JSONEncoder().encode(formula)
        #expect(try JSONDecoder().decode(ModelFormula.self, from: data) == formula)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ModelFormula.self, from: Data(#"{"response":"y","terms":["a*b"]}"#.utf8))
        }
    }

    @Test("a dummy level with no records: X'X singular")
    func emptyLevel() throws {
        let message = try Self.refusal(Self.small, "y ~ g + x", declaredLevels: ["g": ["d"]])
        #expect(message.contains("level `d` of `g` has no records"))
    }

    @Test("collinear covariates: X'X singular")
    func collinear() throws {
        var data = Self.small
        data.header.append("w")
        for i in data.rows.indices { data.rows[i].append(String(2 * Int(data.rows[i][1])! + 1)) }
        let message = try Self.refusal(data, "y ~ x + w")
        #expect(message.contains("`w` is a linear combination"), "\(message)")
    }

    @Test("a categorical term determined by another (school-level term and school): X'X singular")
    func collinearCategorical() throws {
        var data = Self.small
        data.header.append("sector")
        for i in data.rows.indices { data.rows[i].append(data.rows[i][5] == "s1" ? "public" : "private") }
        let message = try Self.refusal(data, "y ~ k + sector + x")
        #expect(message.contains("collinear"), "\(message)")
    }

    @Test("a constant covariate: X'X singular")
    func constantCovariate() throws {
        var data = Self.small
        data.header.append("c")
        for i in data.rows.indices { data.rows[i].append("7") }
        let message = try Self.refusal(data, "y ~ x + c")
        #expect(message.contains("`c` is constant"), "\(message)")
    }

    @Test("a constant response")
    func constantResponse() throws {
        var data = Self.small
        for i in data.rows.indices { data.rows[i][0] = "5" }
        let message = try Self.refusal(data, "y ~ x + h")
        #expect(message.contains("response `y` is constant"), "\(message)")
    }

    @Test("saturated: no more records than columns (df_resid < 1)")
    func saturated() throws {
        let data = Dataset(csv: "y,x,g\n1,1,a\n2,5,b\n4,2,c\n")
        let message = try Self.refusal(data, "y ~ g + x")
        #expect(message.contains("3 records for 4 model columns"), "\(message)")
        let exact = Dataset(csv: "y,x,g\n1,1,a\n2,5,b\n4,2,c\n7,4,a\n")
        #expect(try Self.refusal(exact, "y ~ g + x").contains("4 records for 4 model columns"))
    }

    @Test("a perfect fit has no residual variance")
    func perfectFit() throws {
        var data = Self.small
        for i in data.rows.indices { data.rows[i][0] = String(3 * Int(data.rows[i][1])! - 2) }
        #expect(try Self.refusal(data, "y ~ x + h").contains("fits the response exactly"))
    }

    @Test("Hedges' g needs a categorical term with exactly two levels")
    func contrast() throws {
        #expect(try Self.refusal(Self.small, "y ~ g + x", contrast: "g").contains("has 3 levels"))
        #expect(try Self.refusal(Self.small, "y ~ g + x", contrast: "x").contains("not a categorical term"))
        #expect(try Self.refusal(Self.small, "y ~ g + x", contrast: "h").contains("not a categorical term"))
        let result = try ModelFit.fit(try Self.small.sums("y ~ h + x", scale: 0), contrast: "h")
        #expect(result.hedgesG?.levels == ["p", "q"])
    }

    @Test("a random intercept needs two groups")
    func oneGroup() throws {
        var data = Self.small
        for i in data.rows.indices { data.rows[i][5] = "s1" }
        #expect(try Self.refusal(data, "y ~ x", random: "k").contains("at least 2 groups"))
    }

    @Test("a random intercept for groups a fixed term identifies is not identifiable")
    func confounded() throws {
        #expect(try Self.refusal(Self.small, "y ~ k + x", random: "k").contains("not identifiable"))
    }

    @Test("inconsistent sums (a tampered or buggy release) are refused before fitting")
    func inconsistent() throws {
        let good = try Self.small.sums("y ~ g + h + x", scale: 0, random: "k")
        _ = try ModelFit.fit(good)
        var sums = good
        sums.total.sums[0] += 1
        #expect(throws: StatisticsError("level moments of `g` do not add up to the total moments")) {
            try ModelFit.fit(sums)
        }
        sums = good
        sums.pairCounts[0][0][0] += 1
        #expect(throws: StatisticsError.self) { try ModelFit.fit(sums) }
        sums = good
        sums.random?.levelCounts[0][0][0] += 1
        #expect(throws: StatisticsError.self) { try ModelFit.fit(sums) }
        sums = good
        sums.numeric = ["y", "z"]
        #expect(throws: StatisticsError.self) { try ModelFit.fit(sums) }
        sums = good
        sums.categorical[0].levels.swapAt(0, 1)
        #expect(throws: StatisticsError.self) { try ModelFit.fit(sums) }
        sums = good
        sums.scale = 40
        #expect(throws: StatisticsError.self) { try ModelFit.fit(sums) }
    }

    @Test("sums beyond exact 128-bit arithmetic are refused, not wrapped")
    func overflow() throws {
        let big = "6000000000000000000"
        let data = Dataset(csv: "y,x\n\(big),1\n\(big)0,2\n1,3\n2,5\n".replacingOccurrences(of: "\(big)0", with: big))
        #expect(try Self.refusal(data, "y ~ x").contains("too large"))
    }
}
