import BigNum
import Foundation
import Testing
@testable import VaultAggregation
import VaultAudit
import VaultStore

/// SplitMix64 bytes: a reproducible source for the sampler's distribution tests and for replaying a release's
/// noise. Production noise comes only from ``SystemRandomSource`` (OpenSSL's CSPRNG).
struct SeededBytes: RandomByteSource {
    var rng: Seeded
    init(seed: UInt64) { rng = Seeded(state: seed) }
    mutating func bytes(_ count: Int) throws(AggregationError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count { withUnsafeBytes(of: rng.next()) { out.append(contentsOf: $0.prefix(count - out.count)) } }
        return out
    }
}

@Suite("Differential privacy: the discrete Gaussian sampler, noise under encryption, the budget", .serialized)
struct PrivacyTests {
    static func dpPolicy() throws -> String {
        try String(contentsOf: TestVault.root.appendingPathComponent("Policies/differential-privacy.yaml"), encoding: .utf8)
    }

    /// Chi-square statistic of samples against the exact discrete Gaussian pmf, tails pooled into end bins so that
    /// every bin expects ≥ 20; returns the statistic and the degrees of freedom.
    static func chiSquare(_ samples: [Int], sigma2: Double) -> (statistic: Double, dof: Int) {
        let n = Double(samples.count)
        let range = Int((12 * sigma2).squareRoot()) + 2
        var normaliser = 0.0
        for x in -range * 4...range * 4 { normaliser += exp(-Double(x * x) / (2 * sigma2)) }
        func p(_ x: Int) -> Double { exp(-Double(x * x) / (2 * sigma2)) / normaliser }
        // Bins: central values with expectation ≥ 20; everything beyond pooled into two tails.
        var edge = 0
        while n * p(edge + 1) >= 20 { edge += 1 }
        var observed = [Double](repeating: 0, count: 2 * edge + 3)
        for s in samples { observed[min(max(s, -edge - 1), edge + 1) + edge + 1] += 1 }
        var expected = [Double](repeating: 0, count: observed.count)
        for x in -edge...edge { expected[x + edge + 1] = n * p(x) }
        let tail = (n - expected.reduce(0, +)) / 2
        expected[0] = tail
        expected[expected.count - 1] = tail
        var statistic = 0.0
        for (o, e) in zip(observed, expected) { statistic += (o - e) * (o - e) / e }
        return (statistic, observed.count - 1)
    }

    /// The χ² critical value at significance 0.001 (Wilson–Hilferty).
    static func critical(dof: Int) -> Double {
        let k = Double(dof), z = 3.090232
        return k * pow(1 - 2 / (9 * k) + z * (2 / (9 * k)).squareRoot(), 3)
    }

    @Test("The sampler's distribution passes a chi-square test against the exact discrete Gaussian", arguments: [
        (BigNum(UInt64(9)), BigNum(UInt64(2))),     // σ² = 4.5
        (BigNum(UInt64(30)), BigNum(UInt64(1))),    // σ² = 30
        (BigNum(UInt64(1)), BigNum(UInt64(3))),     // σ² = 1/3: mostly 0 and ±1
    ])
    func distribution(numerator: BigNum, denominator: BigNum) throws {
        let sampler = try DiscreteGaussian(varianceNumerator: numerator, denominator: denominator)
        var source = SeededBytes(seed: 2020)
        var samples: [Int] = []
        for _ in 0..<20_000 { samples.append(try sampler.sample(using: &source).intValue!) }
        let sigma2 = Double(numerator.decimalString)! / Double(denominator.decimalString)!
        let (statistic, dof) = Self.chiSquare(samples, sigma2: sigma2)
        #expect(statistic < Self.critical(dof: dof), "χ² = \(statistic) with \(dof) degrees of freedom")
        let mean = Double(samples.reduce(0, +)) / Double(samples.count)
        let variance = samples.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / Double(samples.count - 1)
        #expect(abs(mean) < 5 * (sigma2 / 20_000).squareRoot())
        #expect(abs(variance / sigma2 - 1) < 0.05)
        // The test can fail: a sampler off by one unit of variance is rejected.
        let wrong = Self.chiSquare(samples.map { $0 * 2 }, sigma2: sigma2)
        #expect(wrong.statistic > Self.critical(dof: wrong.dof))
    }

    @Test("The production sampler draws from OpenSSL's CSPRNG and has the right spread")
    func systemSource() throws {
        let sampler = try DiscreteGaussian(varianceNumerator: BigNum(UInt64(100)), denominator: BigNum(UInt64(1)))
        var source = SystemRandomSource()
        var samples: [Int] = []
        for _ in 0..<4000 { samples.append(try sampler.sample(using: &source).intValue!) }
        let (statistic, dof) = Self.chiSquare(samples, sigma2: 100)
        #expect(statistic < 2 * Self.critical(dof: dof))  // a 10⁻⁹-level bound: this test is not flaky
        #expect(Set(samples).count > 20)
        #expect(throws: AggregationError.self) {
            _ = try DiscreteGaussian(varianceNumerator: BigNum(UInt64(0)), denominator: BigNum(UInt64(1)))
        }
    }

    static func vault(policy: String) async throws -> (TestVault, [PlainRecord]) {
        var records: [PlainRecord] = []
        for school in ["A", "B"] {
            for i in 0..<40 {
                records.append(PlainRecord(school: school, student: "\(school)\(i)", subject: "math",
                                           score: 300 + (i * 37) % 700, attributes: ["sex": i % 2 == 0 ? "F" : "M"]))
            }
        }
        return (try await TestVault(schools: ["A": ["region": "rural"], "B": ["region": "urban"]], records: records,
                                    policyYAML: policy), records)
    }

    @Test("Noise is added under encryption before re-randomisation: the release decrypts to Σ + η exactly")
    func noiseBeforeRerandomisation() async throws {
        let (vault, records) = try await Self.vault(policy: try Self.dpPolicy())
        var engine = try QueryEngine(vault: vault.vault)
        engine.noiseSource = { SeededBytes(seed: 77) }
        let first = try await vault.ask(Query(by: ["school"]), engine: engine)
        let second = try await vault.ask(Query(by: ["school"]), engine: engine)
        let noise = try #require(first.release.noise)
        // Replay the noise stream: per released cell in order, η₁ then η₂.
        func sampler(_ text: String) throws -> DiscreteGaussian {
            let parts = text.split(separator: "/").map { try? BigNum(decimal: $0) }
            return try DiscreteGaussian(varianceNumerator: parts[0]!, denominator: parts.count > 1 ? parts[1]! : BigNum(UInt64(1)))
        }
        let sum = try sampler(noise.sigma2Sum), squares = try sampler(noise.sigma2SumOfSquares)
        var replay = SeededBytes(seed: 77)
        for cell in first.cells {
            let eta1 = try sum.sample(using: &replay), eta2 = try squares.sample(using: &replay)
            #expect(!eta1.isZero || !eta2.isZero)
            let mine = records.filter { $0.school == cell.by["school"] }.map(\.score)
            #expect(cell.sum == BigNum(UInt64(mine.reduce(0, +))) + eta1)
            #expect(cell.sumOfSquares == BigNum(UInt64(mine.map { $0 * $0 }.reduce(0, +))) + eta2)
        }
        // The same noise twice: equal values, unlinkable ciphertexts (fresh re-randomisation of Enc(Σ + η)).
        #expect(first.cells.map(\.sum) == second.cells.map(\.sum))
        #expect(first.release.cells.map(\.sum) != second.release.cells.map(\.sum))
        #expect(noise.recordsPerStudent == 1 && noise.rho == "0.25")
    }

    @Test("The noiseless sums never leave the vault; counts stay exact")
    func noiselessSumsStayInside() async throws {
        let (vault, records) = try await Self.vault(policy: try Self.dpPolicy())
        let result = try await vault.ask(Query(by: ["school", "sex"]))  // production noise (CSPRNG)
        #expect(result.release.format == Release.noisyFormatTag)
        #expect(result.cells.count == 4)
        for cell in result.cells {
            let mine = records.filter { $0.school == cell.by["school"] && $0.attributes["sex"] == cell.by["sex"] }.map(\.score)
            #expect(cell.statistics.count == mine.count)
            let exact = (BigNum(UInt64(mine.reduce(0, +))), BigNum(UInt64(mine.map { $0 * $0 }.reduce(0, +))))
            #expect(cell.sum != exact.0 || cell.sumOfSquares != exact.1, "a released sum was noiseless")
            let ci = try #require(cell.meanCI95)
            #expect(ci.0 < cell.statistics.mean && cell.statistics.mean < ci.1)
        }
        // An exact release never passes as a noisy one, nor the reverse.
        var relabelled = result.release
        relabelled.format = Release.formatTag
        #expect(throws: AggregationError.self) { _ = try Release.decode(try relabelled.jsonData()) }
    }

    @Test("The budget holds across restarts; averaging a query's noise away ends in DP-BUDGET")
    func budgetAcrossRestarts() async throws {
        let policy = try Self.dpPolicy().replacingOccurrences(of: "rho_total: 2\n", with: "rho_total: 0.75\n")
        let (vault, _) = try await Self.vault(policy: policy)
        for _ in 0..<3 {
            let reopened = try Vault.open(directory: vault.vault.directory)
            _ = try QueryEngine(vault: reopened).run(Query(by: ["school"]))
        }
        let reopened = try Vault.open(directory: vault.vault.directory)
        let error = #expect(throws: AggregationError.self) { _ = try QueryEngine(vault: reopened).run(Query(by: ["school"])) }
        #expect(error?.rule == "DP-BUDGET")
        #expect(try reopened.status().privacySpentNano == 750_000_000)
        #expect(try reopened.auditEntries().last?.kind.rawValue == "query.refused")
    }
}

@Suite("LIN-AUDIT state across restarts", .serialized)
struct AuditStateTests {
    static let queries: [Query] = [
        Query(by: ["school", "sex"]), Query(by: ["school"]), Query(by: ["sex"]), Query(by: ["region", "grade"]),
        Query(by: ["grade"]), Query(by: ["school"], filters: ["grade": "10"]), Query(by: ["sex"], contrast: "region"),
        Query(by: ["school", "grade"]), Query(by: ["region"]), Query(by: ["grade"], filters: ["sex": "M"]),
    ]

    static func records() -> [PlainRecord] {
        var rng = Seeded(state: 3)
        return (0..<70).map { i in
            PlainRecord(school: i % 3 == 0 ? "S" : "T", student: "p\(i)", subject: "math", score: Int(rng.next() % 1000),
                        attributes: ["sex": rng.next() % 3 == 0 ? "M" : "F", "grade": ["10", "11"][Int(rng.next() % 2)]])
        }
    }

    @Test("The stored state survives reopening, equals a rebuild from the log, and a lost state is rebuilt identically")
    func restarts() async throws {
        let schools = ["S": ["region": "rural"], "T": ["region": "urban"]]
        let steady = try await TestVault(schools: schools, records: Self.records())
        let interrupted = try await TestVault(schools: schools, records: Self.records())
        var steadyRules: [[String]] = [], interruptedRules: [[String]] = []
        func describe(_ release: Release) -> [String] {
            release.suppressed.map { $0.by.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + " " + $0.rule }.sorted()
        }
        for (i, query) in Self.queries.enumerated() {
            steadyRules.append(describe(try await steady.ask(query).release))
            // The other vault is reopened before every query, and loses its stored state halfway.
            let reopened = try Vault.open(directory: interrupted.vault.directory)
            if i == 5 {
                let stale = try #require(try reopened.auditState())
                try reopened.saveAuditState(StoredAuditState(k: stale.k, prime: stale.prime, releases: 0, lastLogIndex: 0,
                                                             bytes: []))
            }
            let outcome = try QueryEngine(vault: reopened).run(query)
            interruptedRules.append(describe(outcome.release))
        }
        #expect(steadyRules == interruptedRules)
        #expect(steadyRules.flatMap { $0 }.contains { $0.hasSuffix("LIN-AUDIT") }, "the sequence should exercise LIN-AUDIT")
        for vault in [steady.vault, interrupted.vault] {
            let report = try DisclosureAudit.check(try Vault.open(directory: vault.directory))
            #expect(report.storedStateMatches == true)
            #expect(report.violations.isEmpty)
            #expect(report.releases == Self.queries.count)
        }
    }
}
