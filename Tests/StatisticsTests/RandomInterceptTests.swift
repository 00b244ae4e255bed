import Foundation
import Testing

@testable import VaultStatistics

/// The REML machinery behind the random intercept: the analytic derivatives the optimizer and the standard errors
/// rely on agree with finite differences of the likelihood, and the optimum is a stationary maximum.
@Suite("REML random intercept")
struct RandomInterceptTests {
    static func model() throws -> RandomInterceptModel {
        let data = try Dataset(contentsOf: resources.appendingPathComponent("schools.csv"))
        let sums = try data.sums("score ~ sex + program + sector + prior_score", scale: 1, random: "school")
        return try RandomInterceptModel(try Design(sums))
    }

    @Test("ℓ′ and ℓ″ equal central differences of ℓ", arguments: [0.02, 0.3, 1.5, 8.0])
    func derivatives(_ gamma: Double) throws {
        let model = try Self.model()
        let h = 1e-4 * gamma
        let at = try #require(model.evaluate(gamma))
        let up = try #require(model.evaluate(gamma + h))
        let down = try #require(model.evaluate(gamma - h))
        let first = (up.logLikelihood - down.logLikelihood) / (2 * h)
        let second = (up.derivative - down.derivative) / (2 * h)
        #expect(abs(at.derivative - first) <= 1e-5 * max(1, abs(first)), "ℓ′ \(at.derivative) vs \(first)")
        let analytic = model.secondDerivative(at)
        #expect(abs(analytic - second) <= 1e-5 * max(1, abs(second)), "ℓ″ \(analytic) vs \(second)")
    }

    @Test("the optimum is a stationary maximum, better than its neighbours and than τ² = 0")
    func optimum() throws {
        let model = try Self.model()
        let best = try model.optimum()
        #expect(best.gamma > 0)
        #expect(abs(best.derivative) <= 1e-7 * abs(best.logLikelihood))
        #expect(model.secondDerivative(best) < 0)
        for factor in [0.999, 1.001, 0.5, 2] {
            #expect(try #require(model.evaluate(best.gamma * factor)).logLikelihood < best.logLikelihood)
        }
        #expect(try #require(model.evaluate(0)).logLikelihood < best.logLikelihood)
    }
}
