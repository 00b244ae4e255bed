/// What a signed request asks to do, named as the policy's ROLES rule names it.
///
/// The service maps each route to one action; whether a role may do it is read from the vault's stored policy
/// (`Policy.permits(role:action:)`), never from code.
public enum ServiceAction: String, Sendable, CaseIterable {
    /// Upload a batch (`POST /v1/batches`).
    case batchUpload = "batch.upload"
    /// Read one's own receipts (`GET /v1/receipts/{id}`).
    case receiptRead = "receipt.read"
    /// Ask an aggregate query (`POST /v1/queries`).
    case queryRequest = "query.request"
    /// Ask for a model release (`POST /v1/models`).
    case modelRequest = "model.request"
    /// Fetch a stored release (`GET /v1/releases/{id}`).
    case releaseRead = "release.read"
    /// Post one's own partial decryption of a release, as a party of the threshold key
    /// (`POST /v1/releases/{id}/shares`); the member's name must be the party's.
    case releaseShare = "release.share"
    /// Fetch the partial decryptions posted for a release, to combine them (`GET /v1/releases/{id}/shares`): t of
    /// them decrypt the release, so only a role that may decrypt releases gets them.
    case releaseDecrypt = "release.decrypt"
    /// Read the vault's status (`GET /v1/status`).
    case statusRead = "status.read"
    /// Read the log: checkpoints, entries, proofs (`GET /v1/log/…`).
    case logRead = "log.read"
    /// Read what verification needs besides the log: tables, stored records and leaves (`GET /v1/audit/…`).
    case logVerify = "log.verify"
}
