extension Schema {
    /// A per-record numeric covariate (a prior score, study hours, absences…) with declared bounds.
    ///
    /// Values are fixed-point integers at the schema's `scale`, exactly like scores: with scale 1, `absences` 12
    /// is stored as 120. The bounds are what overflow is ruled out from, so they must be honest: a school's CSV
    /// value outside them is refused. `min` must be ≥ 0 because every packed slot holds a non-negative value.
    ///
    /// Score CSVs carry a covariate as a column named after it. Its value travels only inside ciphertexts.
    public struct Covariate: Sendable, Codable, Equatable {
        /// The covariate (and CSV column) name, `[a-z0-9_]{1,32}`.
        public let name: String
        /// The lowest allowed value, as a fixed-point integer (≥ 0).
        public let min: Int
        /// The highest allowed value, as a fixed-point integer (≤ 10^9, so every product of two bounds fits an
        /// `Int`).
        public let max: Int

        /// Declares a covariate; the schema validates it.
        public init(name: String, min: Int, max: Int) {
            self.name = name
            self.min = min
            self.max = max
        }
    }

    /// The most covariates a schema may declare: 8. The products a record carries grow quadratically with the
    /// covariates (y, y², then x, x², x·y per covariate and x_j·x_k per pair: 2 + 3c + c(c−1)/2, so 54 products
    /// for 8 covariates, 3 ciphertexts a record at 3072 bits), and every one of them costs encryption at the school,
    /// storage, validation and homomorphic additions at the vault.
    public static let maxCovariates = 8

    /// Names a covariate may not take: CSV columns and query attributes that already mean something.
    public static let reservedCovariateNames: Set<String> = ["score", "subject", "school", "student", "student_id"]

    func validateCovariates(attributeNames: Set<String>) throws(ModelError) {
        func fail(_ message: String) -> ModelError { ModelError(.invalidSchema, message) }
        guard covariates.count <= Self.maxCovariates else {
            throw fail("a schema declares at most \(Self.maxCovariates) covariates (the products per record grow "
                       + "quadratically with them)")
        }
        guard covariates.isEmpty || slotCount == 2 else {
            throw fail("covariates need slot_count 2 (x and x²)")
        }
        var names = Set<String>()
        for covariate in covariates {
            guard Self.isCovariateName(covariate.name) else {
                throw fail("covariate names must match [a-z0-9_]{1,32}")
            }
            guard !Self.reservedCovariateNames.contains(covariate.name) else {
                throw fail("covariate '\(covariate.name)' collides with a required CSV column or query attribute")
            }
            guard !attributeNames.contains(covariate.name) else {
                throw fail("covariate '\(covariate.name)' collides with an attribute of the same name")
            }
            guard names.insert(covariate.name).inserted else {
                throw fail("covariate '\(covariate.name)' is declared twice")
            }
            guard covariate.min >= 0, covariate.max >= 0 else {
                throw fail("covariate '\(covariate.name)': bounds must be at least 0 (packed slots hold non-negative "
                           + "values; shift the covariate, e.g. measure from its lowest possible value)")
            }
            guard covariate.min <= covariate.max else {
                throw fail("covariate '\(covariate.name)': the minimum must not exceed the maximum")
            }
            guard covariate.max <= 1_000_000_000 else {
                throw fail("covariate '\(covariate.name)': the maximum must be at most 10^9 (fixed point)")
            }
        }
        if !covariates.isEmpty {
            // Every product of one record must fit its slot (the sum check then bounds the record count).
            let largest = covariates.map(\.max).reduce(maxScore, Swift.max)
            guard slotBits >= 64 || largest * largest < (1 << slotBits) else {
                throw fail("slot_bits is too small for the covariates' products")
            }
        }
    }

    /// Whether `name` is a valid covariate name, `[a-z0-9_]{1,32}`.
    public static func isCovariateName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        return (1...32).contains(bytes.count)
            && bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    /// The index of covariate `name`, if the schema declares it.
    public func covariateIndex(named name: String) -> Int? {
        covariates.firstIndex { $0.name == name }
    }

    /// Parses one covariate value from CSV text into its fixed-point integer and checks its bounds.
    ///
    /// - Throws: `.nonNumericScore`, `.tooManyDecimals` or `.scoreOutOfRange` with a message that names the
    ///   covariate and never the value ("covariate 'absences' is outside 0.0–93.0").
    public func parseCovariate(_ index: Int, _ text: String) throws(ModelError) -> Int {
        let covariate = covariates[index]
        guard !text.trimmingASCIISpaces().isEmpty else {
            throw ModelError(.nonNumericScore, "covariate '\(covariate.name)' is empty")
        }
        let value: Int
        do { value = try Schema.parseFixedPoint(text, scale: scale) } catch {
            if error.code == .scoreOutOfRange { throw covariateOutOfRange(covariate) }
            throw ModelError(error.code, "covariate '\(covariate.name)' " + error.message)
        }
        guard (covariate.min...covariate.max).contains(value) else { throw covariateOutOfRange(covariate) }
        return value
    }

    private func covariateOutOfRange(_ covariate: Covariate) -> ModelError {
        ModelError(
            .scoreOutOfRange,
            "covariate '\(covariate.name)' is outside \(formatScore(covariate.min))–\(formatScore(covariate.max))")
    }

    /// How a record's products are packed into ciphertexts under a key of `keyBits` bits.
    ///
    /// Ciphertext 0 is exactly today's: y in slot 0 and y² in slot 1 and nothing else, so ordinary queries, their
    /// releases (single key, threshold units, DP noise) and every vault without covariates are unchanged. The
    /// covariate products follow in ciphertexts 1, 2, … , `MomentLayout.slotsPerCiphertext` slots each.
    ///
    /// - Throws: `.invalidSchema` when not even one covariate slot fits under the key.
    public func momentLayout(keyBits: Int) throws(ModelError) -> MomentLayout {
        try MomentLayout(schema: self, keyBits: keyBits)
    }
}

/// Where each product a record carries lives: which ciphertext, which slot; and the largest value it can take.
///
/// Products, in this order: y, y², then for each covariate j (declaration order) x_j, x_j², x_j·y, then x_j·x_k for
/// every pair j < k (j-major). Ciphertext 0 holds y and y² in slots 0 and 1 — exactly what a vault without
/// covariates stores — and nothing else. The remaining products fill ciphertexts 1, 2, … in order,
/// ``slotsPerCiphertext`` slots of ``slotBits`` bits each; the last may be partly empty (its unused slots are 0).
///
/// Packing rule (the same as `SlotLayout.fits`): a ciphertext's slots, and every sum ``canSum(count:)`` allows, stay
/// below python-paillier's `max_int` = ⌊n/3⌋ − 1. For any n of `keyBits` bits `max_int` has at least `keyBits − 2`
/// bits, so `slotsPerCiphertext = ⌊(keyBits − 3) / slotBits⌋` fits every key of that size.
///
/// Values: every bound is ≤ 10^9 and non-negative, so every product of one record is ≤ 10^18 < 2^63 and
/// ``maxValue(of:)`` is an `Int`; sums of N records are checked with 128-bit arithmetic in ``canSum(count:)``.
public struct MomentLayout: Sendable, Equatable {
    /// One product a record carries; the `Int`s are covariate indices in the schema.
    public enum Product: Sendable, Hashable {
        /// The score y.
        case y
        /// y².
        case y2
        /// Covariate x_j.
        case x(Int)
        /// x_j².
        case x2(Int)
        /// x_j · y.
        case xy(Int)
        /// x_j · x_k for j < k.
        case xx(Int, Int)
    }

    /// Every product, in packing order: y, y2, then x(j), x2(j), xy(j) per covariate, then xx(j, k) for j < k.
    public let products: [Product]
    /// Bits per slot (the schema's `slot_bits`).
    public let slotBits: Int
    /// Slots per covariate ciphertext (ciphertexts 1…); ciphertext 0 always holds exactly y and y² (2 slots).
    public let slotsPerCiphertext: Int
    /// Each product's largest value for one record, in `products` order.
    public let maxima: [Int]
    /// The number of covariates the layout was made for.
    public let covariateCount: Int
    /// Each product's (ciphertext, slot), in `products` order.
    private let locations: [Location]

    private struct Location: Sendable, Equatable {
        var ciphertext: Int
        var slot: Int
    }

    /// The number of slots of ciphertext 0 (y and y²; y alone for a `slot_count` 1 schema).
    public static let firstCiphertextSlots = 2

    init(schema: Schema, keyBits: Int) throws(ModelError) {
        slotBits = schema.slotBits
        guard keyBits >= 3 + schema.slotBits else {
            throw ModelError(.invalidSchema, "a \(keyBits)-bit key cannot hold one \(schema.slotBits)-bit slot")
        }
        slotsPerCiphertext = (keyBits - 3) / schema.slotBits
        // A slot_count 1 schema (x only; it cannot declare covariates) stores y alone.
        var products: [Product] = schema.slotCount == 1 ? [.y] : [.y, .y2]
        var maxima: [Int] = schema.slotCount == 1 ? [schema.maxScore] : [schema.maxScore, schema.maxScore * schema.maxScore]
        let bounds = schema.covariates.map(\.max)
        for (j, max) in bounds.enumerated() {
            products += [.x(j), .x2(j), .xy(j)]
            maxima += [max, max * max, max * schema.maxScore]
        }
        for j in bounds.indices {
            for k in bounds.indices where k > j {
                products.append(.xx(j, k))
                maxima.append(bounds[j] * bounds[k])
            }
        }
        var locations = products.indices.prefix(Self.firstCiphertextSlots).map { Location(ciphertext: 0, slot: $0) }
        for index in 0..<Swift.max(0, products.count - Self.firstCiphertextSlots) {
            locations.append(Location(ciphertext: 1 + index / slotsPerCiphertext, slot: index % slotsPerCiphertext))
        }
        self.products = products
        self.maxima = maxima
        covariateCount = bounds.count
        self.locations = locations
    }

    /// How many ciphertexts a record carries: 1 without covariates, else 1 + ⌈(products − 2) / slotsPerCiphertext⌉.
    public var ciphertextCount: Int { (locations.last?.ciphertext ?? 0) + 1 }

    /// Slots used in ciphertext `index` (2 for ciphertext 0; `slotsPerCiphertext` or fewer for the last).
    public func slotCount(ofCiphertext index: Int) -> Int {
        locations.lazy.filter { $0.ciphertext == index }.count
    }

    /// The products packed into ciphertext `index`, in slot order.
    public func products(inCiphertext index: Int) -> [Product] {
        zip(products, locations).filter { $0.1.ciphertext == index }.map(\.0)
    }

    /// The ciphertext and slot that hold `product`.
    ///
    /// - Precondition: `product` is one of `products` (its covariate indices exist and, for `xx`, j < k).
    public func location(of product: Product) -> (ciphertext: Int, slot: Int) {
        guard let index = products.firstIndex(of: product) else {
            preconditionFailure("MomentLayout.location(of:): \(product) is not a product of this layout")
        }
        return (locations[index].ciphertext, locations[index].slot)
    }

    /// The largest value `product` takes for one record, from the schema's declared bounds (≤ 10^18).
    ///
    /// - Precondition: `product` is one of `products`.
    public func maxValue(of product: Product) -> Int {
        guard let index = products.firstIndex(of: product) else {
            preconditionFailure("MomentLayout.maxValue(of:): \(product) is not a product of this layout")
        }
        return maxima[index]
    }

    /// The slot values of one record, grouped by ciphertext: `values[c][s]` is the value of slot s of ciphertext c.
    ///
    /// - Parameters:
    ///   - y: the score (fixed point, within the schema's bounds).
    ///   - x: the covariates (fixed point, within their bounds), in declaration order.
    /// - Throws: `.scoreOutOfRange` when a value is negative, the count of covariates is wrong, or a product exceeds
    ///   its declared maximum (checked arithmetic; never wraps).
    public func slotValues(y: Int, x: [Int]) throws(ModelError) -> [[UInt64]] {
        guard y >= 0, x.allSatisfy({ $0 >= 0 }), x.count == covariateCount else {
            throw ModelError(.scoreOutOfRange, "a record's values do not match the schema's covariates")
        }
        var values = (0..<ciphertextCount).map { [UInt64](repeating: 0, count: slotCount(ofCiphertext: $0)) }
        for (index, product) in products.enumerated() {
            let value: (Int, Bool)
            switch product {
            case .y: value = (y, false)
            case .y2: value = y.multipliedReportingOverflow(by: y)
            case .x(let j): value = (x[j], false)
            case .x2(let j): value = x[j].multipliedReportingOverflow(by: x[j])
            case .xy(let j): value = x[j].multipliedReportingOverflow(by: y)
            case .xx(let j, let k): value = x[j].multipliedReportingOverflow(by: x[k])
            }
            guard !value.1, value.0 >= 0, value.0 <= maxima[index] else {
                throw ModelError(.scoreOutOfRange, "a record's value is outside the schema's declared bounds")
            }
            values[locations[index].ciphertext][locations[index].slot] = UInt64(value.0)
        }
        return values
    }


    /// Whether a sum of `count` records cannot overflow any product's slot: `count · maxValue ≤ 2^slotBits − 1`
    /// for every product (exact, 128-bit). Call it before summing, as `SlotLayout.canSum(count:slotMaxima:)` is
    /// called for ciphertext 0 today; then every ciphertext's sum also stays below `max_int` (see the type's note).
    public func canSum(count: Int) -> Bool {
        guard count >= 0 else { return false }
        return maxima.allSatisfy { Self.fits(count: count, max: $0, bits: slotBits) }
    }

    /// The largest record count ``canSum(count:)`` accepts (at most `Int.max`).
    public var maxSafeCount: Int {
        var low = 0, high = Int.max
        guard !canSum(count: high) else { return high }
        while low < high {  // canSum(low) holds; every count above high fails.
            let mid = low + (high - low) / 2 + 1  // in low+1 ... high, without overflow
            if canSum(count: mid) { low = mid } else { high = mid - 1 }
        }
        return low
    }

    static func fits(count: Int, max: Int, bits: Int) -> Bool {
        if bits >= 128 { return true }
        let (high, low) = UInt64(count).multipliedFullWidth(by: UInt64(max))
        // The product (high:low) must be ≤ 2^bits − 1, i.e. < 2^bits.
        if bits >= 64 { return high >> UInt64(bits - 64) == 0 }
        return high == 0 && low >> UInt64(bits) == 0
    }
}
