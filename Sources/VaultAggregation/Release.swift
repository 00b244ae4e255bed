public import Foundation
public import VaultModel

/// A release: what the vault hands the bureau for one query. Counts are in the clear (they are what K-MIN is
/// about); sums are re-randomised Paillier ciphertexts of packed slots (Σx, Σx²); suppressed cells carry no value.
public struct Release: Sendable, Codable, Equatable {
    /// The format of an exact release.
    public static let formatTag = "eduvault-release/1"
    /// The format of a release whose sums carry differential-privacy noise (readers of format 1 refuse it, so no
    /// one mistakes a noisy sum for an exact one).
    public static let noisyFormatTag = "eduvault-release/2"

    public var format: String
    public var id: String
    public var vault: String
    public var keyID: String
    public var query: Query
    public var policy: PolicyReference
    public var created: String
    public var logIndex: Int64
    /// Score fixed-point scale (decimal places) and packed-slot layout, copied from the schema.
    public var scale: Int
    public var slotBits: Int
    public var slotCount: Int
    public var cells: [Cell]
    public var suppressed: [Suppressed]
    /// The noise added to every released sum, for a release under the policy's DP rule.
    public var noise: Noise?
    /// The vault's signature with its log key (``SignedRelease``); nil only in releases made before releases were
    /// signed.
    public var vaultSignature: String? = nil

    /// The discrete Gaussian noise every released cell's Σx and Σx² carry (independent draws per cell and slot).
    public struct Noise: Sendable, Codable, Equatable {
        /// `discrete-gaussian`.
        public var mechanism: String
        /// The zCDP cost of this release, decimal.
        public var rho: String
        /// σ² of the noise on Σx, in squared fixed-point units, as an exact rational `N` or `N/D`.
        public var sigma2Sum: String
        /// σ² of the noise on Σx², in squared (fixed-point²) units, `N` or `N/D`.
        public var sigma2SumOfSquares: String
        /// The bound on records per student used for the sensitivity.
        public var recordsPerStudent: Int

        public static let discreteGaussian = "discrete-gaussian"

        enum CodingKeys: String, CodingKey {
            case mechanism, rho
            case sigma2Sum = "sigma2_sum"
            case sigma2SumOfSquares = "sigma2_sum_of_squares"
            case recordsPerStudent = "records_per_student"
        }

        /// The two variances as Doubles (for confidence intervals).
        public func variances() throws(AggregationError) -> (sum: Double, sumOfSquares: Double) {
            (try Self.rational(sigma2Sum), try Self.rational(sigma2SumOfSquares))
        }

        static func rational(_ text: String) throws(AggregationError) -> Double {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.count <= 60 && $0.allSatisfy(\.isNumber) }),
                  let top = Double(parts[0]), let bottom = parts.count == 2 ? Double(parts[1]) : 1, bottom > 0,
                  top.isFinite, bottom.isFinite
            else { throw AggregationError(.invalidRelease, "the release's noise variance is not a positive rational") }
            return top / bottom
        }
    }

    /// A released cell.
    public struct Cell: Sendable, Codable, Equatable {
        /// The cell's value for each grouping attribute.
        public var by: [String: String]
        /// The number of records.
        public var count: Int
        /// The encrypted packed sum, decimal (python-paillier's ciphertext text form), exponent 0.
        public var sum: String
    }

    /// A withheld cell: which rule withheld it.
    public struct Suppressed: Sendable, Codable, Equatable {
        public var by: [String: String]
        public var rule: String
    }

    enum CodingKeys: String, CodingKey {
        case format, id, vault, keyID = "key_id", query, policy, created, logIndex = "log_index", scale
        case slotBits = "slot_bits", slotCount = "slot_count", cells, suppressed, noise
        case vaultSignature = "vault_signature"
    }

    /// The release as canonical JSON (sorted keys).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Reads a release file and checks it is consistent (see ``validate()``).
    public static func decode(_ data: Data) throws(AggregationError) -> Release {
        let release: Release
        do { release = try JSONDecoder().decode(Release.self, from: data) } catch {
            throw AggregationError(.invalidRelease, "not an EduVault release file (JSON with format \(formatTag))")
        }
        switch (release.format, release.noise) {
        case (formatTag, nil): break
        case (noisyFormatTag, let noise?):
            guard noise.mechanism == Noise.discreteGaussian, noise.recordsPerStudent >= 1 else {
                throw AggregationError(.invalidRelease, "the release names a noise mechanism EduVault does not know")
            }
            _ = try noise.variances()
        case (formatTag, _), (noisyFormatTag, _):
            throw AggregationError(.invalidRelease, "the release's format does not match its noise description")
        default:
            throw AggregationError(.invalidRelease, "unsupported release format '\(release.format.prefix(40))'")
        }
        guard release.slotCount == 2, release.slotBits >= 8, release.slotBits <= 1024, (0...6).contains(release.scale)
        else { throw AggregationError(.invalidRelease, "the release's slot layout or scale is not one EduVault writes") }
        try release.validate()
        return release
    }
}
