import Foundation
import BigNum
public import Paillier
import Primitives
import VaultAudit
import VaultModel
import VaultPolicy
public import VaultStore

/// Runs a query on a vault: checks the policy, sums each cell's ciphertexts homomorphically on all cores,
/// withholds what the policy forbids, re-randomises the released sums and records the release (cells, member sets
/// and audit entry) in one transaction.
public struct QueryEngine: Sendable {
    public let vault: Vault
    public let key: PublicKey
    /// Worker threads for the homomorphic sums.
    public var workers: Int

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
    }

    /// Runs `query`. Progress (records read so far) goes to `progress`, called from the reading thread.
    ///
    /// - Throws: ``AggregationError`` — `.invalidQuery` for unknown attributes or an unusable contrast,
    ///   `.refused` (logged as `query.refused`) when the policy refuses the whole query, `.overflow` when packed
    ///   sums could overflow, `.storage` for database failures.
    public func run(_ query: Query, progress: (Int) -> Void = { _ in }) throws(AggregationError) -> Outcome {
        let started = Date()
        let policy: Policy
        let schools: [SchoolInfo]
        do {
            policy = try vault.policy().policy
            schools = try vault.schools()
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
        let total: Int
        do { total = try vault.recordCount() } catch { throw AggregationError(.storage, "\(error)") }
        let maxX = BigNum(UInt64(schema.maxScore))
        guard layout.canSum(count: total, slotMaxima: [maxX, maxX * maxX]), layout.fits(key) else {
            throw AggregationError(.overflow, "\(total) records could overflow \(schema.slotBits)-bit slots; the vault "
                                   + "needs a wider slot layout")
        }

        // Push equality filters on school, school attributes, subject and term down to SQLite.
        var filter = RecordFilter()
        var recordFilters: [String: String] = [:]
        var schoolSet: Set<String>? = nil
        for (name, value) in query.filters {
            switch name {
            case "school": schoolSet = (schoolSet ?? Set(schools.map(\.id.rawValue))).intersection([value])
            case "subject": filter.subjects = [value.lowercased()]
            case "term": filter.terms = [value]
            case _ where schoolAttributes.contains(name) && !recordAttributes.contains(name):
                let matching = schools.filter { $0.attributes[name] == value }.map(\.id.rawValue)
                schoolSet = (schoolSet ?? Set(schools.map(\.id.rawValue))).intersection(matching)
            default: recordFilters[name] = value
            }
        }
        if let schoolSet {
            filter.schools = try schoolSet.sorted().map { (id) throws(AggregationError) -> SchoolID in
                do { return try SchoolID(id) } catch { throw AggregationError(.invalidQuery, "bad school id") }
            }
        }
        let registry = Dictionary(uniqueKeysWithValues: schools.map { ($0.id.rawValue, $0.attributes) })
        let cellAttributes = query.cellAttributes

        // Scan and sum.
        var cellIndex: [[String]: Int32] = [:]
        var cellValues: [[String]] = []
        var members: [[Int64]] = []
        var matched = 0
        let summer = ParallelCellSummer(key: key, workers: max(1, workers))
        do {
            try vault.forEachRecordChunk(matching: filter, width: key.ciphertextByteCount) { chunk in
                var selected: [Int32] = []
                selected.reserveCapacity(chunk.count)
                var bytes: [UInt8] = []
                bytes.reserveCapacity(chunk.ciphertexts.count)
                let width = chunk.width
                for i in 0..<chunk.count {
                    let school = chunk.schoolIDs[i], attrs = chunk.attributes[i]
                    func value(_ name: String) -> String {
                        switch name {
                        case "school": return school
                        case "subject": return chunk.subjects[i]
                        default:
                            if recordAttributes.contains(name) { return attrs[name] ?? "(none)" }
                            return registry[school]?[name] ?? "(none)"
                        }
                    }
                    if !recordFilters.isEmpty && !recordFilters.allSatisfy({ value($0.key) == $0.value }) { continue }
                    let values = cellAttributes.map(value)
                    let index: Int32
                    if let existing = cellIndex[values] { index = existing } else {
                        index = Int32(cellValues.count)
                        cellIndex[values] = index
                        cellValues.append(values)
                        members.append([])
                    }
                    members[Int(index)].append(chunk.rowIDs[i])
                    selected.append(index)
                    bytes.append(contentsOf: chunk.ciphertexts[(i * width)..<((i + 1) * width)])
                }
                matched += selected.count
                if !selected.isEmpty { summer.submit(ciphertexts: bytes, cells: selected) }
                progress(matched)
            }
        } catch let error as StoreError {
            _ = try? summer.finish()
            throw AggregationError(.storage, error.message)
        } catch {
            _ = try? summer.finish()
            throw AggregationError(.storage, "reading records failed")
        }
        let sums: [Int: Ciphertext]
        do { sums = try summer.finish() } catch {
            throw AggregationError(.storage, "a stored ciphertext is invalid (\(error.message)); run `eduvault vault check`")
        }

        if let contrast = query.contrast {
            let position = cellAttributes.count - 1
            let values = Set(cellValues.map { $0[position] })
            guard values.count == 2 else {
                throw AggregationError(.invalidQuery, "--contrast \(contrast) needs exactly two values among the "
                                       + "matching records; found \(values.count)")
            }
        }

        // Disclosure control: K-MIN now; DIFF-GUARD and COMP-SUPP inside the release transaction.
        let k = policy.minCellSize
        let candidates = zip(cellValues, members).map { Suppression.Candidate(values: $0, members: $1) }
        let order = candidates.indices.sorted { candidates[$0].values.lexicographicallyPrecedes(candidates[$1].values) }
        var suppressed = Suppression.primary(candidates, k: k)
        let releaseID: String
        do { releaseID = Hex.encode(try SecureRandom.bytes(16)) } catch {
            throw AggregationError(.storage, "no release id: \(error.message)")
        }
        let queryJSON = String(decoding: (try? JSONEncoder.sorted.encode(query)) ?? Data(), as: UTF8.self)
        let entry: AuditEntry
        do {
            entry = try vault.recordRelease(id: releaseID, queryJSON: queryJSON, details: [
                "query_sha256": Hex.encode(SHA256.hash(Array(queryJSON.utf8))),
                "matched_records": String(matched),
                "policy": "\(policy.id)@\(policy.version)",
            ]) { prior in
                var changed = true
                while changed {
                    let before = suppressed.count
                    if policy.differencingGuard {
                        let threshold = policy.differencingThreshold
                        try prior.forEachCell { earlier in
                            for i in candidates.indices where suppressed[i] == nil {
                                if Suppression.isDifferencing(candidates[i].members, earlier.cell.members, k: threshold) {
                                    suppressed[i] = Suppression.differencing
                                }
                            }
                        }
                    }
                    if policy.complementarySuppression {
                        suppressed = Suppression.complementary(candidates, suppressed: suppressed, k: k)
                    }
                    changed = suppressed.count != before
                }
                return order.filter { suppressed[$0] == nil }.map { i in
                    ReleaseCell(key: cellValues[i].joined(separator: "\u{1F}"), recordCount: candidates[i].count,
                                members: candidates[i].members)
                }
            }
        } catch let error as StoreError {
            throw AggregationError(.storage, error.message)
        } catch let error as AggregationError {
            throw error
        } catch {
            throw AggregationError(.storage, "recording the release failed")
        }

        var releasedCells: [Release.Cell] = []
        var withheld: [Release.Suppressed] = []
        for i in order {
            let by = Dictionary(uniqueKeysWithValues: zip(cellAttributes, cellValues[i]))
            if let rule = suppressed[i] {
                withheld.append(Release.Suppressed(by: by, rule: rule))
            } else {
                guard let sum = sums[i] else { throw AggregationError(.storage, "a cell has no sum") }
                let fresh: Ciphertext
                do { fresh = try key.rerandomize(sum) } catch { throw AggregationError(.storage, error.message) }
                releasedCells.append(Release.Cell(by: by, count: candidates[i].count, sum: fresh.value.decimalString))
            }
        }
        let release = Release(
            format: Release.formatTag, id: releaseID, vault: vault.descriptor.vaultID, keyID: key.keyID, query: query,
            policy: policy.reference, created: entry.time, logIndex: entry.index, scale: schema.scale,
            slotBits: schema.slotBits, slotCount: schema.slotCount, cells: releasedCells, suppressed: withheld)
        return Outcome(release: release, matchedRecords: matched, seconds: Date().timeIntervalSince(started))
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
