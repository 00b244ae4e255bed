import BigNum
import Foundation
import Paillier
import Primitives
import VaultAggregation
import VaultModel
import VaultStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `eduvault bench --sum-vault DIR` (and `--sum-file FLAT`): times the engine's homomorphic sum alone — the record
/// scan, the selection and the Montgomery products of ``QueryEngine/sumRecords(cellOfAtom:cells:filter:progress:)``
/// — over an existing vault, with every atom in a cell by subject and all attributes (24 cells for a vault made by
/// `bench --query-records N --keep-vault DIR`). `Benchmarks/montgomery-sum.sh` runs it next to a C program doing the
/// same products over the same bytes (`Benchmarks/montgomery-sum.c`), which reads the plan this writes.
///
/// Prints one line like the C program: records, cells, passes, cpu_s (user+sys of this process over the timed
/// passes, every thread), wall_s and the SHA-256 of the cells' sums (width bytes each, in cell order).
struct SumBenchmark {
    var vaultDirectory: String
    var flatFile: String?
    var planOut: String?
    var passes: Int
    var workers: Int
    /// Records per chunk (default: the engine's).
    var chunkSize: Int? = nil

    func run() throws {
        let vault: Vault
        do { vault = try Vault.open(directory: URL(fileURLWithPath: vaultDirectory)) } catch {
            throw CLIError("cannot open the vault: \(error.message)")
        }
        let engine = try QueryEngine(vault: vault, workers: workers)
        let key = engine.key
        let width = key.ciphertextByteCount

        // Cells: subject, then every school attribute and every record attribute, sorted by name.
        let schools = Dictionary(uniqueKeysWithValues: try vault.schools().map { ($0.id.rawValue, $0.attributes) })
        var cellIndex: [String: Int32] = [:]
        var cellOfAtom: [Int32] = []
        var planLines: [String] = []
        for atom in try vault.atoms() where atom.recordCount > 0 {
            let attributes = (schools[atom.schoolID] ?? [:]).merging(atom.attributes) { _, record in record }
            let name = ([atom.subject] + attributes.keys.sorted().map { "\($0)=\(attributes[$0] ?? "")" })
                .joined(separator: "|")
            let cell: Int32
            if let existing = cellIndex[name] { cell = existing } else {
                cell = Int32(cellIndex.count)
                cellIndex[name] = cell
            }
            guard atom.id > 0, atom.id < 1 << 31 else { throw CLIError("an atom id is out of range") }
            if Int(atom.id) >= cellOfAtom.count {
                cellOfAtom += [Int32](repeating: -1, count: Int(atom.id) + 1 - cellOfAtom.count)
            }
            cellOfAtom[Int(atom.id)] = cell
            planLines.append("\(atom.id) \(cell)")
        }
        let cells = cellIndex.count
        if let planOut {
            let modulus = key.nSquared.bigEndianBytes.map { String(format: "%02X", $0) }.joined()
            let text = "eduvault-sum-plan/1 width \(width) cells \(cells) atoms \(planLines.count) modulus \(modulus)\n"
                + planLines.joined(separator: "\n") + "\n"
            try AtomicFile.write(Array(text.utf8), to: URL(fileURLWithPath: planOut), overwrite: true)
        }

        var atomIDs: [Int64] = []
        var ciphertexts: [UInt8] = []
        if let flatFile {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: flatFile)))
            let stride = 8 + width
            guard bytes.count % stride == 0 else { throw CLIError("\(flatFile) is not a flat file for this vault's key") }
            let records = bytes.count / stride
            atomIDs.reserveCapacity(records)
            ciphertexts.reserveCapacity(records * width)
            for r in 0..<records {
                let base = r * stride
                var atom: UInt64 = 0
                for b in (0..<8).reversed() { atom = atom << 8 | UInt64(bytes[base + b]) }
                atomIDs.append(Int64(bitPattern: atom))
                ciphertexts.append(contentsOf: bytes[(base + 8)..<(base + stride)])
            }
        }

        var result: (sums: [Int: Ciphertext], counts: [Int]) = ([:], [])
        let cpu0 = Self.cpuSeconds(), wall0 = Date()
        for _ in 0..<passes {
            if flatFile != nil {
                result = try engine.sumRecords(cellOfAtom: cellOfAtom, cells: cells, atomIDs: atomIDs,
                                               ciphertexts: ciphertexts, chunkSize: chunkSize ?? QueryEngine.chunkSize)
            } else {
                result = try engine.sumRecords(cellOfAtom: cellOfAtom, cells: cells, chunkSize: chunkSize ?? QueryEngine.chunkSize)
            }
        }
        let cpu = Self.cpuSeconds() - cpu0, wall = Date().timeIntervalSince(wall0)

        var hasher = SHA256Hasher()
        for cell in 0..<cells {
            guard let sum = result.sums[cell] else { continue }
            hasher.update(try sum.bytes(width: width))
        }
        let digest = Hex.encode(hasher.finalize())
        let records = result.counts.reduce(0, +)
        print("records \(records) cells \(cells) passes \(passes) cpu_s \(String(format: "%.4f", cpu)) "
              + "wall_s \(String(format: "%.4f", wall)) digest \(digest)")
    }

    /// User plus system CPU seconds of this process so far (every thread).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return 0 }
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
