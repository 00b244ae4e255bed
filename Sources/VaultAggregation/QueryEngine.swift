import Foundation
import BigNum
public import Paillier
import Primitives
import VaultAudit
import VaultModel
import VaultPolicy
public import VaultStore

/// Runs a query on a vault: plans the cells from the vault's atoms, checks the policy, sums each cell's ciphertexts
/// homomorphically on all cores, withholds what the policy forbids, adds differential-privacy noise when the policy
/// asks for it, re-randomises the released sums and records the release (cells, audit state, privacy spend and
/// audit entry) in one transaction.
public struct QueryEngine: Sendable {
    public let vault: Vault
    public let key: PublicKey
    /// Worker threads for the homomorphic sums.
    public var workers: Int
    /// Where differential-privacy noise comes from: OpenSSL's CSPRNG unless a test injects a seeded source.
    public var noiseSource: @Sendable () -> any RandomByteSource = { SystemRandomSource() }

    /// Opens the engine on a vault, loading the vault's public key from its descriptor.
    public init(vault: Vault, workers: Int = availableCores) throws(AggregationError) {
        self.vault = vault
        self.workers = workers
        do {
            // The vault accepted this key at `vault init` under its policy (KEY-MIN); it is not re-judged here.
            key = try vault.descriptor.paillierKey(allowInsecureSize: true)
        } catch {
            throw AggregationError(.invalidRelease, "the vault's descriptor holds an unusable public key: \(error.message)")
        }
    }

    /// What a run produced.
    public struct Outcome: Sendable {
        public var release: Release
        /// Records that matched the filters.
        public var matchedRecords: Int
        public var seconds: Double
        /// Time spent in LIN-AUDIT (loading or rebuilding its state, deciding every cell, serialising it).
        public var auditSeconds: Double
        /// LIN-AUDIT's state after the release: rank of the released span, atoms it covers, bytes stored.
        public var auditRank: Int
        public var auditAtoms: Int
        public var auditStateBytes: Int
        /// Cells LIN-AUDIT withheld because its exact search ran past its budget (sound, possibly over-cautious).
        public var auditUndecided: Int
    }

    /// A cell planned from the atoms.
    struct PlannedCell {
        var values: [String]
        var atoms: [Int64] = []
        var count = 0
    }

    /// Runs `query`. Progress (records read so far) goes to `progress`, called from the reading thread.
    ///
    /// `deliver` receives the finished release *inside* the transaction that records it, before the commit: a
    /// caller writes and syncs the release file there (the bytes of `Release.jsonData()`, whose SHA-256 the log
    /// entry carries), so a release the bureau cannot receive is never recorded (if `deliver` throws, nothing is
    /// recorded and its error is rethrown as `.storage`).
    ///
    /// - Throws: ``AggregationError`` — `.invalidQuery` for unknown attributes or an unusable contrast,
    ///   `.refused` (logged as `query.refused`) when the policy refuses the whole query (ATTR-ALLOW, DP-BUDGET),
    ///   `.overflow` when packed sums could overflow, `.storage` for database failures.
    public func run(
        _ query: Query, progress: (Int) -> Void = { _ in }, deliver: (Release) throws -> Void = { _ in }
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
        let schoolAttributes = Set(schools.flatMap { $0.attributes.keys })
        let recordAttributes = Set(schema.attributes.map(\.name))
        let known = Set(["school", "subject"]).union(schoolAttributes).union(recordAttributes)

        for attribute in query.attributes where !known.contains(attribute) {
            throw AggregationError(.invalidQuery,
                                   "unknown attribute '\(attribute.prefix(40))'; known: \(known.sorted().joined(separator: ", "))")
        }
        let allowed = policy.allowedAttributes
        if let denied = query.attributes.first(where: { !allowed.contains($0) }) {
            try logRefusal(query, rule: "ATTR-ALLOW", reason: "attribute \(denied) is not allowed")
            throw AggregationError(.refused, "the policy does not allow grouping or filtering by '\(denied)'", rule: "ATTR-ALLOW")
        }

        // Overflow is ruled out before any sum: every cell holds at most all stored records.
        let layout: SlotLayout
        do { layout = try SlotLayout(slotBits: schema.slotBits, slotCount: schema.slotCount) } catch {
            throw AggregationError(.overflow, error.message)
        }
        let total = atoms.reduce(0) { $0 + $1.recordCount }
        let maxX = BigNum(UInt64(schema.maxScore))
        guard layout.canSum(count: total, slotMaxima: [maxX, maxX * maxX]), layout.fits(key) else {
            throw AggregationError(.overflow, "\(total) records could overflow \(schema.slotBits)-bit slots; the vault "
                                   + "needs a wider slot layout")
        }

        // Plan the cells from the atoms: every record of an atom shares every attribute a query can use.
        let registry = Dictionary(uniqueKeysWithValues: schools.map { ($0.id.rawValue, $0.attributes) })
        let cellAttributes = query.cellAttributes
        let filters = query.filters.map { (name: $0.key, value: $0.key == "subject" ? $0.value.lowercased() : $0.value) }
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
            let values = cellAttributes.map(value)
            let index: Int
            if let existing = cellIndex[values] { index = existing } else {
                index = planned.count
                cellIndex[values] = index
                planned.append(PlannedCell(values: values))
            }
            planned[index].atoms.append(atom.id)
            planned[index].count += atom.recordCount
        }
        let matched = planned.reduce(0) { $0 + $1.count }
        if let contrast = query.contrast {
            let position = cellAttributes.count - 1
            let values = Set(planned.map { $0.values[position] })
            guard values.count == 2 else {
                throw AggregationError(.invalidQuery, "--contrast \(contrast) needs exactly two values among the "
                                       + "matching records; found \(values.count)")
            }
        }
        let order = planned.indices.sorted { planned[$0].values.lexicographicallyPrecedes(planned[$1].values) }
        let candidates = planned.map { Suppression.Candidate(values: $0.values, atoms: $0.atoms.sorted(), count: $0.count) }

        // K-MIN depends on counts alone: only cells it lets through are summed.
        let k = policy.minCellSize
        var withheld = Suppression.primary(candidates, k: k)
        let sums = try sumCells(planned, skipping: withheld, filter: pushdownFilter(query, schools: schools),
                                progress: progress)

        let noise = try policy.differentialPrivacy.map { dp throws(AggregationError) in
            try NoisePlan(rule: dp, schema: schema, matchedAtoms: planned.flatMap(\.atoms), atoms: atoms)
        }
        let releaseID: String
        do { releaseID = Hex.encode(try SecureRandom.bytes(16)) } catch {
            throw AggregationError(.storage, "no release id: \(error.message)")
        }
        let queryJSON = String(decoding: (try? JSONEncoder.sorted.encode(query)) ?? Data(), as: UTF8.self)
        var auditSeconds = 0.0
        var auditFigures = (rank: 0, atoms: 0, bytes: 0)
        var undecided = 0
        var finished: Release? = nil
        do {
            try vault.recordRelease(id: releaseID, queryJSON: queryJSON, details: [
                "query_sha256": Hex.encode(SHA256.hash(Array(queryJSON.utf8))),
                "matched_records": String(matched),
                "policy": "\(policy.id)@\(policy.version)",
            ], decide: { prior in
                // Rules that judge one cell against one earlier cell, and the legacy cascade, to a fixed point.
                if policy.differencingGuard || policy.complementarySuppression {
                    var earlier: [ReleaseCell] = []
                    if policy.differencingGuard { try prior.forEachCell { earlier.append($0.cell) } }
                    let unknown = Set(earlier.flatMap(\.atoms)).subtracting(atomSize.keys)
                    let sizes = atomSize.merging(try prior.atomSizes(unknown)) { a, _ in a }
                    let size = { (id: Int64) in sizes[id] ?? 0 }
                    var changed = true
                    while changed {
                        let before = withheld.count
                        if policy.differencingGuard {
                            for i in candidates.indices where withheld[i] == nil {
                                if earlier.contains(where: { Suppression.isDifferencing(
                                    candidates[i], $0, size: size, k: policy.differencingThreshold) }) {
                                    withheld[i] = Suppression.differencing
                                }
                            }
                        }
                        if policy.complementarySuppression {
                            withheld = Suppression.complementary(candidates, suppressed: withheld, k: k)
                        }
                        changed = withheld.count != before
                    }
                }
                // DP-BUDGET: the whole query is refused once the budget is spent.
                if let dp = policy.differentialPrivacy {
                    let spent = try prior.privacySpentNano()
                    guard spent + dp.rhoPerReleaseNano <= dp.rhoTotalNano else {
                        throw AggregationError(
                            .refused, "the vault's privacy budget is spent: ρ = \(Policy.DifferentialPrivacy.decimal(nano: spent)) "
                            + "of \(Policy.DifferentialPrivacy.decimal(nano: dp.rhoTotalNano)) used, this release needs "
                            + Policy.DifferentialPrivacy.decimal(nano: dp.rhoPerReleaseNano),
                            rule: Policy.privacyBudgetRule)
                    }
                }
                // LIN-AUDIT: admit cells one by one, in the release's order, against everything released so far.
                var auditState: StoredAuditState? = nil
                if policy.linearAudit {
                    let auditStarted = Date()
                    var (audit, releases) = try LinearAudit.current(prior, k: k)
                    for i in order where withheld[i] == nil {
                        let cell = LinearAudit.Cell(atoms: candidates[i].atoms.map { (id: $0, records: atomSize[$0] ?? 0) })
                        let verdict = audit.admit(cell)
                        if verdict == .undecided { undecided += 1 }
                        if !verdict.admits { withheld[i] = Suppression.linearAudit }
                    }
                    let bytes = audit.serialized()
                    auditState = StoredAuditState(k: k, prime: audit.prime, releases: releases + 1, lastLogIndex: 0,
                                                  bytes: bytes)
                    auditFigures = (audit.rank, audit.atomCount, bytes.count)
                    auditSeconds = Date().timeIntervalSince(auditStarted)
                }
                let released = order.filter { withheld[$0] == nil }
                var details: [String: String] = [:]
                let rules = Dictionary(grouping: withheld.values, by: { $0 }).map { "\($0.key):\($0.value.count)" }
                if !rules.isEmpty { details["suppressed"] = rules.sorted().joined(separator: ",") }
                if undecided > 0 { details["lin_audit_undecided"] = String(undecided) }
                let cost = released.isEmpty ? 0 : policy.differentialPrivacy?.rhoPerReleaseNano ?? 0
                return ReleaseDecision(
                    cells: released.map { i in
                        ReleaseCell(key: planned[i].values.joined(separator: "\u{1F}"), recordCount: planned[i].count,
                                    atoms: candidates[i].atoms)
                    },
                    details: details, auditState: auditState, privacyCostNano: cost)
            }, sealStoring: { logIndex, time, _ in
                var cells: [Release.Cell] = []
                var suppressed: [Release.Suppressed] = []
                var source = noiseSource()
                for i in order {
                    let by = Dictionary(uniqueKeysWithValues: zip(cellAttributes, planned[i].values))
                    if let rule = withheld[i] {
                        suppressed.append(Release.Suppressed(by: by, rule: rule))
                        continue
                    }
                    guard var sum = sums[i] else { throw AggregationError(.storage, "a cell has no sum") }
                    if let noise {
                        sum = try noise.addNoise(to: sum, records: planned[i].count, key: key, layout: layout,
                                                 maxScore: schema.maxScore, source: &source)
                    }
                    let fresh: Ciphertext
                    do { fresh = try key.rerandomize(sum) } catch { throw AggregationError(.storage, "re-randomising a sum failed: \(error)") }
                    cells.append(Release.Cell(by: by, count: planned[i].count, sum: fresh.value.decimalString))
                }
                var release = Release(
                    format: noise == nil ? Release.formatTag : Release.noisyFormatTag, id: releaseID,
                    vault: vault.descriptor.vaultID, keyID: key.keyID, query: query, policy: policy.reference,
                    created: time, logIndex: logIndex, scale: schema.scale, slotBits: schema.slotBits,
                    slotCount: schema.slotCount, cells: cells, suppressed: suppressed, noise: noise?.description)
                try release.sign(by: vault)
                let bytes: Data
                do { bytes = try release.jsonData() } catch { throw AggregationError(.storage, "the release cannot be encoded") }
                try deliver(release)
                finished = release
                // The entry binds the release file (the exact bytes `Release.jsonData()` writes) and its noise.
                var bound = ["release_sha256": Hex.encode(SHA256.hash(Array(bytes)))]
                if let noise { bound["dp_rho"] = noise.description.rho }
                // The vault keeps the bytes it handed over, so the bureau can fetch them again (GET /v1/releases/{id}).
                return (bound, Array(bytes))
            })
        } catch let error as AggregationError {
            if error.code == .refused, let rule = error.rule {
                try logRefusal(query, rule: rule, reason: error.message)
            }
            throw error
        } catch let error as StoreError {
            throw AggregationError(.storage, error.message)
        } catch {
            throw AggregationError(.storage, "the release was not recorded: \(error)")
        }
        guard let release = finished else { throw AggregationError(.storage, "the release was not built") }
        return Outcome(release: release, matchedRecords: matched, seconds: Date().timeIntervalSince(started),
                       auditSeconds: auditSeconds, auditRank: auditFigures.rank, auditAtoms: auditFigures.atoms,
                       auditStateBytes: auditFigures.bytes, auditUndecided: undecided)
    }

    /// The equality filters SQLite can apply (school, school attributes, subject, term), so the scan reads fewer
    /// rows; the atom plan decides membership exactly.
    private func pushdownFilter(_ query: Query, schools: [SchoolInfo]) throws(AggregationError) -> RecordFilter {
        try Self.pushdownFilter(query.filters, schools: schools, schema: vault.descriptor.schema)
    }

    /// The pushdown filter for equality `filters` (also used by ``ModelEngine``).
    static func pushdownFilter(_ filters: [String: String], schools: [SchoolInfo], schema: Schema)
        throws(AggregationError) -> RecordFilter
    {
        var filter = RecordFilter()
        var schoolSet: Set<String>? = nil
        let recordAttributes = Set(schema.attributes.map(\.name))
        let schoolAttributes = Set(schools.flatMap { $0.attributes.keys })
        for (name, value) in filters {
            switch name {
            case "school": schoolSet = (schoolSet ?? Set(schools.map(\.id.rawValue))).intersection([value])
            case "subject": filter.subjects = [value.lowercased()]
            case _ where schoolAttributes.contains(name) && !recordAttributes.contains(name):
                let matching = schools.filter { $0.attributes[name] == value }.map(\.id.rawValue)
                schoolSet = (schoolSet ?? Set(schools.map(\.id.rawValue))).intersection(matching)
            default: break
            }
        }
        if let schoolSet {
            filter.schools = try schoolSet.sorted().map { (id) throws(AggregationError) -> SchoolID in
                do { return try SchoolID(id) } catch { throw AggregationError(.invalidQuery, "bad school id") }
            }
        }
        return filter
    }

    /// Sums the ciphertexts of every planned cell not in `skipping`, on all cores; checks that each summed cell
    /// got exactly the records its atoms hold.
    private func sumCells(_ planned: [PlannedCell], skipping: [Int: String], filter: RecordFilter,
                          progress: (Int) -> Void) throws(AggregationError) -> [Int: Ciphertext]
    {
        var cellOfAtom: [Int32] = []
        var wanted = 0
        for (index, cell) in planned.enumerated() where skipping[index] == nil {
            for atom in cell.atoms {
                let slot = Int(atom)
                if slot >= cellOfAtom.count { cellOfAtom += [Int32](repeating: -1, count: slot + 1 - cellOfAtom.count) }
                cellOfAtom[slot] = Int32(index)
            }
            wanted += cell.count
        }
        guard wanted > 0 else { return [:] }
        let (sums, summed) = try sumRecords(cellOfAtom: cellOfAtom, cells: planned.count, filter: filter,
                                            progress: progress)
        for (index, cell) in planned.enumerated() where skipping[index] == nil && summed[index] != cell.count {
            throw AggregationError(.storage, "the stored records do not match their atoms; run `eduvault vault check`")
        }
        return sums
    }

    private func logRefusal(_ query: Query, rule: String, reason: String) throws(AggregationError) {
        let queryJSON = String(decoding: (try? JSONEncoder.sorted.encode(query)) ?? Data(), as: UTF8.self)
        do {
            _ = try vault.logQueryRefusal(details: [
                "query_sha256": Hex.encode(SHA256.hash(Array(queryJSON.utf8))), "rule": rule, "reason": reason,
            ])
        } catch { throw AggregationError(.storage, error.message) }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
