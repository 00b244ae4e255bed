public import Foundation
public import VaultModel

/// A model release: what `eduvault analyze` hands the bureau. Only aggregate blocks are in it — the model's whole
/// record set (`total`), each level of each categorical term, each random group — each as a record count and one
/// re-randomised Paillier ciphertext per packed ciphertext of the vault's layout (every packed product summed over
/// the block). Counts, the counts of every pair of levels of two categorical terms and the per-group level counts
/// are in the clear: they are what the model-output rules decide from. Never a per-cell sum.
///
/// The bureau decrypts the blocks and fits the model from them (`release decrypt`): X'X, X'y and y'y are sums over
/// these blocks.
public struct ModelRelease: Sendable, Codable, Equatable {
    /// The format of a model release.
    public static let formatTag = "eduvault-release-model/1"

    public var format: String
    public var id: String
    public var vault: String
    public var keyID: String
    /// The formula, filters, random effect and contrast asked for.
    public var model: ModelSpec
    public var policy: PolicyReference
    public var created: String
    public var logIndex: Int64
    /// The fixed-point scale (decimal places) of the score and of every covariate.
    public var scale: Int
    /// How the packed products sit in each block's ciphertexts.
    public var layout: Layout
    /// The model's numeric variables: the response (`score`) first, then the numeric terms in formula order.
    public var numeric: [String]
    /// The model's categorical terms in formula order, each with its levels in sorted order (the first is the
    /// baseline).
    public var categorical: [Term]
    /// The block of every record the model uses.
    public var total: Block
    /// Per categorical term, per level: the block of that level's records.
    public var levels: [[Block]]
    /// For every pair of categorical terms a < b, in order (0,1), (0,2), …, (1,2), …: counts[levelA][levelB].
    public var pairCounts: [[[Int]]]
    /// The random-intercept groups, when asked.
    public var random: Random?
    /// The vault's signature with its log key (``SignedRelease``).
    public var vaultSignature: String? = nil

    /// The packed layout of a record's products.
    public struct Layout: Sendable, Codable, Equatable {
        public var slotBits: Int
        public var slotsPerCiphertext: Int
        public var ciphertextCount: Int
        /// Where each product sits: `y`, `y2`, `x:NAME`, `x2:NAME`, `xy:NAME`, `xx:NAME:NAME`.
        public var products: [Product]

        public struct Product: Sendable, Codable, Equatable {
            public var name: String
            public var ciphertext: Int
            public var slot: Int
            public init(name: String, ciphertext: Int, slot: Int) {
                self.name = name
                self.ciphertext = ciphertext
                self.slot = slot
            }
        }

        public init(slotBits: Int, slotsPerCiphertext: Int, ciphertextCount: Int, products: [Product]) {
            self.slotBits = slotBits
            self.slotsPerCiphertext = slotsPerCiphertext
            self.ciphertextCount = ciphertextCount
            self.products = products
        }

        enum CodingKeys: String, CodingKey {
            case slotBits = "slot_bits"
            case slotsPerCiphertext = "slots_per_ciphertext"
            case ciphertextCount = "ciphertext_count"
            case products
        }
    }

    /// A categorical term and its levels.
    public struct Term: Sendable, Codable, Equatable {
        public var name: String
        public var levels: [String]
        public init(name: String, levels: [String]) {
            self.name = name
            self.levels = levels
        }
    }

    /// A released block: its record count and its encrypted packed sums (decimal ciphertexts, one per ciphertext of
    /// the layout, in order).
    public struct Block: Sendable, Codable, Equatable {
        public var count: Int
        public var sums: [String]
        public init(count: Int, sums: [String]) {
            self.count = count
            self.sums = sums
        }
    }

    /// The random-intercept groups: their names (sorted), blocks, and per group, per categorical term, per level, the
    /// record count.
    public struct Random: Sendable, Codable, Equatable {
        public var name: String
        public var groups: [String]
        public var blocks: [Block]
        public var levelCounts: [[[Int]]]

        public init(name: String, groups: [String], blocks: [Block], levelCounts: [[[Int]]]) {
            self.name = name
            self.groups = groups
            self.blocks = blocks
            self.levelCounts = levelCounts
        }

        enum CodingKeys: String, CodingKey {
            case name, groups, blocks
            case levelCounts = "level_counts"
        }
    }

    /// Makes a model release (the engine does; tests and tools too).
    public init(
        format: String, id: String, vault: String, keyID: String, model: ModelSpec, policy: PolicyReference,
        created: String, logIndex: Int64, scale: Int, layout: Layout, numeric: [String], categorical: [Term],
        total: Block, levels: [[Block]], pairCounts: [[[Int]]], random: Random?
    ) {
        self.format = format
        self.id = id
        self.vault = vault
        self.keyID = keyID
        self.model = model
        self.policy = policy
        self.created = created
        self.logIndex = logIndex
        self.scale = scale
        self.layout = layout
        self.numeric = numeric
        self.categorical = categorical
        self.total = total
        self.levels = levels
        self.pairCounts = pairCounts
        self.random = random
    }

    enum CodingKeys: String, CodingKey {
        case format, id, vault
        case keyID = "key_id"
        case model, policy, created
        case logIndex = "log_index"
        case scale, layout
        case numeric, categorical, total, levels
        case pairCounts = "pair_counts"
        case random
        case vaultSignature = "vault_signature"
    }

    /// Every block in release order: the total, each level of each term, each random group.
    public var allBlocks: [Block] { [total] + levels.flatMap { $0 } + (random?.blocks ?? []) }

    /// The release as canonical JSON (sorted keys).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Whether `data` looks like a model release (its `format` field), without validating it.
    public static func isModelRelease(_ data: Data) -> Bool {
        struct Format: Decodable { var format: String }
        return (try? JSONDecoder().decode(Format.self, from: data))?.format == formatTag
    }

    /// Reads a model release file and checks it is consistent (see ``validate()``).
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease`.
    public static func decode(_ data: Data) throws(AggregationError) -> ModelRelease {
        guard data.count <= maxFileBytes else {
            throw AggregationError(.invalidRelease, "the model release is larger than \(maxFileBytes >> 20) MiB")
        }
        let release: ModelRelease
        do { release = try JSONDecoder().decode(ModelRelease.self, from: data) } catch {
            throw AggregationError(.invalidRelease, "not an EduVault model release (JSON with format \(formatTag))")
        }
        guard release.format == formatTag else {
            throw AggregationError(.invalidRelease, "unsupported model release format '\(release.format.prefix(40))'")
        }
        try release.validate()
        return release
    }
}
