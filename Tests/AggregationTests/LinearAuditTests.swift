import Foundation
import Testing
@testable import VaultAggregation

/// The linear audit against an independent brute force over the rationals: on random small instances, every state
/// it admits has no non-zero combination covering fewer than k records (soundness), and it withholds only cells
/// that really would create one (exactness), apart from the rare undecided case.
@Suite("LIN-AUDIT: minimum weight of the released span")
struct LinearAuditTests {
    static let prime: UInt64 = 2_305_843_009_213_693_951  // 2^61 − 1, a fixed prime for reproducible tests

    /// Rank over the rationals by fraction-free (Bareiss) elimination; exact for these small 0/1 matrices.
    static func rationalRank(_ input: [[Int]]) -> Int {
        var a = input
        guard let width = a.first?.count else { return 0 }
        var rank = 0
        var previous = 1
        for column in 0..<width {
            guard let pivot = (rank..<a.count).first(where: { a[$0][column] != 0 }) else { continue }
            a.swapAt(rank, pivot)
            for r in (rank + 1)..<a.count {
                for c in 0..<width where c != column {
                    a[r][c] = (a[rank][column] * a[r][c] - a[r][column] * a[rank][c]) / previous
                }
                a[r][column] = 0
            }
            previous = a[rank][column]
            rank += 1
            if rank == a.count { break }
        }
        return rank
    }

    /// Minimum weight of a non-zero vector in the span of `rows` (0/1 over atoms), by brute force over supports.
    static func minimumWeight(_ rows: [[Int]], weights: [Int]) -> Int? {
        guard !rows.isEmpty else { return nil }
        let n = weights.count
        let base = rationalRank(rows)
        var best: Int? = nil
        for mask in 1..<(1 << n) {
            let support = (0..<n).filter { mask & (1 << $0) != 0 }
            let weight = support.reduce(0) { $0 + weights[$1] }
            if let b = best, weight >= b { continue }
            // Is there a non-zero vector of the span supported inside `support`? Iff the span meets span(e_T).
            let units = support.map { i in (0..<n).map { $0 == i ? 1 : 0 } }
            if rationalRank(rows + units) < base + support.count { best = weight }
        }
        return best
    }

    struct Instance {
        var weights: [Int]
        var cells: [[Int]]  // atom indices per cell
    }

    static func randomInstance(_ rng: inout Seeded, atoms: Int, cells: Int) -> Instance {
        let weights = (0..<atoms).map { _ in [1, 1, 2, 3, 4, 6, 9, 12, 15][Int(rng.next() % 9)] }
        var list: [[Int]] = []
        for _ in 0..<cells {
            var cell = (0..<atoms).filter { _ in rng.next() % 3 == 0 }
            if cell.isEmpty { cell = [Int(rng.next() % UInt64(atoms))] }
            list.append(cell)
        }
        return Instance(weights: weights, cells: list)
    }

    func auditCell(_ atoms: [Int], _ weights: [Int]) -> LinearAudit.Cell {
        LinearAudit.Cell(atoms: atoms.map { (id: Int64($0 + 1), records: weights[$0]) })
    }

    @Test("Sound and exact against brute force on 600 random instances")
    func bruteForce() {
        var rng = Seeded(state: 2026)
        let k = 10
        var withheld = 0, undecided = 0, admitted = 0
        for _ in 0..<600 {
            let atoms = 3 + Int(rng.next() % 6)
            let instance = Self.randomInstance(&rng, atoms: atoms, cells: 2 + Int(rng.next() % 6))
            var audit = LinearAudit(k: k, prime: Self.prime)
            var released: [[Int]] = []
            for cell in instance.cells {
                let row = (0..<atoms).map { cell.contains($0) ? 1 : 0 }
                let truth = Self.minimumWeight(released + [row], weights: instance.weights).map { $0 >= k } ?? true
                let verdict = audit.admit(auditCell(cell, instance.weights))
                if verdict.admits {
                    admitted += 1
                    released.append(row)
                    #expect(truth, "admitted a cell that makes a combination of fewer than k records determinable")
                } else if verdict == .undecided {
                    undecided += 1
                } else {
                    withheld += 1
                    #expect(!truth, "withheld a cell that was safe: \(cell) weights \(instance.weights)")
                }
            }
            // The whole admitted state is safe.
            if let w = Self.minimumWeight(released, weights: instance.weights) { #expect(w >= k) }
            #expect(audit.isSafe())
        }
        #expect(admitted > 0 && withheld > 0)
        #expect(undecided == 0)
    }

    /// Rank of a dense matrix over the field (Gaussian elimination, for the brute force).
    static func rank(_ rows: [[UInt64]], field: PrimeField) -> Int {
        guard let width = rows.first?.count else { return 0 }
        return LinearAudit.echelonForm(rows, columnOrder: Array(0..<width), field: field).count
    }

    @Test("The exact searches (light circuits, hyperplanes) agree with brute force on random weighted subspaces")
    func exactSearches() {
        let field = PrimeField(Self.prime)
        var rng = Seeded(state: 31)
        var outcomes: [LinearAudit.Verdict: Int] = [:]
        for _ in 0..<400 {
            let m = 4 + Int(rng.next() % 7), d = 2 + Int(rng.next() % UInt64(min(5, m - 2)))
            var matrix = (0..<d).map { _ in (0..<m).map { _ in rng.next() % 4 } }
            guard Self.rank(matrix, field: field) == d else { continue }
            let weights = (0..<m).map { _ in 1 + Int(rng.next() % 9) }
            // Brute force: a light vector exists iff removing some light set of columns drops the rank below d.
            var disclosive = false
            for mask in 1..<(1 << m) where !disclosive {
                let light = (0..<m).filter { mask & (1 << $0) != 0 }.reduce(0) { $0 + weights[$1] } < 10
                guard light else { continue }
                let rest = matrix.map { row in (0..<m).filter { mask & (1 << $0) == 0 }.map { row[$0] } }
                if rest.first?.isEmpty != false || Self.rank(rest, field: field) < d { disclosive = true }
            }
            var w = weights
            let verdict = LinearAudit.minimumWeightAtLeast(10, matrix: &matrix, weights: &w, field: field)
            outcomes[verdict, default: 0] += 1
            #expect(verdict == (disclosive ? .disclosive : .safe), "d=\(d) m=\(m) weights=\(weights)")
        }
        #expect((outcomes[.safe] ?? 0) > 20 && (outcomes[.disclosive] ?? 0) > 20)
        // Both searches on the final stage alone: random classes of weight < k in general position.
        for _ in 0..<200 {
            let d = 3 + Int(rng.next() % 3), m = d + 1 + Int(rng.next() % 4)
            let classes = (0..<m).map { _ in (0..<d).map { _ in rng.next() % 5 } }
            let matrix = (0..<d).map { i in classes.map { $0[i] } }
            guard Self.rank(matrix, field: field) == d else { continue }
            let weights = (0..<m).map { _ in 1 + Int(rng.next() % 9) }
            let circuits = LinearAudit.lightCircuitSearch(10, classes: classes, weights: weights, dimension: d, field: field)
            let hyperplanes = LinearAudit.hyperplaneSearch(10, classes: classes, weights: weights, dimension: d, field: field)
            #expect(circuits == hyperplanes, "d=\(d) m=\(m) weights=\(weights)")
        }
    }

    @Test("Margins of a 2×2 table: the gap between two one-student cells is caught")
    func margins() {
        // Atoms: a=(S,F) 14, b=(S,M) 1, c=(T,F) 1, d=(T,M) 20. Releasing school and sex margins gives
        // S − F = b − c: the gap between two single students.
        let w = [14, 1, 1, 20]
        var audit = LinearAudit(k: 10, prime: Self.prime)
        #expect(audit.admit(auditCell([0, 1], w)) == .safe)        // school S (15)
        #expect(audit.admit(auditCell([2, 3], w)) == .safe)        // school T (21)
        #expect(audit.admit(auditCell([0, 2], w)) == .disclosive)  // sex F (15): S − F = b − c
        #expect(audit.admit(auditCell([0, 1, 2, 3], w)) == .determined)  // the grand total adds nothing
    }

    @Test("A cell of many small atoms is safe on its own; its complement inside a total is not")
    func complement() {
        let w = Array(repeating: 1, count: 12) + [30]
        var audit = LinearAudit(k: 10, prime: Self.prime)
        #expect(audit.admit(auditCell(Array(0..<12), w)) == .safe)          // 12 one-record atoms
        #expect(audit.admit(auditCell(Array(0..<13), w)) == .safe)          // + a large atom
        #expect(audit.admit(auditCell(Array(1..<12), w)) == .disclosive)    // total − this = atom 0
        // Six small atoms plus the large one: minus (total − the 12) leaves six records.
        #expect(audit.admit(auditCell(Array(0..<6) + [12], w)) == .disclosive)
        // Six small atoms plus six others: every combination still covers ≥ 12 records.
        #expect(audit.admit(auditCell(Array(0..<6) + Array(13..<19), w + Array(repeating: 1, count: 6))) == .safe)
    }

    @Test("Repeating a release is always allowed; a withheld cell leaves no trace in the state")
    func repeatAndTrace() throws {
        let w = [5, 5, 30]
        var audit = LinearAudit(k: 10, prime: Self.prime)
        #expect(audit.admit(auditCell([0, 1, 2], w)) == .safe)
        let before = audit.serialized()
        #expect(audit.admit(auditCell([0, 2], w)) == .disclosive)
        #expect(audit.serialized() == before)
        #expect(audit.admit(auditCell([0, 1, 2], w)) == .determined)
        #expect(try LinearAudit(serialized: before) == audit)
    }

    @Test("An incremental state equals one rebuilt from the released cells, and survives serialization")
    func rebuild() throws {
        var rng = Seeded(state: 99)
        for _ in 0..<50 {
            let instance = Self.randomInstance(&rng, atoms: 8, cells: 8)
            var incremental = LinearAudit(k: 10, prime: Self.prime)
            var releasedCells: [[Int]] = []
            for cell in instance.cells where incremental.admit(auditCell(cell, instance.weights)).admits {
                releasedCells.append(cell)
            }
            var rebuilt = LinearAudit(k: 10, prime: Self.prime)
            for cell in releasedCells { #expect(rebuilt.insertReleased(auditCell(cell, instance.weights)).admits) }
            #expect(rebuilt == incremental)
            let restored = try LinearAudit(serialized: incremental.serialized())
            #expect(restored == incremental)
            #expect(restored.rank == incremental.rank)
        }
    }

    @Test("Damaged state bytes are refused, never half-loaded")
    func damagedState() {
        var audit = LinearAudit(k: 10, prime: Self.prime)
        _ = audit.admit(auditCell([0, 1], [4, 8]))
        let bytes = audit.serialized()
        #expect(throws: AggregationError.self) { _ = try LinearAudit(serialized: Array(bytes.dropLast())) }
        var flipped = bytes
        flipped[16] ^= 0x01  // the prime becomes even
        #expect(throws: AggregationError.self) { _ = try LinearAudit(serialized: flipped) }
        #expect(throws: AggregationError.self) { _ = try LinearAudit(serialized: bytes + [0]) }
    }

    @Test("Field inverses are inverses")
    func inverses() {
        let field = PrimeField(Self.prime)
        var rng = Seeded(state: 5)
        for _ in 0..<1000 {
            let a = rng.next() % (Self.prime - 1) + 1
            #expect(field.mul(a, field.inverse(a)) == 1)
        }
        #expect(field.inverse(1) == 1 && field.mul(Self.prime - 1, field.inverse(Self.prime - 1)) == 1)
    }

    @Test("One encoding per state: a row's entries out of order are refused (fuzz finding, lin-audit-state)")
    func canonicalState() throws {
        let fuzzed = try Data(contentsOf: TestVault.root.appendingPathComponent(
            "Tests/AggregationTests/Vectors/lin-audit-state-crash-25fada5b.bin"))
        if let decoded = try? LinearAudit(serialized: Array(fuzzed)) { #expect(decoded.serialized() == Array(fuzzed)) }
        // A row with two entries, written with the entries swapped.
        var audit = LinearAudit(k: 10, prime: Self.prime)
        _ = audit.admit(auditCell([0, 1], [4, 30]))
        var bytes = audit.serialized()
        // Layout: magic 8, k 8, p 8, slots 8, 2 × (atom 8, weight 8), rows 8, then pivot 8, count 8, (j 8, value 8)…
        let entries = 8 + 8 + 8 + 8 + 2 * 16 + 8 + 16
        let first = Array(bytes[entries..<(entries + 16)]), second = Array(bytes[(entries + 16)..<(entries + 32)])
        bytes.replaceSubrange(entries..<(entries + 32), with: second + first)
        #expect(throws: AggregationError.self) { _ = try LinearAudit(serialized: bytes) }
    }

    @Test("The audit prime is a random prime in (2^61, 2^62)")
    func prime() throws {
        let p = try LinearAudit.randomPrime()
        #expect(p > 1 << 61 && p < 1 << 62)
        #expect(PrimeField.isPrime(p))
        #expect(PrimeField.isPrime(Self.prime) && !PrimeField.isPrime(Self.prime - 2))
    }
}
