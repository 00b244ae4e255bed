public import VaultStore

extension LinearAudit {
    /// A released cell whose release made the history disclosive (possible only for releases made while LIN-AUDIT
    /// was off, or under a smaller k).
    public struct Violation: Sendable, Equatable {
        public var releaseID: String
        public var logIndex: Int64
        public var cellKey: String
        public var verdict: Verdict
    }

    /// The audit rebuilt from the release history, and what it found.
    public struct Rebuild: Sendable {
        public var audit: LinearAudit
        /// Releases covered.
        public var releases: Int
        /// Cells that broke the guarantee when they were released.
        public var violations: [Violation]
    }

    /// Replays every released cell, in release order, into a fresh audit modulo `prime`.
    ///
    /// - Parameter judge: also decide, for each cell, whether its release kept the guarantee (for `vault check`);
    ///   without it only the state is rebuilt.
    /// Complexity: O(cells · rank · atoms), plus with `judge` the analysis of cells that lead in small atoms.
    public static func rebuild(_ prior: PriorReleases, k: Int, prime: UInt64, judge: Bool = true) throws -> Rebuild {
        var cells: [ReleasedCell] = []
        try prior.forEachCell { cells.append($0) }
        let sizes = try prior.atomSizes(Set(cells.flatMap(\.cell.atoms)))
        var audit = LinearAudit(k: k, prime: prime)
        var violations: [Violation] = []
        for released in cells {
            let verdict = audit.insertReleased(
                Cell(atoms: released.cell.atoms.map { (id: $0, records: sizes[$0] ?? 0) }),
                judge: judge)
            if !verdict.admits {
                violations.append(
                    Violation(
                        releaseID: released.releaseID, logIndex: released.logIndex,
                        cellKey: released.cell.key, verdict: verdict))
            }
        }
        return Rebuild(audit: audit, releases: try prior.releaseCount().count, violations: violations)
    }

    /// The audit as of the last release: the stored state when it covers every release under this k, else a
    /// rebuild from the history (keeping the stored prime when there is a valid one).
    public static func current(_ prior: PriorReleases, k: Int) throws -> (audit: LinearAudit, releases: Int) {
        let (count, last) = try prior.releaseCount()
        let stored = try prior.auditState()
        if let stored, stored.k == k, stored.releases == count, stored.lastLogIndex == last,
            let audit = try? LinearAudit(serialized: stored.bytes), audit.k == k, audit.prime == stored.prime
        {
            return (audit, count)
        }
        let prime: UInt64
        if let p = stored?.prime, p > 1 << 60, p < 1 << 62, PrimeField.isPrime(p) {
            prime = p
        } else {
            prime = try randomPrime()
        }
        return (try rebuild(prior, k: k, prime: prime, judge: false).audit, count)
    }
}
