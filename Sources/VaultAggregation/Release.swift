public import Foundation
public import VaultModel

/// A release: what the vault hands the bureau for one query. Counts are in the clear (they are what K-MIN is
/// about); sums are re-randomised Paillier ciphertexts of packed slots (Σx, Σx²); suppressed cells carry no value.
public struct Release: Sendable, Codable, Equatable {
    public static let formatTag = "eduvault-release/1"

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
        case slotBits = "slot_bits", slotCount = "slot_count", cells, suppressed
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
        guard release.format == formatTag else {
            throw AggregationError(.invalidRelease, "unsupported release format '\(release.format.prefix(40))'")
        }
        guard release.slotCount == 2, release.slotBits >= 8, release.slotBits <= 1024, (0...6).contains(release.scale)
        else { throw AggregationError(.invalidRelease, "the release's slot layout or scale is not one EduVault writes") }
        try release.validate()
        return release
    }
}
