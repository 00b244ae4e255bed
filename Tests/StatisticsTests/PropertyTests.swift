import Foundation
import Testing
import VaultStatistics

/// The laws the types promise, over deterministic pseudo-random inputs.
@Suite("Laws")
struct PropertyTests {
    /// SplitMix64: deterministic and good enough for test inputs.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func value(_ bound: Int64) -> Int128 { Int128(Int64(next() % UInt64(2 * bound + 1)) - bound) }
    }

    @Test("adding records one by one equals summing the moments of any partition; + is a commutative monoid",
          arguments: [1, 2, 3, 4])
    func momentsMonoid(_ seed: UInt64) {
        var random = Generator(state: seed)
        let variables = Int(1 + random.next() % 5)
        let records = (0..<60).map { _ in (0..<variables).map { _ in random.value(1_000_000_000) } }
        var all = Moments(variableCount: variables)
        var parts = [Moments](repeating: Moments(variableCount: variables), count: 3)
        for record in records {
            all.add(record)
            parts[Int(random.next() % 3)].add(record)
        }
        #expect(parts[0] + parts[1] + parts[2] == all)
        #expect(parts[2] + parts[0] + parts[1] == all)
        #expect((parts[0] + parts[1]) + parts[2] == parts[0] + (parts[1] + parts[2]))
        #expect(all + Moments(variableCount: variables) == all)
        #expect(all.n == records.count)
        for i in 0..<variables {
            #expect(all.sums[i] == records.reduce(0) { $0 + $1[i] })
            for j in 0..<variables {
                #expect(all.product(i, j) == records.reduce(0) { $0 + $1[i] * $1[j] })
            }
        }
    }

    @Test("Moments and ModelSums encode Int128 as decimal strings and decode back exactly")
    func codable() throws {
        var moments = Moments(variableCount: 2)
        moments.add([Int128(1) << 60, -(Int128(1) << 62) + 7])
        moments.add([3, -5])
        let data = try JSONEncoder().encode(moments)
        #expect(String(decoding: data, as: UTF8.self).contains("\"\(moments.products[0])\""))
        #expect(try JSONDecoder().decode(Moments.self, from: data) == moments)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(
                Moments.self, from: Data(#"{"n":1,"sums":["1x","2"],"products":["1","2","3"]}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Moments.self, from: Data(#"{"n":1,"sums":["1","2"],"products":["1","2"]}"#.utf8))
        }
        let sums = try RefusalTests.small.sums("y ~ g + h + x", scale: 0, random: "k")
        #expect(try JSONDecoder().decode(ModelSums.self, from: try JSONEncoder().encode(sums)) == sums)
    }

    @Test("the fixed-point scale does not change the statistics (values × 10 at scale 1)")
    func scaleInvariance() throws {
        let data = RefusalTests.small
        var scaled = data
        for i in scaled.rows.indices {
            for c in 0..<3 { scaled.rows[i][c] += ".0" }
        }
        let a = try ModelFit.fit(try data.sums("y ~ g + x + z", scale: 0, random: "k"), contrast: nil)
        let b = try ModelFit.fit(try scaled.sums("y ~ g + x + z", scale: 1, random: "k"), contrast: nil)
        var comparison = JSONComparison()
        comparison.compare(
            try JSONSerialization.jsonObject(with: try a.json()), try JSONSerialization.jsonObject(with: try b.json()))
        #expect(comparison.failures.isEmpty)
        #expect(comparison.maxRelative < 1e-12)
    }

    @Test("shifting the response by a constant moves only the intercept")
    func shiftInvariance() throws {
        let data = RefusalTests.small
        var shifted = data
        for i in shifted.rows.indices { shifted.rows[i][0] = String(Int(shifted.rows[i][0])! + 1000) }
        let a = try ModelFit.fit(try data.sums("y ~ h + x", scale: 0, random: "k"))
        let b = try ModelFit.fit(try shifted.sums("y ~ h + x", scale: 0, random: "k"))
        #expect(abs(b.model.terms[0].estimate - a.model.terms[0].estimate - 1000) < 1e-9)
        for (x, y) in zip(a.model.terms.dropFirst(), b.model.terms.dropFirst()) {
            #expect(abs(x.estimate - y.estimate) < 1e-10 && abs(x.se - y.se) < 1e-10)
        }
        #expect(abs(a.model.r2 - b.model.r2) < 1e-12)
        #expect(abs(a.random!.varGroup - b.random!.varGroup) < 1e-9 * max(1, a.random!.varGroup))
    }

    @Test("table and CSV report every term")
    func reports() throws {
        let sums = try RefusalTests.small.sums("y ~ g + h + x", scale: 0, random: "k")
        let result = try ModelFit.fit(sums, contrast: "h")
        let table = result.table()
        for text in ["Intercept", "g[T.b]", "h[T.q]", "Type II ANOVA", "Residual", "Pearson correlations",
                     "Hedges' g", "Random intercept for k"] {
            #expect(table.contains(text), "\(text)")
        }
        let lines = result.csv().split(separator: "\n")
        #expect(lines[0] == "section,name,estimate,se,t,p,ci_low,ci_high,std_estimate,sum_sq,df,F")
        #expect(lines.count == 1 + result.model.terms.count + result.random!.terms.count + result.anova.count)
        #expect(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 12 })
        let json = String(decoding: try result.json(), as: UTF8.self)
        #expect(json.contains(#""std_estimate" : null"#) && json.contains(#""F" : null"#))
    }
}
