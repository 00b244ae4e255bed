public import Foundation
import Primitives
public import VaultAudit
import VaultModel
import VaultPolicy

/// Verifies a vault from the outside, trusting nothing but the pinned log key (`eduvault audit verify`, and
/// `eduvault vault check` against the local database).
///
/// From one pass over the log it:
/// 1. re-checks the hash chain and recomputes the RFC 6962 tree over the entries;
/// 2. checks every stored checkpoint's signature under the pinned key and its root against the recomputed tree;
/// 3. compares the latest checkpoint with the auditor's state: a smaller tree (rollback) or a different root at the
///    old size (fork) is proof of misbehaviour, and both signed checkpoints are reported;
/// 4. re-checks every batch signature under the school key registered in the log before it;
/// 5. re-checks every release against the policy in force at its time (text in the log): every released cell ≥ k,
///    every withheld cell recorded with a known rule, the privacy budget;
/// 6. checks the vault's tables (schools, releases, atoms, purges) against the log;
/// 7. with records: re-derives every batch's record root from the stored rows (and from the stored leaves), so any
///    edit, deletion, insertion or swap of a stored ciphertext or attribute is found and named by batch and entry.
///
/// Complexity: one pass over the entries (memory O(log n) for the tree, plus per-batch and per-release summaries);
/// with records, one pass over them.
public struct AuditVerifier {
    public var logKey: NoteVerifierKey
    public var state: AuditorState?
    public var now: Date

    public init(logKey: NoteVerifierKey, state: AuditorState? = nil, now: Date = Date()) {
        self.logKey = logKey
        self.state = state
        self.now = now
    }

    /// Rule ids a withheld cell may cite.
    static let knownRules: Set<String> = ["K-MIN", "DIFF-GUARD", "LIN-AUDIT", "COMP-SUPP"]

    private struct BatchInfo {
        var entry: Int64
        var time: String
        var school: String
        var records: Int
        var root: String?
    }

    /// Runs every check.
    public func verify(_ source: some AuditSource, records: (any RecordSource)? = nil) throws -> AuditReport {
        var problems: [AuditReport.Problem] = []
        var notes: [AuditReport.Problem] = []
        func problem(_ check: String, _ message: String, entry: Int64? = nil, batch: String? = nil) {
            problems.append(.init(check: check, entry: entry, batch: batch, message: message))
        }
        func note(_ check: String, _ message: String, entry: Int64? = nil, batch: String? = nil) {
            notes.append(.init(check: check, entry: entry, batch: batch, message: message))
        }
        var report = AuditReport(
            verdict: .pass, checks: [], problems: [], notes: [], misbehaviour: nil, entries: 0, checkpointSize: 0,
            root: "",
            origin: logKey.name, policies: [], schools: [], keys: [], months: [], releases: 0, releasedCells: 0,
            withheldByRule: [:], refusalsByRule: [:], retention: [], retentionDays: nil, newState: nil)

        // Checkpoints first, so the pass over the log can capture the roots at their sizes.
        let stored = try source.checkpoints()
        let latestText = try source.latestCheckpoint()
        var wanted = Set(stored.map(\.size))
        var latest: (note: SignedNote, checkpoint: Checkpoint)? = nil
        if let latestText {
            do {
                let note = try SignedNote(parsing: latestText)
                let checkpoint = try Checkpoint(parsing: note.text)
                latest = (note, checkpoint)
                wanted.insert(checkpoint.size)
            } catch {
                problem("checkpoint", "the latest checkpoint is not a C2SP signed checkpoint")
            }
        }
        if let state { wanted.insert(state.size) }

        // One pass over the log.
        var chain = AuditChainVerifier()
        var range = CompactMerkleRange()
        var roots: [Int64: [UInt8]] = [0: range.root()]
        var chainBroken = false
        var schoolKeys: [String: (key: [UInt8], attributes: String)] = [:]
        var policy: (parsed: Policy, entry: Int64)? = nil
        var batches: [String: BatchInfo] = [:]
        var batchOrder: [String] = []
        var releaseEntries: [Int64: [String: String]] = [:]
        var purgeEntries: [String: Int64] = [:]
        var spentNano: Int64 = 0
        var months: [String: AuditReport.MonthRow] = [:]
        // Threshold custody and the partial decryptions posted over the service.
        var custody: (parties: Set<String>, verificationKeys: String?)? = nil
        var releasedIDs = Set<String>()
        var postedShares = Set<String>()
        var sawShares = false
        func shareProblem(_ message: String, _ entry: AuditEntry) { problem("release shares", message, entry: entry.index) }
        try source.forEachEntry { entry in
            if !chainBroken {
                do { try chain.append(entry) } catch let error as AuditError {
                    chainBroken = true
                    problem("hash chain", error.message, entry: error.index)
                }
            }
            guard let hash = Hex.decode(entry.hash), hash.count == 32 else {
                problem("hash chain", "entry \(entry.index) has a malformed hash", entry: entry.index)
                return
            }
            _ = range.append(leafHash: MerkleTree.leafHash(hash))
            if wanted.contains(range.size) { roots[range.size] = range.root() }
            let d = entry.details
            switch entry.kind {
            case .policyLoaded:
                guard let text = d["text"] else {
                    problem("policies", "the policy event does not carry the policy's text", entry: entry.index)
                    return
                }
                guard Hex.encode(SHA256.hash(Array(text.utf8))) == d["sha256"] else {
                    problem("policies", "the policy text does not match its hash", entry: entry.index)
                    return
                }
                do {
                    let parsed = try Policy.parse(Array(text.utf8))
                    policy = (parsed, entry.index)
                    report.policies.append(
                        .init(
                            entry: entry.index, time: entry.time, id: parsed.id,
                            version: parsed.version, sha256: parsed.sha256))
                } catch {
                    problem("policies", "the policy in the log does not parse: \(error)", entry: entry.index)
                }
            case .keyRegistered:
                var held: String?
                if d["custody"] != nil {
                    let parties = (d["parties"] ?? "").split(separator: ",")
                    held =
                        "\(d["custody"] ?? "?") \(d["threshold"] ?? "?") of \(parties.count) "
                        + "(\(parties.joined(separator: ", "))), ceremony \(d["ceremony"] ?? "?")"
                    custody = (Set(parties.map(String.init)), d["verification_keys_sha256"])
                }
                report.keys.append(
                    .init(
                        entry: entry.index, keyID: d["key_id"] ?? "?", bits: Int(d["key_bits"] ?? "") ?? 0,
                        custody: held))
            case .thresholdStored:
                sawShares = true
                guard let custody, let keys = custody.verificationKeys, d["verification_keys_sha256"] == keys else {
                    shareProblem("a threshold key was stored that is not the custody registered with the key", entry)
                    return
                }
            case .releaseShare:
                sawShares = true
                guard let release = d["release"], let party = d["party"], let sha = d["sha256"], sha.utf8.count == 64,
                      Hex.decode(sha) != nil
                else {
                    shareProblem("a release.share entry lacks its release, party or SHA-256", entry)
                    return
                }
                guard let custody else {
                    shareProblem("a partial decryption was stored in a vault whose key has no threshold custody", entry)
                    return
                }
                guard custody.parties.contains(party) else {
                    shareProblem("a partial decryption of \(party.prefix(32)), who is not a party of the custody", entry)
                    return
                }
                guard releasedIDs.contains(release) else {
                    shareProblem("a partial decryption of release \(release.prefix(64)), which the log has not released", entry)
                    return
                }
                guard postedShares.insert("\(release)|\(party)").inserted else {
                    shareProblem("a second partial decryption of release \(release.prefix(64)) by \(party)", entry)
                    return
                }
            case .schoolRegistered:
                guard let school = d["school"], let keyHex = d["signing_public_key"], let key = Hex.decode(keyHex),
                    key.count == 32, let attributes = d["attributes"]
                else {
                    problem(
                        "schools", "a school registration does not carry the school's key and attributes",
                        entry: entry.index)
                    return
                }
                schoolKeys[school] = (key, attributes)
                let parsed =
                    (try? CanonicalJSON.decode(
                        [String: String].self, from: Array(attributes.utf8),
                        what: "attributes")) ?? [:]
                report.schools.append(
                    .init(
                        entry: entry.index, id: school,
                        keyFingerprint: Hex.encode(Array(SHA256.hash(key).prefix(8))),
                        attributes: parsed))
            case .batchIngested:
                guard let batch = d["batch"], let school = d["school"], let count = Int(d["records"] ?? "") else {
                    problem("batches", "an ingest entry lacks its batch, school or record count", entry: entry.index)
                    return
                }
                batches[batch] = BatchInfo(
                    entry: entry.index, time: entry.time, school: school, records: count,
                    root: d["record_root"])
                batchOrder.append(batch)
                let month = String(entry.time.prefix(7))
                var row = months["\(school)|\(month)"] ?? .init(school: school, month: month, batches: 0, records: 0)
                row.batches += 1
                row.records += count
                months["\(school)|\(month)"] = row
                // The school's signature, under the key registered in the log before this entry.
                guard let signature = d["signature"], let sig = Data(base64Encoded: signature),
                    let digest = Hex.decode(batch), digest.count == 32, d["record_root"] != nil
                else {
                    note(
                        "batch signatures",
                        "batch \(batch.prefix(16)) was ingested before the log bound its data "
                            + "(no signature or record root in its entry): it cannot be re-checked",
                        entry: entry.index, batch: batch)
                    return
                }
                guard let key = schoolKeys[school]?.key,
                    let publicKey = try? Ed25519.PublicKey(rawRepresentation: key),
                    (try? publicKey.isValidSignature(Array(sig), for: BatchTrailer.signedMessage(digest: digest)))
                        == true
                else {
                    problem(
                        "batch signatures", "batch \(batch.prefix(16)) is not signed by \(school)'s registered key",
                        entry: entry.index, batch: batch)
                    return
                }
            case .queryReleased:
                releaseEntries[entry.index] = d
                if let id = d["release"] { releasedIDs.insert(id) }
                report.releases += 1
                checkRelease(
                    entry, policy: policy?.parsed, spent: &spentNano, report: &report, problem: problem, note: note)
            case .queryRefused:
                report.refusalsByRule[d["rule"] ?? "?", default: 0] += 1
            case .batchPurged:
                if let batch = d["batch"] { purgeEntries[batch] = entry.index }
            default:
                break
            }
        }
        report.entries = chain.count
        report.months = months.values.sorted { ($0.school, $0.month) < ($1.school, $1.month) }
        report.checks.append(
            .init(
                name: "hash chain", passed: !chainBroken,
                detail: chainBroken ? "broken" : "\(chain.count) entries link and match their hashes"))

        // Checkpoints: signatures under the pinned key, roots against the recomputed tree.
        var checkpointOK = latest != nil
        if latest == nil && latestText == nil { problem("checkpoint", "the vault has no signed checkpoint") }
        var unverified: [Int64] = []
        for row in stored {
            guard let note = try? SignedNote(parsing: row.note), note.verify(logKey),
                let checkpoint = try? Checkpoint(parsing: note.text), checkpoint.size == row.size
            else {
                checkpointOK = false
                unverified.append(row.size)
                continue
            }
            if checkpoint.origin != logKey.name || roots[checkpoint.size] != checkpoint.rootHash {
                checkpointOK = false
                problem("checkpoint", "stored checkpoint at size \(row.size) does not match the log's tree")
            }
        }
        // One line however many there are: when none verifies, the likely cause is a --log-key of another vault.
        if unverified.count == 1 {
            problem("checkpoint", "stored checkpoint at size \(unverified[0]) does not verify under the pinned log key")
        } else if unverified.count > 1 {
            let sizes = unverified.prefix(5).map(String.init).joined(separator: ", ") + (unverified.count > 5 ? ", …" : "")
            problem(
                "checkpoint",
                unverified.count == stored.count
                    ? "none of the \(stored.count) stored checkpoints (sizes \(sizes)) verifies under the pinned log key "
                        + "— is --log-key this vault's key?"
                    : "\(unverified.count) of \(stored.count) stored checkpoints (sizes \(sizes)) do not verify under the "
                        + "pinned log key")
        }
        if let (note, checkpoint) = latest {
            report.checkpointSize = checkpoint.size
            report.root = Hex.encode(checkpoint.rootHash)
            if !note.verify(logKey) {
                checkpointOK = false
                problem("checkpoint", "the latest checkpoint is not signed by the pinned log key (\(logKey.name))")
            } else if checkpoint.origin != logKey.name {
                checkpointOK = false
                problem(
                    "checkpoint", "the checkpoint's origin '\(checkpoint.origin.prefix(80))' is not the log key's name")
            } else if roots[checkpoint.size] != checkpoint.rootHash {
                checkpointOK = false
                problem(
                    "checkpoint", "the checkpoint's root (size \(checkpoint.size)) is not the root of the log's entries"
                )
            } else if checkpoint.size != chain.count {
                checkpointOK = false
                problem("checkpoint", "\(chain.count - checkpoint.size) entries are not covered by a signed checkpoint")
            }
        }
        report.checks.append(
            .init(
                name: "signed checkpoint", passed: checkpointOK,
                detail: "size \(report.checkpointSize), root \(report.root.prefix(16))…"))

        // The auditor's state: consistency with the last checkpoint it verified.
        if let state, let (note, checkpoint) = latest, checkpointOK {
            if checkpoint.size < state.size {
                report.misbehaviour = .init(kind: "rollback", earlier: state.checkpoint, later: note.encoded)
            } else if roots[state.size].map({ Data($0).base64EncodedString() }) != state.root
                || state.origin != checkpoint.origin
            {
                report.misbehaviour = .init(kind: "fork", earlier: state.checkpoint, later: note.encoded)
            }
            report.checks.append(
                .init(
                    name: "consistency with the last verified checkpoint", passed: report.misbehaviour == nil,
                    detail: report.misbehaviour.map {
                        "\($0.kind): the log no longer extends the checkpoint of size \(state.size)"
                    }
                        ?? "size \(state.size) → \(checkpoint.size): the log extends it"))
        }

        // Tables against the log.
        checkTables(
            source, schoolKeys: schoolKeys, releaseEntries: releaseEntries, purgeEntries: purgeEntries,
            problem: problem)

        // Records against the roots in the log.
        if let records {
            try checkRecords(
                records, source: source, batches: batches, order: batchOrder, purged: purgeEntries,
                problem: problem)
        }

        // Retention.
        if let days = policy?.parsed.retentionDays {
            report.retentionDays = days
            for batch in batchOrder where purgeEntries[batch] == nil {
                guard let info = batches[batch], let received = Timestamp.parse(info.time) else { continue }
                let age = Int(now.timeIntervalSince(received) / 86_400)
                if age > days {
                    report.retention.append(
                        .init(
                            batch: batch, school: info.school, received: info.time,
                            records: info.records, ageDays: age))
                }
            }
        }

        for name in [
            "hash chain", "signed checkpoint", "batch signatures", "releases against the policy", "policies",
            "schools", "tables against the log", "stored records",
        ] where !report.checks.contains(where: { $0.name == name }) {
            let mine = problems.filter {
                $0.check == name || (name == "tables against the log" && $0.check == "tables")
            }
            if name == "stored records" && records == nil { continue }
            report.checks.append(
                .init(
                    name: name, passed: mine.isEmpty,
                    detail: mine.isEmpty ? "ok" : "\(mine.count) problem(s)"))
        }
        if sawShares {
            let mine = problems.filter { $0.check == "release shares" }
            report.checks.append(
                .init(
                    name: "release shares", passed: mine.isEmpty,
                    detail: mine.isEmpty
                        ? "\(postedShares.count) partial decryption(s), each of a party of the custody for a release in the log"
                        : "\(mine.count) problem(s)"))
        }
        report.problems = problems
        report.notes = notes
        if report.misbehaviour != nil {
            report.verdict = .misbehaviour
        } else if !problems.isEmpty {
            report.verdict = .fail
        } else if let (note, checkpoint) = latest {
            report.verdict = .pass
            report.newState = AuditorState(
                origin: checkpoint.origin, size: checkpoint.size, root: Data(checkpoint.rootHash).base64EncodedString(),
                checkpoint: note.encoded, verified: Timestamp.now())
        }
        return report
    }

    /// A release entry against the policy in force.
    private func checkRelease(
        _ entry: AuditEntry, policy: Policy?, spent: inout Int64, report: inout AuditReport,
        problem: (String, String, Int64?, String?) -> Void,
        note: (String, String, Int64?, String?) -> Void
    ) {
        let d = entry.details
        guard let policy else {
            problem("releases against the policy", "a release precedes any policy in the log", entry.index, nil)
            return
        }
        guard let cells = Int(d["cells"] ?? ""), let countsText = d["cell_counts"], d["release_sha256"] != nil else {
            note(
                "releases against the policy",
                "release entry \(entry.index) does not bind its release (no SHA-256 or "
                    + "cell counts): made before the log bound its data", entry.index, nil)
            return
        }
        let counts = countsText.isEmpty ? [] : countsText.split(separator: ",").map { Int($0) ?? -1 }
        guard counts.count == cells else {
            problem(
                "releases against the policy",
                "release entry \(entry.index) lists \(counts.count) cell counts for "
                    + "\(cells) cells", entry.index, nil)
            return
        }
        report.releasedCells += cells
        if let small = counts.first(where: { $0 < policy.minCellSize }) {
            problem(
                "releases against the policy",
                "release entry \(entry.index) released a cell of \(small) records; "
                    + "K-MIN in force is \(policy.minCellSize)", entry.index, nil)
        }
        if let suppressed = d["suppressed"], !suppressed.isEmpty {
            for part in suppressed.split(separator: ",") {
                let pair = part.split(separator: ":")
                guard pair.count == 2, Self.knownRules.contains(String(pair[0])), let n = Int(pair[1]), n > 0 else {
                    problem(
                        "releases against the policy",
                        "release entry \(entry.index) withholds cells under an "
                            + "unknown rule", entry.index, nil)
                    continue
                }
                report.withheldByRule[String(pair[0]), default: 0] += n
            }
        }
        if let rho = d["dp_rho"] {
            guard let dp = policy.differentialPrivacy else {
                problem(
                    "releases against the policy", "release entry \(entry.index) is noisy under a policy without DP",
                    entry.index, nil)
                return
            }
            spent += Self.nano(rho) ?? Int64.max / 2
            if spent > dp.rhoTotalNano {
                problem(
                    "releases against the policy", "release entry \(entry.index) exceeds the privacy budget",
                    entry.index, nil)
            }
        } else if policy.differentialPrivacy != nil && cells > 0 {
            problem(
                "releases against the policy", "release entry \(entry.index) is exact under a DP policy",
                entry.index, nil)
        }
    }

    static func nano(_ decimal: String) -> Int64? {
        let parts = decimal.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int64(parts[0]), whole >= 0, whole <= 1_000_000 else {
            return nil
        }
        var fraction: Int64 = 0
        if parts.count == 2 {
            guard parts[1].count <= 9, let f = Int64(parts[1]) else { return nil }
            fraction = f
            for _ in parts[1].count..<9 { fraction *= 10 }
        }
        return whole * 1_000_000_000 + fraction
    }

    private func checkTables(
        _ source: some AuditSource, schoolKeys: [String: (key: [UInt8], attributes: String)],
        releaseEntries: [Int64: [String: String]], purgeEntries: [String: Int64],
        problem: (String, String, Int64?, String?) -> Void
    ) {
        let check = "tables against the log"
        do {
            let schools = try source.schools()
            for row in schools {
                guard let logged = schoolKeys[row.id] else {
                    problem(
                        check, "school \(row.id) is in the schools table but was never registered in the log", nil, nil)
                    continue
                }
                if row.signingPublicKey != Hex.encode(logged.key) || row.attributes != logged.attributes {
                    problem(check, "school \(row.id)'s stored key or attributes differ from its registration", nil, nil)
                }
            }
            for id in Set(schoolKeys.keys).subtracting(schools.map(\.id)) {
                problem(check, "school \(id) was registered in the log but is missing from the schools table", nil, nil)
            }
            let atoms = Dictionary(try source.atoms().map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            var seen = Set<Int64>()
            for release in try source.releases() {
                guard let d = releaseEntries[release.logIndex], d["release"] == release.id else {
                    problem(
                        check,
                        "release \(release.id.prefix(12)) is stored under log index \(release.logIndex), "
                            + "which records no such release", release.logIndex, nil)
                    continue
                }
                seen.insert(release.logIndex)
                guard let countsText = d["cell_counts"], let members = d["cell_members"] else { continue }
                let counts = countsText.isEmpty ? [] : countsText.split(separator: ",").map(String.init)
                let digests = members.isEmpty ? [] : members.split(separator: ",").map(String.init)
                guard release.cells.map({ String($0.count) }) == counts else {
                    problem(
                        check, "release \(release.id.prefix(12))'s stored cells differ from its entry",
                        release.logIndex, nil)
                    continue
                }
                for (cell, digest) in zip(release.cells, digests) {
                    let known = cell.atoms.compactMap { atoms[$0] }
                    guard known.count == cell.atoms.count, Set(cell.atoms).count == cell.atoms.count,
                        known.reduce(0, { $0 + $1.count }) == cell.count
                    else {
                        problem(
                            check,
                            "a stored cell of release \(release.id.prefix(12)) names atoms that do not add up to "
                                + "its records", release.logIndex, nil)
                        continue
                    }
                    let atomDigests = known.sorted { $0.id < $1.id }.map { Hex.decode($0.digest) ?? [] }
                    if Hex.encode(RecordLeaf.digest(atomDigests)) != digest {
                        problem(
                            check,
                            "a stored cell of release \(release.id.prefix(12)) does not cover the records "
                                + "its entry says", release.logIndex, nil)
                    }
                }
            }
            for index in Set(releaseEntries.keys).subtracting(seen) {
                problem(
                    check, "the release recorded at log index \(index) is missing from the releases table", index, nil)
            }
            let purged = try source.purged()
            for row in purged where purgeEntries[row.batch] != row.logIndex {
                problem(check, "batch \(row.batch.prefix(16)) is marked purged without its log entry", nil, row.batch)
            }
            for (batch, index) in purgeEntries where !purged.contains(where: { $0.batch == batch }) {
                problem(check, "the purge of batch \(batch.prefix(16)) is logged but not stored", index, batch)
            }
        } catch {
            problem(check, "the vault's tables cannot be read: \(error)", nil, nil)
        }
    }

    private func checkRecords(
        _ records: any RecordSource, source: some AuditSource, batches: [String: BatchInfo],
        order: [String], purged: [String: Int64],
        problem: (String, String, Int64?, String?) -> Void
    ) throws {
        let check = "stored records"
        var derivedAtoms: [Int64: (batch: String, subject: String, attributes: String, leaves: [[UInt8]])] = [:]
        for batch in order {
            guard let info = batches[batch], let root = info.root else { continue }
            let leaves = try records.leaves(batch: batch)
            if let leaves, Hex.encode(MerkleTree.root(leaves)) != root {
                problem(
                    check, "batch \(batch.prefix(16)): its stored leaves do not match the root in entry \(info.entry)",
                    info.entry, batch)
            }
            let rows = try records.records(batch: batch) ?? []
            if purged[batch] != nil {
                if !rows.isEmpty {
                    problem(
                        check,
                        "batch \(batch.prefix(16)) was purged (entry \(purged[batch]!)) but \(rows.count) of "  // safe: checked
                            + "its records are still stored", info.entry, batch)
                }
                if leaves == nil {
                    problem(check, "batch \(batch.prefix(16)) was purged and its leaves are gone", info.entry, batch)
                }
                continue
            }
            var derived: [[UInt8]] = []
            var malformed = false
            for row in rows {
                // A record leaf binds every ciphertext of the record: ciphertext 0, then its further ciphertexts
                // (covariate products) if it has any.
                var moments: [UInt8] = []
                if let text = row.moments {
                    guard let bytes = Data(base64Encoded: text), !bytes.isEmpty else {
                        malformed = true
                        continue
                    }
                    moments = Array(bytes)
                }
                guard let pseudonym = Hex.decode(row.pseudonym), let ciphertext = Data(base64Encoded: row.ciphertext),
                    let leaf = try? RecordLeaf.data(
                        pseudonym: pseudonym, subject: row.subject,
                        canonicalAttributes: row.attributes, ciphertext: Array(ciphertext) + moments)
                else {
                    malformed = true
                    continue
                }
                derived.append(leaf)
                if let atom = row.atom {
                    var a = derivedAtoms[atom] ?? (batch, row.subject, row.attributes, [])
                    if a.batch != batch || a.subject != row.subject || a.attributes != row.attributes {
                        problem(
                            check, "batch \(batch.prefix(16)): a record is filed under an atom of other records",
                            info.entry, batch)
                    }
                    a.leaves.append(leaf)
                    derivedAtoms[atom] = a
                }
            }
            if malformed {
                problem(check, "batch \(batch.prefix(16)): a stored record is malformed", info.entry, batch)
            }
            if Hex.encode(MerkleTree.root(derived)) != root || rows.count != info.records {
                problem(
                    check,
                    "batch \(batch.prefix(16)) (entry \(info.entry)): the stored records do not re-derive the "
                        + "signed record root: a record was edited, deleted, inserted or swapped", info.entry, batch)
            }
        }
        // Atoms: each stored atom's digest and size re-derived from its records.
        for atom in try source.atoms() where purged[atom.batch] == nil {
            guard let derived = derivedAtoms.removeValue(forKey: atom.id) else {
                if atom.count > 0 { problem(check, "atom \(atom.id) has no stored records", nil, atom.batch) }
                continue
            }
            if derived.leaves.count != atom.count || Hex.encode(RecordLeaf.digest(derived.leaves)) != atom.digest
                || derived.subject != atom.subject || derived.attributes != atom.attributes
                || derived.batch != atom.batch
            {
                problem(check, "atom \(atom.id) does not match its records", nil, atom.batch)
            }
        }
        for (atom, derived) in derivedAtoms {
            problem(check, "records name atom \(atom), which the atoms table does not hold", nil, derived.batch)
        }
    }
}
