public import VaultStore
import VaultPolicy

/// What an operator or auditor can check about disclosure control without any key: the linear audit's stored
/// state against a rebuild from the release history, and the releases that made small totals derivable.
public struct DisclosureAuditReport: Sendable {
    /// Whether the vault's policy has LIN-AUDIT on.
    public var linearAuditEnabled: Bool
    /// Releases in the history.
    public var releases: Int
    /// The rebuilt audit: rank of the released span, atoms it covers, bytes of its state.
    public var rank: Int
    public var atoms: Int
    public var stateBytes: Int
    /// `true`/`false` when a current state is stored (equal to the rebuild or not); nil when none is stored or it
    /// predates the last release (it is rebuilt at the next query).
    public var storedStateMatches: Bool?
    /// Released cells that made a total of fewer than k records derivable when they were released.
    public var violations: [LinearAudit.Violation]
}

public enum DisclosureAudit {
    /// Rebuilds the linear audit from the release history (in release order, with the stored prime) and compares
    /// it with the stored state.
    ///
    /// Complexity: as ``LinearAudit/rebuild(_:k:prime:)``.
    /// - Throws: ``AggregationError`` `.storage` when the history cannot be read.
    public static func check(_ vault: Vault) throws(AggregationError) -> DisclosureAuditReport {
        do {
            let policy = try vault.policy().policy
            return try vault.readPriorReleases { prior in
                let stored = try prior.auditState()
                let (count, last) = try prior.releaseCount()
                var prime = LinearAudit.fallbackPrime
                if let p = stored?.prime, p > 1 << 60, p < 1 << 62, PrimeField.isPrime(p) { prime = p }
                let rebuilt = try LinearAudit.rebuild(prior, k: policy.minCellSize, prime: prime)
                let bytes = rebuilt.audit.serialized()
                var matches: Bool? = nil
                if let stored, stored.releases == count, stored.lastLogIndex == last, stored.k == policy.minCellSize {
                    matches = stored.bytes == bytes
                }
                return DisclosureAuditReport(
                    linearAuditEnabled: policy.linearAudit, releases: count, rank: rebuilt.audit.rank,
                    atoms: rebuilt.audit.atomCount, stateBytes: bytes.count, storedStateMatches: matches,
                    violations: rebuilt.violations)
            }
        } catch let error as AggregationError {
            throw error
        } catch let error as StoreError {
            throw AggregationError(.storage, error.message)
        } catch {
            throw AggregationError(.storage, "the release history cannot be read: \(error)")
        }
    }
}

extension LinearAudit {
    /// The prime a check uses when no state has been stored yet (the decisions do not depend on which large prime
    /// is used, except with negligible probability): 2^61 − 1.
    static let fallbackPrime: UInt64 = (1 << 61) - 1
}
