public import Paillier
public import VaultStore

extension QueryEngine {
    /// Records per chunk handed from the reader to the summing threads. 256 ciphertexts of a 2048-bit key are
    /// 128 KB: malloc reuses such buffers once freed, whereas each 4096-record chunk (2 MB) was mapped afresh and
    /// cost one page fault per 8 records (`bench --sum-vault` showed 13% of its CPU in the kernel; see
    /// Benchmarks/montgomery-sum.sh). A hand-over per 256 records is still rare next to their Montgomery products.
    public static let chunkSize = 256

    /// Sums the stored ciphertexts of every record whose atom maps to a cell, on ``workers`` threads: the engine's
    /// summing path (scan, selection, ``ParallelCellSummer``), also called by `eduvault bench --sum-vault` so that
    /// the benchmark times exactly what a query runs.
    ///
    /// - Parameters:
    ///   - cellOfAtom: each atom id's cell index (`0 ..< cells`), or -1 for atoms outside every cell. Atoms beyond
    ///     its end (stored after the plan was made) are skipped.
    ///   - cells: the number of cells.
    /// - Returns: Enc(Σ) per non-empty cell and the number of records summed into each cell.
    /// - Throws: ``AggregationError/Code/storage`` for database failures and invalid stored ciphertexts.
    /// - Complexity: one Montgomery product per matching record; memory bounded by a few chunks per worker.
    public func sumRecords(
        cellOfAtom: [Int32], cells: Int, filter: RecordFilter = RecordFilter(), chunkSize: Int = QueryEngine.chunkSize,
        progress: (Int) -> Void = { _ in }
    ) throws(AggregationError) -> (sums: [Int: Ciphertext], counts: [Int]) {
        try Self.sumRecords(vault: vault, key: key, workers: workers, cellOfAtom: cellOfAtom, cells: cells,
                            perRecord: 1, filter: filter, chunkSize: chunkSize, progress: progress)
    }

    /// The summing path shared by queries and models: with `perRecord` > 1 every record's `perRecord` stored
    /// ciphertexts are summed (the covariate products of `Schema.momentLayout`), and the result's key
    /// `cell · perRecord + c` is the cell's sum of ciphertext c.
    static func sumRecords(
        vault: Vault, key: PublicKey, workers: Int, cellOfAtom: [Int32], cells: Int, perRecord: Int,
        filter: RecordFilter, chunkSize: Int, progress: (Int) -> Void
    ) throws(AggregationError) -> (sums: [Int: Ciphertext], counts: [Int]) {
        var feeder = CellFeeder(cellOfAtom: cellOfAtom, cells: cells, width: key.ciphertextByteCount, perRecord: perRecord)
        let summer = ParallelCellSummer(key: key, cells: cells * perRecord, workers: max(1, workers))
        do {
            try vault.forEachRecordChunk(
                matching: filter, width: key.ciphertextByteCount, chunkSize: chunkSize, allCiphertexts: perRecord > 1
            ) { chunk in
                guard chunk.perRecord == perRecord else {
                    throw AggregationError(
                        .storage, "the scan returned \(chunk.perRecord) ciphertexts a record, not \(perRecord)")
                }
                feeder.feed(atomIDs: chunk.atomIDs, ciphertexts: chunk.ciphertexts, into: summer)
                progress(feeder.read)
            }
        } catch let error as AggregationError {
            _ = try? summer.finish()
            throw error
        } catch let error as StoreError {
            _ = try? summer.finish()
            throw AggregationError(.storage, error.message)
        } catch {
            _ = try? summer.finish()
            throw AggregationError(.storage, "reading records failed")
        }
        do { return (try summer.finish(), feeder.summed) } catch {
            throw AggregationError(.storage, "a stored ciphertext is invalid (\(error.message)); run `eduvault vault check`")
        }
    }

    /// The same sum over records already in memory (atom ids, and ciphertexts packed back to back at the key's
    /// width), fed to the workers in the scan's chunk size: `eduvault bench --sum-file` compares it with
    /// ``sumRecords(cellOfAtom:cells:filter:progress:)`` to separate reading from summing.
    ///
    /// - Precondition: `ciphertexts.count == atomIDs.count * key.ciphertextByteCount`.
    /// - Throws: ``AggregationError/Code/storage`` for an invalid ciphertext.
    public func sumRecords(
        cellOfAtom: [Int32], cells: Int, atomIDs: [Int64], ciphertexts: [UInt8], chunkSize: Int = QueryEngine.chunkSize
    ) throws(AggregationError) -> (sums: [Int: Ciphertext], counts: [Int]) {
        let width = key.ciphertextByteCount
        precondition(ciphertexts.count == atomIDs.count * width, "ciphertexts must be atomIDs.count × width bytes")
        var feeder = CellFeeder(cellOfAtom: cellOfAtom, cells: cells, width: width, perRecord: 1)
        let summer = ParallelCellSummer(key: key, cells: cells, workers: max(1, workers))
        var start = 0
        while start < atomIDs.count {
            let end = min(atomIDs.count, start + max(1, chunkSize))
            feeder.feed(atomIDs: Array(atomIDs[start..<end]), ciphertexts: Array(ciphertexts[(start * width)..<(end * width)]),
                        into: summer)
            start = end
        }
        do { return (try summer.finish(), feeder.summed) } catch {
            throw AggregationError(.storage, "a stored ciphertext is invalid (\(error.message))")
        }
    }
}

/// Picks the records of a chunk that belong to a cell and hands them, with their summer cell indices
/// (`cell · perRecord + c` for each of a record's `perRecord` ciphertexts), to the workers.
private struct CellFeeder {
    let cellOfAtom: [Int32]
    /// Bytes of one record's ciphertexts (`perRecord` × the key's width).
    let stride: Int
    let perRecord: Int
    /// Records summed per cell so far.
    var summed: [Int]
    /// Records handed to the workers so far.
    var read = 0

    init(cellOfAtom: [Int32], cells: Int, width: Int, perRecord: Int) {
        self.cellOfAtom = cellOfAtom
        self.stride = width * perRecord
        self.perRecord = perRecord
        self.summed = [Int](repeating: 0, count: cells)
    }

    mutating func feed(atomIDs: [Int64], ciphertexts: [UInt8], into summer: ParallelCellSummer) {
        var selected: [Int32] = []
        selected.reserveCapacity(atomIDs.count * perRecord)
        var bytes: [UInt8] = []
        var copying = false
        var records = 0
        for i in 0..<atomIDs.count {
            let atom = atomIDs[i]
            // Atoms stored after the plan was made (a concurrent ingest) are not part of this query.
            let cell = atom > 0 && atom < Int64(cellOfAtom.count) ? cellOfAtom[Int(atom)] : -1
            if cell < 0 {
                if !copying {
                    copying = true
                    bytes.reserveCapacity(ciphertexts.count)
                    bytes.append(contentsOf: ciphertexts[0..<(i * stride)])
                }
                continue
            }
            if perRecord == 1 {
                selected.append(cell)
            } else {
                for c in 0..<perRecord { selected.append(cell * Int32(perRecord) + Int32(c)) }
            }
            summed[Int(cell)] += 1
            records += 1
            if copying { bytes.append(contentsOf: ciphertexts[(i * stride)..<((i + 1) * stride)]) }
        }
        read += records
        if !selected.isEmpty { summer.submit(ciphertexts: copying ? bytes : ciphertexts, cells: selected) }
    }
}
