public import Foundation
public import Paillier
import Primitives
public import VaultAggregation
import VaultAudit
import VaultAuditor
public import VaultModel
public import VaultPolicy
public import VaultStore

/// The vault's use cases, once: the command line and the HTTP service both call these and only parse and print.
///
/// Writes (ingest, registration, refusal and denial entries) are serialised on one queue, because SQLite has one
/// writer; queries and reads run on a concurrent queue, so they proceed while an ingest runs (WAL). The async
/// variants hop to those queues, so a long ingest or query never blocks Swift's cooperative thread pool.
///
/// `Sendable`: the vault is `Sendable`, the key is a value, and the queues are thread-safe.
public final class VaultService: Sendable {
    public let vault: Vault
    /// The vault's Paillier public key (the vault's stored policy admitted its size at `vault init`).
    public let key: PublicKey
    let writes = DispatchQueue(label: "eduvault.vault.writes")
    let reads = DispatchQueue(label: "eduvault.vault.reads", attributes: .concurrent)

    public init(vault: Vault) throws(AppError) {
        self.vault = vault
        do { key = try vault.descriptor.paillierKey(allowInsecureSize: true) } catch {
            throw AppError(.unavailable, "the vault's descriptor holds an unusable public key: \(error.message)")
        }
    }

    /// Opens the vault in `directory`.
    ///
    /// - Throws: `StoreError` as `Vault.open` does (the CLI words each code for its users).
    public static func open(directory: URL) throws(StoreError) -> VaultService {
        let vault = try Vault.open(directory: directory)
        do { return try VaultService(vault: vault) } catch { throw StoreError(.invalidDescriptor, error.message) }
    }

    /// The vault's stored policy.
    public func policy() throws(AppError) -> Policy {
        do { return try vault.policy().policy } catch { throw AppError(.unavailable, "cannot read the vault's policy: \(error.message)") }
    }

    // MARK: - Running work off the cooperative pool

    func run<T: Sendable>(on queue: DispatchQueue, _ body: @escaping @Sendable () throws(AppError) -> T) async throws(AppError) -> T {
        let result: Result<T, AppError> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { () throws(AppError) -> T in try body() }) }
        }
        return try result.get()
    }

    /// Runs a read on the concurrent read queue.
    public func read<T: Sendable>(_ body: @escaping @Sendable () throws(AppError) -> T) async throws(AppError) -> T {
        try await run(on: reads, body)
    }

    /// Runs a write on the serial write queue.
    public func write<T: Sendable>(_ body: @escaping @Sendable () throws(AppError) -> T) async throws(AppError) -> T {
        try await run(on: writes, body)
    }

    // MARK: - Ingest

    /// Verifies and stores one batch file; all or nothing (see `Vault.ingest`). Every ciphertext is checked (width,
    /// 0 < c < n², and gcd(c, n) = 1 once for the whole batch through a product).
    ///
    /// - Parameter progress: called once per record read.
    /// - Throws: `StoreError`; `isBatchRefusal` for refusals (logged as `batch.refused`), else storage failures.
    public func ingest(batchAt url: URL, progress: () -> Void = {}) throws(StoreError) -> Receipt {
        let policy: Policy
        do { policy = try vault.policy().policy } catch { throw error }
        guard vault.descriptor.keyBits >= policy.minKeyBits else {
            throw StoreError(.keyTooSmall, "the vault's key is below its own policy's KEY-MIN; the vault is damaged")
        }
        let validator = CiphertextBatchValidator(key: key)
        return try vault.ingest(
            batchAt: url,
            validateCiphertext: { bytes in
                try validator.check(bytes)
                progress()
            },
            finishValidation: validator.finish)
    }

    /// Ingests a batch uploaded by `school` (the authenticated principal): the batch must name that school.
    /// Serialised with every other write.
    ///
    /// - Throws: `.forbidden` for a batch signed for another school, `.unprocessable`/`.conflict` for refusals,
    ///   `.unavailable` when the batch and its audit entry cannot be written (nothing is stored).
    public func ingestUpload(batchAt url: URL, school: String) async throws(AppError) -> Receipt {
        try await write { () throws(AppError) -> Receipt in
            let header: BatchHeader
            do { header = try BatchReader(url: url).header } catch let error as ModelError {
                throw AppError(.unprocessable, "batch refused (malformed_batch): \(error.message)")
            } catch {
                throw AppError(.unprocessable, "batch refused (malformed_batch)")
            }
            guard header.school == school else {
                throw AppError(.forbidden, "a school may upload only batches signed for itself; this batch names another school")
            }
            do { return try self.ingest(batchAt: url) } catch { throw AppError(error) }
        }
    }

    /// The receipt of a stored batch, if `school` uploaded it.
    public func receipt(batchID: String, school: String) async throws(AppError) -> Receipt {
        try await read { () throws(AppError) -> Receipt in
            guard batchID.count == 64, batchID.allSatisfy(\.isHexDigit) else {
                throw AppError(.notFound, "no such receipt")
            }
            let stored: Receipt?
            do { stored = try self.vault.receipt(batchID: batchID.lowercased()) } catch { throw AppError(error) }
            // Another school's receipt is answered as missing: its existence is not this school's business.
            guard let stored, stored.schoolID.rawValue == school else { throw AppError(.notFound, "no such receipt") }
            return stored
        }
    }

    // MARK: - Query and release

    /// Runs a query and records its release (its JSON stored in the vault too); `deliver` gets the release inside
    /// the recording transaction (the CLI writes the file there).
    public func query(_ query: Query, progress: (Int) -> Void = { _ in }, deliver: (Release) throws -> Void = { _ in })
        throws(AggregationError) -> QueryEngine.Outcome
    {
        try QueryEngine(vault: vault).run(query, progress: progress, deliver: deliver)
    }

    /// Runs a model (`eduvault analyze`) and records its release; `deliver` gets the release inside the recording
    /// transaction (the CLI writes the file there).
    public func analyze(_ spec: ModelSpec, progress: (Int) -> Void = { _ in },
                        deliver: (ModelRelease) throws -> Void = { _ in }) throws(AggregationError) -> ModelEngine.Outcome
    {
        try ModelEngine(vault: vault).run(spec, progress: progress, deliver: deliver)
    }

    /// Runs a query for the service: the release's JSON (exactly the bytes stored and bound by the log entry).
    ///
    /// Queries run concurrently with ingests (SQLite serialises the short recording transaction itself).
    public func queryRelease(_ query: Query) async throws(AppError) -> (release: Release, json: [UInt8]) {
        guard !query.cellAttributes.isEmpty else { throw AppError(.badRequest, "the query needs \"by\" and/or \"contrast\"") }
        return try await read { () throws(AppError) -> (release: Release, json: [UInt8]) in
            let outcome: QueryEngine.Outcome
            do { outcome = try self.query(query) } catch { throw AppError(error) }
            let json: Data
            do { json = try outcome.release.jsonData() } catch { throw AppError(.unavailable, "the release cannot be encoded") }
            return (outcome.release, Array(json))
        }
    }

    /// Runs a model for the service: the model release's JSON (exactly the bytes stored and bound by the log entry).
    public func modelRelease(_ spec: ModelSpec) async throws(AppError) -> (release: ModelRelease, json: [UInt8]) {
        try await read { () throws(AppError) -> (release: ModelRelease, json: [UInt8]) in
            let outcome: ModelEngine.Outcome
            do { outcome = try self.analyze(spec) } catch { throw AppError(error) }
            let json: Data
            do { json = try outcome.release.jsonData() } catch { throw AppError(.unavailable, "the release cannot be encoded") }
            return (outcome.release, Array(json))
        }
    }

    /// A stored release's JSON.
    public func releaseFile(id: String) async throws(AppError) -> [UInt8] {
        try await read { () throws(AppError) -> [UInt8] in
            let file: [UInt8]?
            do { file = try self.vault.releaseFile(id: id) } catch { throw AppError(error) }
            guard let file else { throw AppError(.notFound, "no stored release with that id") }
            return file
        }
    }

    // MARK: - Principals and authorization

    /// The principal a request's key id names, if registered (revoked ones included: the caller refuses them).
    public func principal(id: String) throws(AppError) -> Principal? {
        do { return try vault.principal(id: id) } catch { throw AppError(error) }
    }

    /// Checks that `principal`'s role may do `action` under the vault's policy (rule ROLES). A denial is written
    /// to the log as `request.denied`, like a query refusal, and thrown as `.forbidden` citing ROLES.
    public func authorize(_ principal: Principal, _ action: ServiceAction, route: String) async throws(AppError) {
        let policy = try policy()
        guard !policy.permits(role: principal.role, action: action.rawValue) else { return }
        let details = ["principal": principal.id, "role": principal.role, "action": action.rawValue, "route": route,
                       "rule": Policy.RuleID.roles.rawValue]
        // A denial that cannot be logged is still a denial.
        _ = try? await write { () throws(AppError) in
            do { try self.vault.logRequestDenial(details: details) } catch { throw AppError(error) }
        }
        throw AppError(.forbidden, "role \(principal.role) may not \(action.rawValue) under policy \(policy.id) v\(policy.version)",
                       rule: Policy.RuleID.roles.rawValue)
    }
}
