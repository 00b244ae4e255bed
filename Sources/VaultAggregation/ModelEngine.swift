import BigNum
import Foundation
public import Paillier
import Primitives
import VaultAudit
import VaultModel
import VaultPolicy
import VaultStatistics
public import VaultStore

/// Runs a model (`eduvault analyze`) on a vault: plans cells from the vault's atoms, checks the model-output rules
/// on plaintext counts, sums each cell's packed ciphertexts homomorphically on all cores, combines the cell sums into
/// the blocks a model needs (the total, each level of each categorical term, each random group), checks DIFF-GUARD
/// and LIN-AUDIT on the blocks' record sets, re-randomises them and records the release — blocks, audit state and
/// audit entry — in one transaction. Per-cell sums never leave the engine.
///
/// Rules (policy ids), in the order they are applied:
/// - `MODEL-DP`: a differential-privacy vault releases no model (model blocks are exact sums).
/// - `ATTR-ALLOW`: every categorical term, filter and random grouping is an allowed attribute.
/// - `MODEL-LEVEL-K`: every level of every categorical term and every random group has ≥ k (K-MIN) records.
/// - `K-MIN`: the model's whole record set (and every block) has ≥ k records.
/// - `MODEL-SATURATED`: the model has fewer columns than records, and its categorical part has full column rank
///   (decided exactly from the public counts of every pair of levels).
/// - `MODEL-DF`: n − columns ≥ the policy's `min_df_resid`.
/// - `DIFF-GUARD`: no block's record set differs from an earlier released cell's by 1 … threshold − 1 records.
/// - `LIN-AUDIT`: every block is admitted, in order, by the linear audit over everything released before; the
///   blocks become released rows exactly like query cells.
/// A refusal refuses the whole model, is logged as `query.refused` with its rule and leaves nothing else behind.
public struct ModelEngine: Sendable {
    public let vault: Vault
    public let key: PublicKey
    /// Worker threads for the homomorphic sums.
    public var workers: Int

    /// Opens the engine on a vault, loading the vault's public key from its descriptor.
    public init(vault: Vault, workers: Int = availableCores) throws(AggregationError) {
        self.vault = vault
        self.workers = workers
        do {
            key = try vault.descriptor.paillierKey(allowInsecureSize: true)
        } catch {
            throw AggregationError(
                .invalidRelease, "the vault's descriptor holds an unusable public key: \(error.message)")
        }
    }

    /// What a run produced.
    public struct Outcome: Sendable {
        public var release: ModelRelease
        /// Records the model uses (those matching the filters).
        public var matchedRecords: Int
        /// Cells summed (distinct combinations of the categorical terms and the group).
        public var cells: Int
        public var seconds: Double
        /// Time spent summing ciphertexts (the scan), and in LIN-AUDIT.
        public var sumSeconds: Double
        public var auditSeconds: Double
    }

    /// A cell planned from the atoms: its values (one per categorical term, then the group), atoms and records.
    struct PlannedCell {
        var values: [String]
        var atoms: [Int64] = []
        var count = 0
    }

    /// Runs `spec`. Progress (records read so far) goes to `progress`, called from the reading thread.
    ///
    /// `deliver` receives the finished release inside the transaction that records it, before the commit (as
    /// ``QueryEngine/run(_:progress:deliver:)``): a release the bureau cannot receive is never recorded.
    ///
    /// - Throws: ``AggregationError`` — `.invalidQuery` for a malformed model (unknown term, a response other than
    ///   `score`, a term with one level among the matching records…), `.refused` (logged as `query.refused`) when a
    ///   rule refuses the model, `.overflow` when packed sums could overflow, `.storage` for database failures.
    public func run(
        _ spec: ModelSpec, progress: (Int) -> Void = { _ in }, deliver: (ModelRelease) throws -> Void = { _ in }
    ) throws(AggregationError) -> Outcome {
        let started = Date()
        let policy: Policy
        let schools: [SchoolInfo]
        let atoms: [Atom]
        do {
            policy = try vault.policy().policy
            schools = try vault.schools()
            atoms = try vault.atoms()
        } catch { throw AggregationError(.storage, error.message) }
        let schema = vault.descriptor.schema
        let layout = try ModelLayout(schema: schema, keyBits: vault.descriptor.keyBits)
        let formula = try ModelSpec.parseFormula(spec.formula)

        // The terms: the response must be the score; numeric terms are covariates, categorical ones attributes.
        guard formula.response == "score" else {
            throw AggregationError(
                .invalidQuery,
                "the response must be score (the encrypted score); got "
                    + "'\(formula.response.prefix(40))'. Write --model \"score ~ …\"")
        }
        let schoolAttributes = Set(schools.flatMap { $0.attributes.keys })
        let recordAttributes = Set(schema.attributes.map(\.name))
        let attributes = Set(["school", "subject"]).union(schoolAttributes).union(recordAttributes)
        var numeric: [String] = []
        var categorical: [String] = []
        for term in formula.terms {
            if layout.covariates.contains(term) {
                numeric.append(term)
            } else if attributes.contains(term) {
                categorical.append(term)
            } else {
                let known = (layout.covariates + attributes.sorted()).joined(separator: ", ")
                throw AggregationError(
                    .invalidQuery,
                    "unknown term '\(term.prefix(40))'; terms are numeric covariates "
                        + "or attributes: \(known)")
            }
        }
        for name in spec.filters.keys where !attributes.contains(name) {
            throw AggregationError(
                .invalidQuery,
                "unknown --where attribute '\(name.prefix(40))'; known: "
                    + attributes.sorted().joined(separator: ", "))
        }
        if let random = spec.random {
            guard random == "school" || (schoolAttributes.contains(random) && !recordAttributes.contains(random)) else {
                throw AggregationError(
                    .invalidQuery,
                    "--random \(random.prefix(40)) must be school or a school attribute "
                        + "(\(schoolAttributes.sorted().joined(separator: ", ")))")
            }
            guard !categorical.contains(random) else {
                throw AggregationError(.invalidQuery, "--random \(random) is also a fixed term of the model; drop one")
            }
        }
        if let contrast = spec.contrast, !categorical.contains(contrast) {
            throw AggregationError(
                .invalidQuery, "--contrast \(contrast.prefix(40)) must be a categorical term of the model")
        }
        if let filtered = categorical.first(where: { spec.filters[$0] != nil }) {
            throw AggregationError(.invalidQuery, "\(filtered) is both a term and a --where filter: it has one level")
        }
        let specJSON = String(decoding: (try? JSONEncoder.sorted.encode(spec)) ?? Data(), as: UTF8.self)
        func refuse(_ rule: String, _ message: String) throws(AggregationError) -> Never {
            try logRefusal(specJSON, rule: rule, reason: message)
            throw AggregationError(.refused, message, rule: rule)
        }
        if policy.differentialPrivacy != nil {
            try refuse(
                Policy.modelDPRule,
                "this vault's policy adds differential-privacy noise to every release; a model "
                    + "release would carry exact sums, so models are not available here (use query)")
        }
        let used = categorical + spec.filters.keys.sorted() + (spec.random.map { [$0] } ?? [])
        if let denied = used.first(where: { !policy.allowedAttributes.contains($0) }) {
            try refuse("ATTR-ALLOW", "the policy does not allow grouping or filtering by '\(denied)'")
        }

        // Plan the cells: every record of an atom shares every attribute a term, filter or group can use.
        let registry = Dictionary(uniqueKeysWithValues: schools.map { ($0.id.rawValue, $0.attributes) })
        let filters = spec.filters.map { (name: $0.key, value: $0.key == "subject" ? $0.value.lowercased() : $0.value) }
        let keyAttributes = categorical + (spec.random.map { [$0] } ?? [])
        var cellIndex: [[String]: Int] = [:]
        var planned: [PlannedCell] = []
        var atomSize: [Int64: Int] = [:]
        for atom in atoms where atom.recordCount > 0 {
            atomSize[atom.id] = atom.recordCount
            func value(_ name: String) -> String {
                switch name {
                case "school": return atom.schoolID
                case "subject": return atom.subject
                default:
                    if recordAttributes.contains(name) { return atom.attributes[name] ?? "(none)" }
                    return registry[atom.schoolID]?[name] ?? "(none)"
                }
            }
            guard filters.allSatisfy({ value($0.name) == $0.value }) else { continue }
            let values = keyAttributes.map(value)
            let index: Int
            if let existing = cellIndex[values] {
                index = existing
            } else {
                index = planned.count
                cellIndex[values] = index
                planned.append(PlannedCell(values: values))
            }
            planned[index].atoms.append(atom.id)
            planned[index].count += atom.recordCount
        }
        let n = planned.reduce(0) { $0 + $1.count }
        guard n > 0 else { throw AggregationError(.invalidQuery, "no records match the --where filters") }

        // Levels, groups and their counts (all public: counts of atoms).
        let levels = categorical.indices.map { t in Set(planned.map { $0.values[t] }).sorted() }
        for (t, term) in categorical.enumerated() where levels[t].count < 2 {
            throw AggregationError(
                .invalidQuery,
                "the term \(term) has one value among the matching records; drop it "
                    + "or widen --where")
        }
        if let contrast = spec.contrast, let t = categorical.firstIndex(of: contrast), levels[t].count != 2 {
            throw AggregationError(
                .invalidQuery, "--contrast \(contrast) needs exactly two levels; it has \(levels[t].count)")
        }
        let levelIndex = levels.map { Dictionary(uniqueKeysWithValues: $0.enumerated().map { ($1, $0) }) }
        let groups = spec.random.map { _ in Set(planned.map { $0.values[categorical.count] }).sorted() } ?? []
        let groupIndex = Dictionary(uniqueKeysWithValues: groups.enumerated().map { ($1, $0) })
        var levelCounts = levels.map { [Int](repeating: 0, count: $0.count) }
        var pairCounts: [[[Int]]] = []
        for a in categorical.indices {
            for b in categorical.indices where b > a {
                pairCounts.append(
                    [[Int]](repeating: [Int](repeating: 0, count: levels[b].count), count: levels[a].count))
            }
        }
        var groupCounts = [Int](repeating: 0, count: groups.count)
        var groupLevelCounts = [[[Int]]](
            repeating: levels.map { [Int](repeating: 0, count: $0.count) }, count: groups.count)
        var cellLevel: [[Int]] = []  // per cell: level index per term
        var cellGroup: [Int] = []
        for cell in planned {
            let ls = categorical.indices.map { levelIndex[$0][cell.values[$0]] ?? 0 }
            cellLevel.append(ls)
            for (t, l) in ls.enumerated() { levelCounts[t][l] += cell.count }
            var pair = 0
            for a in categorical.indices {
                for b in categorical.indices where b > a {
                    pairCounts[pair][ls[a]][ls[b]] += cell.count
                    pair += 1
                }
            }
            if spec.random != nil {
                let g = groupIndex[cell.values[categorical.count]] ?? 0
                cellGroup.append(g)
                groupCounts[g] += cell.count
                for (t, l) in ls.enumerated() { groupLevelCounts[g][t][l] += cell.count }
            }
        }

        // The model-output rules, on counts alone.
        let k = policy.minCellSize
        if policy.modelLevelK {
            for (t, term) in categorical.enumerated() {
                if let l = levelCounts[t].firstIndex(where: { $0 < k }) {
                    try refuse(
                        "MODEL-LEVEL-K",
                        "the level \(term)=\(levels[t][l]) has \(levelCounts[t][l]) records; every "
                            + "level needs at least \(k): merge or drop the term, or widen --where")
                }
            }
            if let random = spec.random, let g = groupCounts.firstIndex(where: { $0 < k }) {
                try refuse(
                    "MODEL-LEVEL-K",
                    "the group \(random)=\(groups[g]) has \(groupCounts[g]) records; every "
                        + "random group needs at least \(k): group by a coarser attribute or widen --where")
            }
        }
        if n < k {
            try refuse(Suppression.kMin, "the model would use \(n) records; K-MIN needs at least \(k): widen --where")
        }
        let categoricalColumns = 1 + levels.reduce(0) { $0 + $1.count - 1 }
        let columns = categoricalColumns + numeric.count
        if policy.modelRefusesSaturated {
            if columns >= n {
                try refuse(
                    "MODEL-SATURATED",
                    "the model has \(columns) columns for \(n) records (saturated): drop terms "
                        + "or widen --where")
            }
            let rank = Self.categoricalRank(total: n, levelCounts: levelCounts, pairCounts: pairCounts)
            if rank < categoricalColumns {
                try refuse(
                    "MODEL-SATURATED",
                    "the categorical terms \(categorical.joined(separator: ", ")) are collinear "
                        + "among the matching records (X'X is singular; e.g. a school attribute next to school): "
                        + "drop one")
            }
        }
        if n - columns < policy.modelMinDF {
            try refuse(
                "MODEL-DF",
                "the model leaves \(n - columns) residual degrees of freedom (\(n) records, \(columns) "
                    + "columns); MODEL-DF needs at least \(policy.modelMinDF): drop terms or widen --where")
        }

        // Overflow is ruled out before any sum: every block holds at most n records.
        guard layout.canSum(count: n, key: key) else {
            throw AggregationError(
                .overflow,
                "\(n) records could overflow the vault's \(layout.slotBits)-bit slots; the "
                    + "vault needs a wider slot layout")
        }

        // Sum every cell's ciphertexts, then combine cells into the released blocks.
        let sumStarted = Date()
        let cellSums = try sumCells(
            planned, layout: layout,
            filter: QueryEngine.pushdownFilter(spec.filters, schools: schools, schema: schema),
            progress: progress)
        let sumSeconds = Date().timeIntervalSince(sumStarted)
        struct PlannedBlock {
            var key: String
            var cells: [Int] = []
            var count = 0
        }
        var blocks = [PlannedBlock(key: "model:total", cells: Array(planned.indices), count: n)]
        var levelBlockStart: [Int] = []
        for (t, term) in categorical.enumerated() {
            levelBlockStart.append(blocks.count)
            for (l, level) in levels[t].enumerated() {
                blocks.append(PlannedBlock(key: "model:\(term)=\(level)", count: levelCounts[t][l]))
            }
        }
        let groupBlockStart = blocks.count
        for (g, group) in groups.enumerated() {
            blocks.append(PlannedBlock(key: "model:random:\(spec.random ?? "")=\(group)", count: groupCounts[g]))
        }
        for c in planned.indices {
            for (t, l) in cellLevel[c].enumerated() { blocks[levelBlockStart[t] + l].cells.append(c) }
            if spec.random != nil { blocks[groupBlockStart + cellGroup[c]].cells.append(c) }
        }
        let releaseCells = blocks.map { block in
            ReleaseCell(
                key: block.key, recordCount: block.count, atoms: block.cells.flatMap { planned[$0].atoms }.sorted())
        }
        let blockSums: [[Ciphertext]] = try blocks.map { block throws(AggregationError) in
            try (0..<layout.ciphertextCount).map { (c) throws(AggregationError) -> Ciphertext in
                var sum: Ciphertext? = nil
                for cell in block.cells {
                    guard let s = cellSums[cell * layout.ciphertextCount + c] else {
                        throw AggregationError(.storage, "a cell has no sum")
                    }
                    sum = sum.map { key.add($0, s) } ?? s
                }
                guard let sum else { throw AggregationError(.storage, "a block has no records") }
                return sum
            }
        }

        let releaseID: String
        do { releaseID = Hex.encode(try SecureRandom.bytes(16)) } catch {
            throw AggregationError(.storage, "no release id: \(error.message)")
        }
        var auditSeconds = 0.0
        var finished: ModelRelease? = nil
        do {
            try vault.recordRelease(
                id: releaseID, queryJSON: specJSON,
                details: [
                    "query_sha256": Hex.encode(SHA256.hash(Array(specJSON.utf8))),
                    "matched_records": String(n),
                    "policy": "\(policy.id)@\(policy.version)",
                    "release_kind": "model",
                ],
                decide: { prior in
                    // DIFF-GUARD: no block differs from an earlier released cell by 1 … threshold − 1 records.
                    if policy.differencingGuard {
                        var earlier: [ReleaseCell] = []
                        try prior.forEachCell { earlier.append($0.cell) }
                        let unknown = Set(earlier.flatMap(\.atoms)).subtracting(atomSize.keys)
                        let sizes = atomSize.merging(try prior.atomSizes(unknown)) { a, _ in a }
                        let size = { (id: Int64) in sizes[id] ?? 0 }
                        for (block, cell) in zip(blocks, releaseCells) {
                            let candidate = Suppression.Candidate(
                                values: [block.key], atoms: cell.atoms, count: cell.recordCount)
                            if earlier.contains(where: {
                                Suppression.isDifferencing(
                                    candidate, $0, size: size, k: policy.differencingThreshold)
                            }) {
                                throw AggregationError(
                                    .refused,
                                    "the records of the model's block \(Self.describe(block.key)) differ from an "
                                        + "earlier release by fewer than \(policy.differencingThreshold) records: "
                                        + "change --where or the terms", rule: Suppression.differencing)
                            }
                        }
                    }
                    // K-MIN backs MODEL-LEVEL-K for every block, whatever the policy says about models.
                    if let small = releaseCells.firstIndex(where: { $0.recordCount < k }) {
                        throw AggregationError(
                            .refused,
                            "the model's block \(Self.describe(blocks[small].key)) has "
                                + "\(releaseCells[small].recordCount) records; K-MIN needs at least \(k)",
                            rule: Suppression.kMin)
                    }
                    // LIN-AUDIT: every block is a released row, admitted in order against everything released so far.
                    var auditState: StoredAuditState? = nil
                    if policy.linearAudit {
                        let auditStarted = Date()
                        var (audit, releases) = try LinearAudit.current(prior, k: k)
                        for (block, cell) in zip(blocks, releaseCells) {
                            let verdict = audit.admit(
                                LinearAudit.Cell(atoms: cell.atoms.map { (id: $0, records: atomSize[$0] ?? 0) }))
                            guard verdict.admits else {
                                throw AggregationError(
                                    .refused,
                                    "with earlier releases, the model's block \(Self.describe(block.key)) would "
                                        + "determine a total of fewer than \(k) records"
                                        + (verdict == .undecided ? " (or the audit could not rule it out)" : "")
                                        + ": change --where, the terms or --random", rule: Suppression.linearAudit)
                            }
                        }
                        let bytes = audit.serialized()
                        auditState = StoredAuditState(
                            k: k, prime: audit.prime, releases: releases + 1, lastLogIndex: 0,
                            bytes: bytes)
                        auditSeconds = Date().timeIntervalSince(auditStarted)
                    }
                    return ReleaseDecision(
                        cells: releaseCells, details: ["blocks": String(blocks.count)],
                        auditState: auditState, privacyCostNano: 0)
                },
                sealStoring: { logIndex, time, _ in
                    var fresh: [ModelRelease.Block] = []
                    for (block, sums) in zip(blocks, blockSums) {
                        var texts: [String] = []
                        for sum in sums {
                            do { texts.append(try key.rerandomize(sum).value.decimalString) } catch {
                                throw AggregationError(.storage, "re-randomising a sum failed: \(error)")
                            }
                        }
                        fresh.append(ModelRelease.Block(count: block.count, sums: texts))
                    }
                    var levelBlocks: [[ModelRelease.Block]] = []
                    for (t, start) in levelBlockStart.enumerated() {
                        levelBlocks.append(Array(fresh[start..<(start + levels[t].count)]))
                    }
                    var release = ModelRelease(
                        format: ModelRelease.formatTag, id: releaseID, vault: vault.descriptor.vaultID,
                        keyID: key.keyID,
                        model: ModelSpec(
                            formula: formula.text, filters: spec.filters, random: spec.random,
                            contrast: spec.contrast),
                        policy: policy.reference, created: time, logIndex: logIndex, scale: schema.scale,
                        layout: layout.releaseLayout, numeric: ["score"] + numeric,
                        categorical: zip(categorical, levels).map { ModelRelease.Term(name: $0, levels: $1) },
                        total: fresh[0], levels: levelBlocks, pairCounts: pairCounts,
                        random: spec.random.map { name in
                            ModelRelease.Random(
                                name: name, groups: groups, blocks: Array(fresh[groupBlockStart...]),
                                levelCounts: groupLevelCounts)
                        })
                    try release.sign(by: vault)
                    let bytes: Data
                    do { bytes = try release.jsonData() } catch {
                        throw AggregationError(.storage, "the release cannot be encoded")
                    }
                    try deliver(release)
                    finished = release
                    return (["release_sha256": Hex.encode(SHA256.hash(Array(bytes)))], Array(bytes))
                })
        } catch let error as AggregationError {
            if error.code == .refused, let rule = error.rule {
                try logRefusal(specJSON, rule: rule, reason: error.message)
            }
            throw error
        } catch let error as StoreError {
            throw AggregationError(.storage, error.message)
        } catch {
            throw AggregationError(.storage, "the release was not recorded: \(error)")
        }
        guard let release = finished else { throw AggregationError(.storage, "the release was not built") }
        return Outcome(
            release: release, matchedRecords: n, cells: planned.count,
            seconds: Date().timeIntervalSince(started), sumSeconds: sumSeconds, auditSeconds: auditSeconds)
    }

    /// `sex=M` from a block key `model:sex=M`.
    static func describe(_ key: String) -> String {
        let name = key.hasPrefix("model:") ? String(key.dropFirst(6)) : key
        return name == "total" ? "(all its records)" : name
    }

    /// The rank, modulo 2^61 − 1, of the Gram matrix of the categorical design [1, dummies of every term] (first
    /// level of each term dropped), built from the counts alone: n, each level's count, each pair of levels' count.
    /// Equal to the rank over the rationals unless the prime divides a non-zero minor; a lower rank only refuses.
    static func categoricalRank(total: Int, levelCounts: [[Int]], pairCounts: [[[Int]]]) -> Int {
        var columns: [(term: Int, level: Int)] = []
        for (t, counts) in levelCounts.enumerated() { for l in counts.indices.dropFirst() { columns.append((t, l)) } }
        let terms = levelCounts.count
        func pairIndex(_ a: Int, _ b: Int) -> Int { a * terms - a * (a + 1) / 2 + (b - a - 1) }
        let size = columns.count + 1
        let field = PrimeField(LinearAudit.fallbackPrime)
        var m = [[UInt64]](repeating: [UInt64](repeating: 0, count: size), count: size)
        m[0][0] = UInt64(total)
        for (i, c) in columns.enumerated() {
            m[0][i + 1] = UInt64(levelCounts[c.term][c.level])
            m[i + 1][0] = m[0][i + 1]
            for (j, d) in columns.enumerated() {
                let value: Int
                if c.term == d.term {
                    value = c.level == d.level ? levelCounts[c.term][c.level] : 0
                } else if c.term < d.term {
                    value = pairCounts[pairIndex(c.term, d.term)][c.level][d.level]
                } else {
                    value = pairCounts[pairIndex(d.term, c.term)][d.level][c.level]
                }
                m[i + 1][j + 1] = UInt64(value)
            }
        }
        var rank = 0
        for column in 0..<size {
            guard let pivot = (rank..<size).first(where: { m[$0][column] != 0 }) else { continue }
            m.swapAt(rank, pivot)
            let inverse = field.inverse(m[rank][column])
            for r in 0..<size where r != rank && m[r][column] != 0 {
                let factor = field.mul(m[r][column], inverse)
                for c in column..<size { m[r][c] = field.sub(m[r][c], field.mul(factor, m[rank][c])) }
            }
            rank += 1
        }
        return rank
    }

    /// Sums every planned cell's ciphertexts on all cores: `result[cell · ciphertextCount + c]` is the cell's sum of
    /// the records' ciphertext c. Checks that each cell got exactly the records its atoms hold.
    private func sumCells(
        _ planned: [PlannedCell], layout: ModelLayout, filter: RecordFilter,
        progress: (Int) -> Void
    ) throws(AggregationError) -> [Int: Ciphertext] {
        var cellOfAtom: [Int32] = []
        for (index, cell) in planned.enumerated() {
            for atom in cell.atoms {
                let slot = Int(atom)
                if slot >= cellOfAtom.count { cellOfAtom += [Int32](repeating: -1, count: slot + 1 - cellOfAtom.count) }
                cellOfAtom[slot] = Int32(index)
            }
        }
        let (sums, summed) = try QueryEngine.sumRecords(
            vault: vault, key: key, workers: workers, cellOfAtom: cellOfAtom, cells: planned.count,
            perRecord: layout.ciphertextCount, filter: filter, chunkSize: QueryEngine.chunkSize, progress: progress)
        for (index, cell) in planned.enumerated() where summed[index] != cell.count {
            throw AggregationError(.storage, "the stored records do not match their atoms; run `eduvault vault check`")
        }
        return sums
    }

    private func logRefusal(_ specJSON: String, rule: String, reason: String) throws(AggregationError) {
        do {
            _ = try vault.logQueryRefusal(details: [
                "query_sha256": Hex.encode(SHA256.hash(Array(specJSON.utf8))), "rule": rule, "reason": reason,
                "release_kind": "model",
            ])
        } catch { throw AggregationError(.storage, error.message) }
    }
}

/// The vault's packed layout of a record's products (`Schema.momentLayout`), as a model release names them.
///
/// Ciphertext 0 holds y and y² (what every vault stores); vaults with numeric covariates add ciphertexts for x,
/// x², x·y and x_j·x_k.
struct ModelLayout {
    var moments: MomentLayout
    var products: [ModelRelease.Layout.Product]
    /// The numeric covariates the schema declares, in schema order.
    var covariates: [String]

    init(schema: Schema, keyBits: Int) throws(AggregationError) {
        guard schema.slotCount == 2 else {
            throw AggregationError(
                .invalidQuery,
                "this vault's schema packs the score alone (slot_count 1); models need "
                    + "Σx² too")
        }
        let moments: MomentLayout
        do { moments = try schema.momentLayout(keyBits: keyBits) } catch {
            throw AggregationError(.overflow, error.message)
        }
        self.moments = moments
        let names = schema.covariates.map(\.name)
        covariates = names
        products = moments.products.map { product in
            let name: String
            switch product {
            case .y: name = "y"
            case .y2: name = "y2"
            case .x(let j): name = "x:\(names[j])"
            case .x2(let j): name = "x2:\(names[j])"
            case .xy(let j): name = "xy:\(names[j])"
            case .xx(let j, let k): name = "xx:\(names[j]):\(names[k])"
            }
            let (ciphertext, slot) = moments.location(of: product)
            return ModelRelease.Layout.Product(name: name, ciphertext: ciphertext, slot: slot)
        }
    }

    var slotBits: Int { moments.slotBits }
    var ciphertextCount: Int { moments.ciphertextCount }

    var releaseLayout: ModelRelease.Layout {
        ModelRelease.Layout(
            slotBits: moments.slotBits,
            slotsPerCiphertext: ciphertextCount == 1
                ? MomentLayout.firstCiphertextSlots
                : max(MomentLayout.firstCiphertextSlots, moments.slotsPerCiphertext),
            ciphertextCount: ciphertextCount, products: products)
    }

    /// Whether sums of `count` records fit every slot (and every packed plaintext stays a positive encoding).
    func canSum(count: Int, key: PublicKey) -> Bool {
        guard let widest = try? SlotLayout(slotBits: moments.slotBits, slotCount: releaseLayout.slotsPerCiphertext),
            widest.fits(key)
        else { return false }
        return moments.canSum(count: count)
    }
}
