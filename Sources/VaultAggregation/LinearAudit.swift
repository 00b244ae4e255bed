public import Primitives

/// LIN-AUDIT: the vault's memory of everything it has released, as linear algebra over atoms, and the test that
/// keeps every combination of releases from pinning down fewer than k records.
///
/// **Atoms.** An atom is a set of records that agree on every attribute a query can select by (school and its
/// attributes, subject, term, record attributes) and arrived in the same batch. No query can split an atom, so every
/// released cell is a union of atoms and its sums are the 0/1 row `r` over atoms applied to the atoms' sums. The
/// weight of a vector `v` over atoms is the number of records in the atoms where `v ≠ 0`.
///
/// **The guarantee.** Let R be the span of every row released so far. After a release, every non-zero `v ∈ R` has
/// weight ≥ k. Because a linear combination of released values is `v · x` for some `v ∈ R`, no combination
/// determines a sum, difference or any other weighting of fewer than k records (Σx and Σx² alike: both are released
/// under the same row). A candidate cell is admitted only when R + r keeps this; otherwise it is withheld.
///
/// **The test** (sound; exact for the common cases; conservative otherwise):
/// 1. Columns are ordered with *large* atoms (≥ k records) first and *small* atoms after. The basis is kept in row
///    echelon form in that order, so its rows whose pivot is small span exactly V₀ = R ∩ span(small atoms): every
///    vector of weight < k lies in V₀, since any atom in its support has fewer than k records.
/// 2. A candidate reduced against the basis is either zero (already determined: admitted), leads in a large atom
///    (V₀ does not change: admitted), or leads in a small atom. Only then is V₀ + r analysed.
/// 3. Analysis: in any subspace, atoms whose columns are parallel are zero together in every vector, so they merge
///    into one class; a class of ≥ k records can never be in the support of a vector of weight < k, so the subspace
///    shrinks to the vectors vanishing on those classes. Repeat until the subspace is {0} (safe) or every class has
///    fewer than k records.
/// 4. Then an exact search decides: either over the sets of classes lighter than k in total, looking for one whose
///    columns of a parity-check matrix are dependent (the support of a light vector), or over the hyperplanes of
///    the classes' column matroid (minimum weight = total − heaviest hyperplane), whichever fits in
///    ``enumerationBudget`` steps. Past the budget the cell is withheld (conservative: reported as undecided).
///
/// The decision depends only on which atoms a cell covers and how many records each atom holds, never on a score
/// or a sum (simulatable auditing): a refusal reveals nothing about scores.
///
/// Arithmetic is exact modulo a prime p drawn at random in (2^61, 2^62) per vault. Until the first step where a
/// non-zero rational quantity vanishes modulo p, every decision equals the decision over the rationals; such a step
/// needs p to divide a non-zero minor of the release matrix, impossible for minors of order ≤ 35 (their absolute
/// value is below 2^61) and, for larger ones, a chance of about log₂|minor| / 2^55 per minor for a p the analyst
/// cannot see (see SECURITY.md).
public struct LinearAudit: Sendable, Equatable {
    /// The policy's minimum cell size.
    public let k: Int
    let field: PrimeField

    /// Per slot (column): its atom, its weight, and its sort key (large atoms first, then by atom id).
    private var atomOfSlot: [Int64] = []
    private var weightOfSlot: [Int] = []
    private var orderKey: [UInt64] = []
    private var slotOfAtom: [Int64: Int] = [:]

    /// Echelon rows, dense over slots (entries beyond a row's end are zero), each with pivot entry 1.
    private var rows: [[UInt64]] = []
    private var pivotOfRow: [Int] = []
    private var rowOfPivot: [Int: Int] = [:]
    /// Pivot slots sorted by their order key.
    private var sortedPivots: [Int] = []

    /// Enumeration steps allowed for the exact minimum-weight search before a cell is withheld as undecided. It
    /// bounds the work one cell can cost (about d³ + m·d field operations a step), so no query can make the audit
    /// slow; ordinary analyst sequences on real data never reach it (UtilityTests).
    public static let enumerationBudget = 20_000

    /// An empty audit (nothing released yet).
    public init(k: Int, prime: UInt64) {
        precondition(k >= 1, "k must be positive")
        self.k = k
        field = PrimeField(prime)
    }

    /// The prime the audit computes modulo.
    public var prime: UInt64 { field.p }
    /// The dimension of the span of everything released.
    public var rank: Int { rows.count }
    /// The number of atoms that appear in released cells.
    public var atomCount: Int { atomOfSlot.count }
    /// The dimension of V₀ = R ∩ span(atoms with fewer than k records).
    public var smallSubspaceDimension: Int { pivotOfRow.filter { isSmall($0) }.count }

    /// A random prime in (2^61, 2^62) from OpenSSL's CSPRNG.
    ///
    /// - Throws: `PrimitivesError` when the CSPRNG fails.
    public static func randomPrime() throws(PrimitivesError) -> UInt64 {
        while true {
            let bytes = try SecureRandom.bytes(8)
            var candidate = bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            candidate = (candidate & ((1 << 61) - 1)) | (1 << 61) | 1
            if PrimeField.isPrime(candidate) { return candidate }
        }
    }

    /// A cell as the audit sees it: its atoms and the records in each.
    public struct Cell: Sendable, Equatable {
        /// (atom id, records in the atom), atom ids distinct and positive.
        public var atoms: [(id: Int64, records: Int)]

        public init(atoms: [(id: Int64, records: Int)]) { self.atoms = atoms }

        public static func == (l: Cell, r: Cell) -> Bool {
            l.atoms.map(\.id) == r.atoms.map(\.id) && l.atoms.map(\.records) == r.atoms.map(\.records)
        }
    }

    /// What releasing a cell would do.
    public enum Verdict: String, Sendable, Equatable {
        /// The cell's sums already follow from earlier releases: releasing it adds nothing.
        case determined
        /// The cell adds information and every combination still covers ≥ k records.
        case safe
        /// Some combination of releases and this cell would cover fewer than k records.
        case disclosive
        /// The exact search exceeded its budget; withheld to stay sound.
        case undecided

        /// Whether the cell may be released.
        public var admits: Bool { self == .determined || self == .safe }
    }

    /// Decides whether `cell` may be released; if so, adds it to the released span.
    ///
    /// Complexity: O(rank · atoms) to reduce the cell; when it leads in a small atom, O(d² · s) per round of the
    /// analysis (d = dim V₀ + 1, s = small atoms involved), plus the bounded enumeration.
    public mutating func admit(_ cell: Cell) -> Verdict {
        let slotsBefore = atomOfSlot.count
        var v = row(for: cell)
        guard let lead = reduce(&v) else { return .determined }
        if !isSmall(lead) {
            insert(v, lead: lead)
            return .safe
        }
        let verdict = analyseSmallSubspace(adding: v)
        if verdict == .safe {
            insert(v, lead: lead)
        } else {
            // A withheld cell leaves no trace: the state equals one rebuilt from the released cells alone.
            for atom in atomOfSlot[slotsBefore...] { slotOfAtom[atom] = nil }
            atomOfSlot.removeSubrange(slotsBefore...)
            weightOfSlot.removeSubrange(slotsBefore...)
            orderKey.removeSubrange(slotsBefore...)
        }
        return verdict
    }

    /// Adds a released cell without refusing it (rebuilding the audit from the release history).
    ///
    /// - Returns: what ``admit(_:)`` would have said, so a rebuild can report releases that broke the guarantee
    ///   (for example ones made while LIN-AUDIT was off).
    /// - Parameter judge: analyse the cell (as ``admit(_:)`` would) to report its verdict; without it the verdict
    ///   of a cell leading in a small atom is reported as `.safe` unanalysed.
    @discardableResult
    public mutating func insertReleased(_ cell: Cell, judge: Bool = true) -> Verdict {
        var v = row(for: cell)
        guard let lead = reduce(&v) else { return .determined }
        let verdict = judge && isSmall(lead) ? analyseSmallSubspace(adding: v) : .safe
        insert(v, lead: lead)
        return verdict
    }

    /// Whether every non-zero vector of the released span has weight ≥ k (a check of the whole state).
    public func isSafe() -> Bool {
        let small = pivotOfRow.indices.filter { isSmall(pivotOfRow[$0]) }.map { rows[$0] }
        guard !small.isEmpty else { return true }
        return Self.analyse(rows: small, slotCount: atomOfSlot.count, weights: weightOfSlot, k: k, field: field)
            == .safe
    }

    // MARK: - Rows and reduction

    private func isSmall(_ slot: Int) -> Bool { orderKey[slot] >> 63 == 1 }

    /// The 0/1 row of a cell, registering atoms seen for the first time.
    private mutating func row(for cell: Cell) -> [UInt64] {
        var slots: [Int] = []
        slots.reserveCapacity(cell.atoms.count)
        for atom in cell.atoms {
            if let slot = slotOfAtom[atom.id] {
                slots.append(slot)
            } else {
                let slot = atomOfSlot.count
                atomOfSlot.append(atom.id)
                weightOfSlot.append(atom.records)
                orderKey.append((atom.records < k ? 1 << 63 : 0) | UInt64(atom.id))
                slotOfAtom[atom.id] = slot
                slots.append(slot)
            }
        }
        var v = [UInt64](repeating: 0, count: atomOfSlot.count)
        for slot in slots { v[slot] = 1 }
        return v
    }

    /// Reduces `v` against the basis; returns its leading slot (in column order), or nil when `v` is in the span.
    private func reduce(_ v: inout [UInt64]) -> Int? {
        for pivot in sortedPivots {
            guard pivot < v.count else { continue }
            let f = v[pivot]
            if f == 0 { continue }
            let row = rows[rowOfPivot[pivot]!]  // safe: sortedPivots and rowOfPivot hold the same slots
            for j in 0..<row.count where row[j] != 0 { v[j] = field.sub(v[j], field.mul(f, row[j])) }
        }
        var lead: Int? = nil
        var best = UInt64.max
        for (slot, x) in v.enumerated() where x != 0 && orderKey[slot] < best {
            best = orderKey[slot]
            lead = slot
        }
        return lead
    }

    private mutating func insert(_ v: [UInt64], lead: Int) {
        let inv = field.inverse(v[lead])
        var normalized = v
        for j in normalized.indices where normalized[j] != 0 { normalized[j] = field.mul(normalized[j], inv) }
        while normalized.last == 0 { normalized.removeLast() }
        rowOfPivot[lead] = rows.count
        rows.append(normalized)
        pivotOfRow.append(lead)
        let key = orderKey[lead]
        let position = sortedPivots.firstIndex { orderKey[$0] > key } ?? sortedPivots.count
        sortedPivots.insert(lead, at: position)
    }

    /// V₀ + v, where v (reduced, leading in a small atom) is zero on every large atom.
    private func analyseSmallSubspace(adding v: [UInt64]) -> Verdict {
        var small: [[UInt64]] = pivotOfRow.indices.filter { isSmall(pivotOfRow[$0]) }.map { rows[$0] }
        small.append(v)
        return Self.analyse(rows: small, slotCount: atomOfSlot.count, weights: weightOfSlot, k: k, field: field)
    }

    // MARK: - Minimum weight of a subspace

    /// Whether every non-zero vector in the span of `rows` (linearly independent, zero on large atoms) covers at
    /// least `k` records.
    static func analyse(rows: [[UInt64]], slotCount: Int, weights: [Int], k: Int, field: PrimeField) -> Verdict {
        // Keep only columns some row uses.
        var columns: [Int] = []
        for slot in 0..<slotCount where rows.contains(where: { slot < $0.count && $0[slot] != 0 }) {
            columns.append(slot)
        }
        var matrix = rows.map { row in columns.map { $0 < row.count ? row[$0] : 0 } }
        var w = columns.map { weights[$0] }
        return minimumWeightAtLeast(k, matrix: &matrix, weights: &w, field: field)
    }

    /// The core test on a dense d × m matrix of independent rows with weighted columns.
    static func minimumWeightAtLeast(_ k: Int, matrix m: inout [[UInt64]], weights w: inout [Int], field: PrimeField)
        -> Verdict
    {
        while true {
            let d = m.count
            guard d > 0 else { return .safe }
            // Parallel classes of the non-zero columns.
            let columnCount = w.count
            var classOf = [Int](repeating: -1, count: columnCount)
            var canonical: [[UInt64]: Int] = [:]
            var classVectors: [[UInt64]] = []
            var classWeight: [Int] = []
            for j in 0..<columnCount {
                guard let first = (0..<d).first(where: { m[$0][j] != 0 }) else { continue }
                let inv = field.inverse(m[first][j])
                let vector = (0..<d).map { field.mul(m[$0][j], inv) }
                let id: Int
                if let existing = canonical[vector] {
                    id = existing
                } else {
                    id = classVectors.count
                    canonical[vector] = id
                    classVectors.append(vector)
                    classWeight.append(0)
                }
                classOf[j] = id
                classWeight[id] += w[j]
            }
            let big = Set(classWeight.indices.filter { classWeight[$0] >= k })
            if big.isEmpty {
                return exactMinimumWeight(k, classes: classVectors, weights: classWeight, dimension: d, field: field)
            }
            // Restrict to the vectors that vanish on every big class: echelon form with big columns first; rows
            // whose pivot is not big are zero on all big columns.
            let bigColumns = (0..<columnCount).filter { classOf[$0] >= 0 && big.contains(classOf[$0]) }
            let otherColumns = (0..<columnCount).filter { classOf[$0] >= 0 && !big.contains(classOf[$0]) }
            let order = bigColumns + otherColumns
            let echelon = echelonForm(m, columnOrder: order, field: field)
            let bigCount = bigColumns.count
            m = echelon.filter { $0.pivotPosition >= bigCount }.map { row in otherColumns.map { row.values[$0] } }
            w = otherColumns.map { w[$0] }
        }
    }

    /// Row echelon form with columns taken in `columnOrder`; returns each non-zero row and its pivot's position
    /// in that order.
    static func echelonForm(_ input: [[UInt64]], columnOrder: [Int], field: PrimeField)
        -> [(values: [UInt64], pivotPosition: Int)]
    {
        var rows = input
        var result: [(values: [UInt64], pivotPosition: Int)] = []
        var remaining = Array(rows.indices)
        for (position, column) in columnOrder.enumerated() {
            guard let pick = remaining.firstIndex(where: { rows[$0][column] != 0 }) else { continue }
            let r = remaining.remove(at: pick)
            let inv = field.inverse(rows[r][column])
            for j in rows[r].indices where rows[r][j] != 0 { rows[r][j] = field.mul(rows[r][j], inv) }
            for other in remaining where rows[other][column] != 0 {
                let f = rows[other][column]
                for j in rows[other].indices where rows[r][j] != 0 {
                    rows[other][j] = field.sub(rows[other][j], field.mul(f, rows[r][j]))
                }
            }
            result.append((rows[r], position))
            if remaining.isEmpty { break }
        }
        return result
    }

    /// Exact minimum weight when every class is lighter than k. Two exact searches, whichever fits the budget:
    /// light circuits of the dual (few when classes are heavy-ish), or hyperplanes (few when d is small).
    static func exactMinimumWeight(
        _ k: Int, classes: [[UInt64]], weights: [Int], dimension d: Int,
        field: PrimeField
    ) -> Verdict {
        let total = weights.reduce(0, +)
        if d == 1 || total < k { return .disclosive }
        if d == 2 { return total - (weights.max() ?? 0) >= k ? .safe : .disclosive }
        guard classes.count >= d else { return .undecided }  // cannot happen for independent rows; stay sound
        if let verdict = lightCircuitSearch(k, classes: classes, weights: weights, dimension: d, field: field) {
            return verdict
        }
        return hyperplaneSearch(k, classes: classes, weights: weights, dimension: d, field: field)
    }

    /// A vector of the subspace with support S exists exactly when the columns of a parity-check matrix H
    /// (H·Mᵀ = 0, one column per class) indexed by S are linearly dependent. Searches the sets of total weight < k
    /// (lightest classes first), keeping each independent set in echelon form: the first dependent one is a
    /// light vector. Returns nil past the budget.
    static func lightCircuitSearch(
        _ k: Int, classes: [[UInt64]], weights: [Int], dimension d: Int,
        field: PrimeField
    ) -> Verdict? {
        let m = classes.count
        // Reduced row echelon form of M (d × m, columns = classes): pivot columns P, the rest F.
        let matrix = (0..<d).map { i in classes.map { $0[i] } }
        var rref = echelonForm(matrix, columnOrder: Array(0..<m), field: field).map(\.values)
        let pivots = rref.map { row in row.firstIndex { $0 != 0 }! }  // safe: echelon rows are non-zero
        for r in rref.indices {
            let inv = field.inverse(rref[r][pivots[r]])
            rref[r] = rref[r].map { field.mul($0, inv) }
        }
        for r in rref.indices {
            for other in rref.indices where other != r && rref[other][pivots[r]] != 0 {
                let f = rref[other][pivots[r]]
                for j in 0..<m where rref[r][j] != 0 {
                    rref[other][j] = field.sub(rref[other][j], field.mul(f, rref[r][j]))
                }
            }
        }
        let pivotSet = Set(pivots)
        let free = (0..<m).filter { !pivotSet.contains($0) }
        let r = free.count  // the dual's dimension, m − d
        // Column j of H: a free column is a unit vector; pivot column P_i is (−A[i][f]) over the free columns f.
        var h = [[UInt64]](repeating: [UInt64](repeating: 0, count: r), count: m)
        for (position, f) in free.enumerated() { h[f][position] = 1 }
        for (i, p) in pivots.enumerated() {
            for (position, f) in free.enumerated() { h[p][position] = field.neg(rref[i][f]) }
        }
        let order = (0..<m).sorted { (weights[$0], $0) < (weights[$1], $1) }
        var steps = 0
        var basis: [(vector: [UInt64], pivot: Int)] = []
        // Depth-first over sets in `order`, extending only with later classes while the weight stays below k.
        func search(from start: Int, weight: Int) -> Bool? {
            for position in start..<order.count {
                let j = order[position]
                guard weight + weights[j] < k else { return false }  // sorted by weight: no later class fits either
                steps += 1
                if steps > enumerationBudget { return nil }
                var v = h[j]
                for b in basis where v[b.pivot] != 0 {
                    let f = v[b.pivot]
                    for t in 0..<r where b.vector[t] != 0 { v[t] = field.sub(v[t], field.mul(f, b.vector[t])) }
                }
                guard let lead = v.firstIndex(where: { $0 != 0 }) else { return true }  // dependent: a light vector
                let inv = field.inverse(v[lead])
                basis.append((v.map { field.mul($0, inv) }, lead))
                let found = search(from: position + 1, weight: weight + weights[j])
                basis.removeLast()
                if found != false { return found }
            }
            return false
        }
        switch search(from: 0, weight: 0) {
        case true?: return .disclosive
        case false?: return .safe
        case nil: return nil
        }
    }

    /// Total − heaviest hyperplane, by enumerating the hyperplanes spanned by d − 1 classes.
    static func hyperplaneSearch(
        _ k: Int, classes: [[UInt64]], weights: [Int], dimension d: Int,
        field: PrimeField
    ) -> Verdict {
        let total = weights.reduce(0, +)
        let m = classes.count
        // Columns span F^d (rows are independent), so a (d−1)-subset of independent classes spans a hyperplane.
        guard let steps = binomial(m, d - 1), steps <= enumerationBudget else { return .undecided }
        var subset = Array(0..<(d - 1))
        while true {
            if let normal = normalVector(subset.map { classes[$0] }, dimension: d, field: field) {
                var hyperplane = 0
                for j in 0..<m {
                    var dot: UInt64 = 0
                    for i in 0..<d where normal[i] != 0 { dot = field.add(dot, field.mul(normal[i], classes[j][i])) }
                    if dot == 0 { hyperplane += weights[j] }
                }
                if total - hyperplane < k { return .disclosive }
            }
            // Next combination in lexicographic order.
            var i = d - 2
            while i >= 0 && subset[i] == m - (d - 1) + i { i -= 1 }
            if i < 0 { break }
            subset[i] += 1
            for j in (i + 1)..<(d - 1) { subset[j] = subset[j - 1] + 1 }
        }
        return .safe
    }

    /// A non-zero y with y · v = 0 for the d − 1 given vectors, or nil when they are dependent.
    static func normalVector(_ vectors: [[UInt64]], dimension d: Int, field: PrimeField) -> [UInt64]? {
        let echelon = echelonForm(vectors, columnOrder: Array(0..<d), field: field)
        guard echelon.count == d - 1 else { return nil }
        // Reduced form: back-substitute so each pivot column is a unit column.
        var rows = echelon.map(\.values)
        let pivots = echelon.map(\.pivotPosition)
        for (r, pivot) in pivots.enumerated() {
            for other in rows.indices where other != r && rows[other][pivot] != 0 {
                let f = rows[other][pivot]
                for j in 0..<d where rows[r][j] != 0 {
                    rows[other][j] = field.sub(rows[other][j], field.mul(f, rows[r][j]))
                }
            }
        }
        guard let free = (0..<d).first(where: { !pivots.contains($0) }) else { return nil }
        var y = [UInt64](repeating: 0, count: d)
        y[free] = 1
        for (r, pivot) in pivots.enumerated() { y[pivot] = field.neg(rows[r][free]) }
        return y
    }

    /// C(n, r), or nil past the enumeration budget.
    static func binomial(_ n: Int, _ r: Int) -> Int? {
        guard r >= 0, r <= n else { return 0 }
        var result = 1
        for i in 0..<min(r, n - r) {
            result = result * (n - i) / (i + 1)
            if result > enumerationBudget { return nil }
        }
        return result
    }

    public static func == (l: LinearAudit, r: LinearAudit) -> Bool { l.serialized() == r.serialized() }
}

// MARK: - Persistence

extension LinearAudit {
    static let magic: [UInt8] = Array("LINAUD1\n".utf8)

    /// The audit's state as bytes (deterministic: equal states give equal bytes).
    public func serialized() -> [UInt8] {
        var out = Self.magic
        func put(_ x: UInt64) { withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) } }
        put(UInt64(k))
        put(field.p)
        put(UInt64(atomOfSlot.count))
        for slot in atomOfSlot.indices {
            put(UInt64(bitPattern: atomOfSlot[slot]))
            put(UInt64(weightOfSlot[slot]))
        }
        put(UInt64(rows.count))
        for (r, row) in rows.enumerated() {
            put(UInt64(pivotOfRow[r]))
            let nonZero = row.indices.filter { row[$0] != 0 }
            put(UInt64(nonZero.count))
            for j in nonZero {
                put(UInt64(j))
                put(row[j])
            }
        }
        return out
    }

    /// Restores a state written by ``serialized()``.
    ///
    /// - Throws: ``AggregationError`` `.storage` when the bytes are not a consistent audit state.
    public init(serialized bytes: [UInt8]) throws(AggregationError) {
        var offset = 0
        func fail() -> AggregationError {
            AggregationError(.storage, "the stored LIN-AUDIT state is damaged; run `eduvault vault check`")
        }
        func take() throws(AggregationError) -> UInt64 {
            guard offset + 8 <= bytes.count else { throw fail() }
            var x: UInt64 = 0
            for i in 0..<8 { x |= UInt64(bytes[offset + i]) << (8 * i) }
            offset += 8
            return x
        }
        func count(limit: Int) throws(AggregationError) -> Int {
            let x = try take()
            guard x <= UInt64(limit) else { throw fail() }
            return Int(x)
        }
        guard bytes.starts(with: Self.magic) else { throw fail() }
        offset = Self.magic.count
        let k = try count(limit: 1 << 30)
        let p = try take()
        guard k >= 1, p > 1 << 60, p < 1 << 62, PrimeField.isPrime(p) else { throw fail() }
        self.init(k: k, prime: p)
        let slots = try count(limit: bytes.count / 16)
        for slot in 0..<slots {
            let atom = Int64(bitPattern: try take())
            let weight = try count(limit: Int(Int32.max))
            guard atom > 0, slotOfAtom[atom] == nil else { throw fail() }
            atomOfSlot.append(atom)
            weightOfSlot.append(weight)
            orderKey.append((weight < k ? 1 << 63 : 0) | UInt64(atom))
            slotOfAtom[atom] = slot
        }
        let rowCount = try count(limit: slots)
        for _ in 0..<rowCount {
            let pivot = try count(limit: slots - 1)
            let entries = try count(limit: slots)
            var row = [UInt64](repeating: 0, count: slots)
            var previous = -1
            for _ in 0..<entries {
                // One encoding per state: entries in increasing column order, each non-zero and reduced.
                let j = try count(limit: slots - 1)
                let value = try take()
                guard j > previous, value != 0, value < p else { throw fail() }
                previous = j
                row[j] = value
            }
            // The pivot is the row's first non-zero entry in column order, with value 1, and not reused.
            guard row[pivot] == 1, rowOfPivot[pivot] == nil,
                row.indices.allSatisfy({ row[$0] == 0 || orderKey[$0] >= orderKey[pivot] })
            else { throw fail() }
            while row.last == 0 { row.removeLast() }
            rowOfPivot[pivot] = rows.count
            rows.append(row)
            pivotOfRow.append(pivot)
            let key = orderKey[pivot]
            sortedPivots.insert(pivot, at: sortedPivots.firstIndex { orderKey[$0] > key } ?? sortedPivots.count)
        }
        guard offset == bytes.count else { throw fail() }
    }
}
