import Testing

@testable import VaultStatistics

/// Known values from scipy 1.17 (stats.t, stats.f, stats.norm), to ~1e-13 relative, tiny tails included.
@Suite("Distributions")
struct DistributionTests {
    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool {
        abs(a - b) <= tolerance * max(abs(a), abs(b))
    }

    @Test("Student t: two-sided p-values and quantiles")
    func studentT() {
        #expect(Self.close(Distributions.studentTTwoSided(40, df: 600), 1.995885320228399e-171, 1e-11))
        #expect(Self.close(Distributions.studentTTwoSided(0.5, df: 3), 0.651447964848151))
        #expect(Self.close(Distributions.studentTTwoSided(-1e-3, df: 1000), 0.9992023150184528))
        #expect(Self.close(Distributions.studentTUpperQuantile(0.025, df: 10), 2.228138851986274))
        #expect(Self.close(Distributions.studentTUpperQuantile(0.025, df: 643), 1.9636602007080162))
        #expect(Self.close(Distributions.studentTUpperQuantile(0.025, df: 1), 12.706204736174694))
    }

    @Test("F survival")
    func fDistribution() {
        #expect(Self.close(Distributions.fSurvival(3.2, d1: 4, d2: 100), 0.016177653467719478))
        #expect(Self.close(Distributions.fSurvival(300, d1: 5, d2: 643), 2.1102402090506113e-165, 1e-11))
        #expect(Distributions.fSurvival(0, d1: 2, d2: 3) == 1)
    }

    @Test("normal tails and quantiles")
    func normal() {
        #expect(Self.close(Distributions.normalUpperQuantile(0.025), 1.959963984540054))
        #expect(Self.close(Distributions.normalUpperQuantile(1e-300), 37.0470962993612))
        #expect(Self.close(2 * Distributions.normalSurvival(32.77760780558886), 1.2278253032003627e-235, 1e-11))
    }
}
