public import Foundation
public import BigNum
public import Paillier
import Primitives

/// How a release's encrypted sums (a query release's cells, a model release's block sums: "cells" below) are
/// grouped for a threshold decryption: consecutive cells are packed into one ciphertext per *unit*,
/// C = Π c_j^(2^(W·j)) = Enc(Σ m_j · 2^(W·j)), so a quorum decrypts one ciphertext per unit instead of one per cell.
///
/// W is the cell's packed width (``DecryptableRelease/packedBits``: slot bits × slots) plus 8 guard bits; in a unit
/// of several cells each cell's value is read back as a signed W-bit number, which holds every value the single-key
/// path accepts (exact sums in 0 ..< 2^(W−8), noisy sums in ±2^(W−9)), and then goes through exactly the single-key
/// path's unpacking and checks. At most ⌊(|n| − 2) / W⌋ cells share a unit, so the packed value stays within ±n/4
/// and its sign is unambiguous. A unit of one cell is that cell's own ciphertext, and its plaintext is used as is:
/// exactly the residue mod n a CRT decryption gives. (A model release's sum can fill its plaintext up to the key's
/// size, leaving no room for guard bits: such sums are units of their own.)
///
/// Why: a partial decryption with its proof costs three exponentiations modulo n² with exponents of about 2|n| bits,
/// and checking it two more, each several times a CRT decryption; at 3072 bits 15 cells share a unit, so a 24-cell
/// release needs 2 units, not 24. Decrypting a unit reveals exactly the cells' plaintexts (the packing is
/// injective for values in range), nothing more. The parties and the combiner compute the units themselves from the
/// release; a partial file never supplies a ciphertext.
public struct ReleaseUnits: Sendable, Equatable {
    /// Guard bits between packed cells.
    public static let guardBits = 8

    /// W: bits per cell in a unit.
    public let cellBits: Int
    /// The most cells one unit holds.
    public let cellsPerUnit: Int
    /// The cells of each unit, as index ranges into the release's cells.
    public let ranges: [Range<Int>]

    /// The grouping of `count` cells of `packedBits` bits each under `key`: ⌊(|n| − 2) / W⌋ cells per unit, at
    /// least one (a cell wider than that is a unit of its own).
    public init(count: Int, packedBits: Int, key: PublicKey) {
        let width = packedBits + Self.guardBits
        let perUnit = max(1, (key.n.bitCount - 2) / width)
        cellBits = width
        cellsPerUnit = perUnit
        ranges = stride(from: 0, to: count, by: perUnit).map { $0..<min($0 + perUnit, count) }
    }

    /// The grouping of `release`'s released cells under `key`.
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` when one cell's packed width does not fit the key.
    public init(release: Release, key: PublicKey) throws(AggregationError) {
        guard (key.n.bitCount - 2) / (release.packedBits + Self.guardBits) >= 1 else {
            throw AggregationError(.invalidRelease, "the release's slots (\(release.slotCount) × \(release.slotBits) "
                                   + "bits) do not fit the \(key.bitCount)-bit key")
        }
        self.init(count: release.cells.count, packedBits: release.packedBits, key: key)
    }

    /// The units' ciphertexts, Π c_j^(2^(W·j)) over each unit's cells (Horner: W squarings and one product per cell).
    ///
    /// - Precondition: `cells` are the release's cell ciphertexts under `key`, in order.
    /// - Throws: ``AggregationError`` `.decryption` when an exponentiation fails.
    public func ciphertexts(of cells: [Ciphertext], key: PublicKey) throws(AggregationError) -> [Ciphertext] {
        let shift = BigNum(UInt64(1)).shiftedLeft(cellBits)
        do {
            return try ranges.map { range throws(PaillierError) in
                var acc = cells[range.upperBound - 1]
                for j in range.dropLast().reversed() { acc = key.add(try key.multiply(acc, by: shift), cells[j]) }
                return acc
            }
        } catch {
            throw AggregationError(.decryption, "could not pack the release's cells: \(error.message)")
        }
    }

    /// Splits the plaintext of unit `unit` into its cells' plaintexts, each as the residue mod n the cell's own
    /// ciphertext would have decrypted to (so the single-key path's unpacking applies unchanged). A unit of one cell
    /// is returned as it is.
    ///
    /// - Throws: ``AggregationError`` `.decryption` when the value does not split into signed W-bit cells (a cell
    ///   overflowed, or the plaintext is not such a packing).
    public func cellPlaintexts(unit: Int, plaintext: BigNum, key: PublicKey) throws(AggregationError) -> [BigNum] {
        guard ranges[unit].count > 1 else { return [plaintext] }  // the cell's own ciphertext: its plaintext as is
        let n = key.n
        var value = plaintext > n.shiftedRight(1) ? plaintext - n : plaintext  // signed residue in (−n/2, n/2]
        let modulus = BigNum(UInt64(1)).shiftedLeft(cellBits)
        let half = BigNum(UInt64(1)).shiftedLeft(cellBits - 1)
        var out: [BigNum] = []
        for _ in ranges[unit] {
            var chunk = value.modulo(modulus)
            if !(chunk < half) { chunk = chunk - modulus }
            out.append(chunk.modulo(n))
            value = (value - chunk).shiftedRight(cellBits)
        }
        guard value.isZero else {
            throw AggregationError(.decryption, "a unit's value does not split into its cells: overflow, or not an "
                                   + "EduVault sum")
        }
        return out
    }
}

/// `eduvault-partial/1`: one party's partial decryption of a query release — per unit, c_i = C^(2Δ·s_i) mod n² and
/// the proof (e, z) — with what it was made for: the release (id and SHA-256 of its canonical form), the key and
/// ceremony, the party, and the unit layout.
///
/// `eduvault-partial-model/1` is the same file for a model release: its "cells" are the model release's sums in
/// release order (every block of ``ModelRelease/allBlocks``, each block's sums in layout order), and its proofs are
/// made in the model releases' own domain (``DecryptableRelease/proofDomain``), so neither kind of partial verifies
/// for the other kind of release.
public struct PartialDecryptionFile: Sendable, Codable, Equatable {
    /// The format tag of a query release's partial.
    public static let formatTag = "eduvault-partial/1"
    /// The format tag of a model release's partial.
    public static let modelFormatTag = "eduvault-partial-model/1"
    /// The largest partial file read: 64 MiB.
    public static let maxFileBytes = 64 << 20

    /// `eduvault-partial/1` (a query release) or `eduvault-partial-model/1` (a model release).
    public var format: String
    /// The release id.
    public var release: String
    /// Lower-case hex SHA-256 of the release's canonical JSON (sorted keys), as the party decoded it.
    public var releaseSHA256: String
    /// The vault the release came from.
    public var vault: String
    /// The Paillier key id.
    public var keyID: String
    /// The threshold key's ceremony id.
    public var ceremony: String
    /// The party's name.
    public var party: String
    /// The party's index in the threshold key.
    public var index: Int
    /// W: bits per cell in a unit.
    public var cellBits: Int
    /// The most cells one unit holds.
    public var cellsPerUnit: Int
    /// One entry per unit, in order.
    public var units: [Unit]
    /// When it was made (ISO 8601).
    public var created: String

    /// One unit's partial decryption and proof.
    public struct Unit: Sendable, Codable, Equatable {
        /// The unit's first cell (an index into the release's released cells).
        public var firstCell: Int
        /// The unit's number of cells.
        public var cellCount: Int
        /// c_i, decimal.
        public var value: String
        /// e, 64 lower-case hex digits.
        public var challenge: String
        /// z, decimal.
        public var response: String

        enum CodingKeys: String, CodingKey {
            case value, challenge, response
            case firstCell = "first_cell"
            case cellCount = "cell_count"
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, release, vault, ceremony, party, index, units, created
        case releaseSHA256 = "release_sha256"
        case keyID = "key_id"
        case cellBits = "cell_bits"
        case cellsPerUnit = "cells_per_unit"
    }

    /// The file's JSON (sorted keys, pretty-printed).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Reads a partial file and checks its shape (not its proofs: see ``ThresholdRelease/verify(_:key:partials:)``).
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` naming what is wrong.
    public static func decode(_ data: Data) throws(AggregationError) -> PartialDecryptionFile {
        func fail(_ what: String) -> AggregationError { AggregationError(.invalidRelease, what) }
        guard data.count <= maxFileBytes else { throw fail("the partial decryption file is larger than 64 MiB") }
        let file: PartialDecryptionFile
        do { file = try JSONDecoder().decode(PartialDecryptionFile.self, from: data) } catch {
            throw fail("not a partial decryption file (JSON with format \(formatTag), from `eduvault release share`)")
        }
        guard file.format == formatTag || file.format == modelFormatTag else {
            throw fail("unsupported partial decryption format '\(file.format.prefix(40))'")
        }
        guard ThresholdParty.isValidName(file.party), file.index >= 1, file.index <= ThresholdPublicKey.maximumParties
        else { throw fail("the partial names no valid party") }
        let maxUnits = file.format == formatTag ? Release.maxCells : ModelRelease.maxBlocks * ModelRelease.maxCiphertexts
        guard file.units.count <= maxUnits else { throw fail("the partial lists too many units") }
        for unit in file.units {
            guard unit.value.utf8.count <= Release.maxSumDigits, unit.response.utf8.count <= 2 * Release.maxSumDigits,
                  unit.challenge.utf8.count == 64, unit.firstCell >= 0, unit.cellCount >= 1
            else { throw fail("a unit of the partial is malformed") }
        }
        return file
    }
}

/// Threshold decryption of releases (query and model releases alike, see ``DecryptableRelease``): each party's
/// `release share`, and the combiner's check of every partial before any t of them decrypt.
public enum ThresholdRelease {
    /// The canonical digest of a release: SHA-256 of its JSON with sorted keys.
    public static func digest(_ release: some DecryptableRelease) throws(AggregationError) -> String {
        do { return Hex.encode(SHA256.hash(try release.jsonData())) } catch {
            throw AggregationError(.invalidRelease, "the release cannot be encoded")
        }
    }

    /// The proof context of unit `unit`: the kind of release (its proof domain), the vault, the release id and
    /// digest, the unit's index and cells and W, length-prefixed. A proof made for one unit of one release verifies
    /// for nothing else.
    static func context<R: DecryptableRelease>(release: R, digest: String, unit: Int, range: Range<Int>, cellBits: Int)
        -> [UInt8]
    {
        var out: [UInt8] = []
        for field in [R.proofDomain, release.vault, release.id, digest, String(unit),
                      String(range.lowerBound), String(range.count), String(cellBits)] {
            let bytes = Array(field.utf8)
            let count = UInt32(bytes.count)
            out += [UInt8(count >> 24), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)]
            out += bytes
        }
        return out
    }

    /// One party's partial decryption of every released cell of a query release, or every sum of a model release
    /// (packed into units), with a proof per unit.
    ///
    /// - Throws: ``AggregationError`` `.invalidRelease` for a release under another key; `.decryption` when
    ///   OpenSSL fails.
    /// - Complexity: per unit, three constant-time exponentiations modulo n² (see
    ///   ``ThresholdShare/partiallyDecrypt(_:context:)``); units run on all cores.
    /// Security: the party computes the units from the release itself, so it knows exactly which sums it helps
    /// decrypt; constant time in its share.
    public static func partiallyDecrypt<R: DecryptableRelease>(_ release: R, with share: ThresholdShare,
                                                               created: String) async throws -> PartialDecryptionFile
    {
        let key = share.key.publicKey
        let cells = try release.encryptedSums(under: key, keyDescription: "this share's key")
        let layout = try release.units(under: key)
        let units = try layout.ciphertexts(of: cells, key: key)
        let digest = try digest(release)
        let results = try await withThrowingTaskGroup(of: (Int, PartialDecryption).self) { group in
            var next = 0, out = [PartialDecryption?](repeating: nil, count: units.count)
            func add(_ u: Int) {
                let context = Self.context(release: release, digest: digest, unit: u, range: layout.ranges[u],
                                           cellBits: layout.cellBits)
                let c = units[u]
                group.addTask {
                    do throws(PaillierError) { return (u, try share.partiallyDecrypt(c, context: context)) } catch {
                        throw AggregationError(.decryption, "partial decryption failed: \(error.message)")
                    }
                }
            }
            while next < min(max(1, availableCores), units.count) {
                add(next)
                next += 1
            }
            while let (u, partial) = try await group.next() {
                out[u] = partial
                if next < units.count {
                    add(next)
                    next += 1
                }
            }
            return out.compactMap { $0 }
        }
        return PartialDecryptionFile(
            format: R.partialFormat, release: release.id, releaseSHA256: digest, vault: release.vault,
            keyID: key.keyID, ceremony: share.key.ceremonyID, party: share.party.name, index: share.party.index,
            cellBits: layout.cellBits, cellsPerUnit: layout.cellsPerUnit,
            units: zip(layout.ranges, results).map { range, partial in
                PartialDecryptionFile.Unit(firstCell: range.lowerBound, cellCount: range.count,
                                           value: partial.value.decimalString,
                                           challenge: Hex.encode((try? partial.challenge.bigEndianBytes(width: 32)) ?? []),
                                           response: partial.response.decimalString)
            },
            created: created)
    }

    /// Checks every partial decryption offered for `release` (a query or a model release): that it is a partial file
    /// of that kind of release, for this key, ceremony and release, from a party of the key not seen before, with the
    /// release's unit layout, and that every unit's proof verifies. Each refusal names the party (or the file when it
    /// names none); a refused partial is never used.
    ///
    /// - Parameter partials: each offered file's label (its path, for messages) and bytes.
    /// - Throws: ``AggregationError`` `.invalidRelease` for a release that is not under this key or cannot be
    ///   packed (nothing about the partials).
    /// - Complexity: per offered partial and unit, one proof check (see
    ///   ``ThresholdPublicKey/verify(_:of:context:)``), run on all cores.
    public static func verify<R: DecryptableRelease>(_ release: R, key: ThresholdPublicKey,
                                                     partials: [(label: String, data: Data)])
        async throws -> ShareVerification
    {
        let pub = key.publicKey
        let cells = try release.encryptedSums(under: pub, keyDescription: "this threshold key")
        let layout = try release.units(under: pub)
        let units = try layout.ciphertexts(of: cells, key: pub)
        let digest = try digest(release)
        var refused: [ShareVerification.Refusal] = []
        var candidates: [(label: String, party: ThresholdParty, partials: [PartialDecryption])] = []
        for (label, data) in partials {
            let file: PartialDecryptionFile
            do { file = try PartialDecryptionFile.decode(data) } catch {
                refused.append(.init(party: nil, label: label, reason: error.message))
                continue
            }
            let who = file.party
            func refuse(_ reason: String) { refused.append(.init(party: who, label: label, reason: reason)) }
            guard file.format == R.partialFormat else {
                refuse(file.format == PartialDecryptionFile.formatTag
                       ? "a partial decryption of a query release, not of this model release"
                       : "a partial decryption of a model release, not of this query release")
                continue
            }
            guard file.keyID == pub.keyID else {
                refuse("made under another key (\(file.keyID.prefix(40))), not this threshold key (\(pub.keyID)): a "
                       + "share from another ceremony")
                continue
            }
            guard file.ceremony == key.ceremonyID else {
                refuse("made with a share of another ceremony (\(file.ceremony.prefix(40))), not \(key.ceremonyID)")
                continue
            }
            guard let party = key.party(named: who) else {
                refuse("\(who) is not a party of this threshold key")
                continue
            }
            guard party.index == file.index else {
                refuse("\(who) has index \(party.index) in this threshold key, not \(file.index)")
                continue
            }
            guard file.release == release.id else {
                refuse("made for release \(file.release.prefix(64)), not \(release.id)")
                continue
            }
            guard file.releaseSHA256 == digest else {
                refuse("made for a different version of release \(release.id) (its SHA-256 differs)")
                continue
            }
            guard file.cellBits == layout.cellBits, file.cellsPerUnit == layout.cellsPerUnit,
                  file.units.count == layout.ranges.count,
                  zip(file.units, layout.ranges).allSatisfy({ $0.firstCell == $1.lowerBound && $0.cellCount == $1.count })
            else {
                refuse("its units do not match this release's cells")
                continue
            }
            if let earlier = candidates.first(where: { $0.party.index == party.index }) {
                refuse("a second partial from \(who) (the one in \(earlier.label) is checked instead); each party counts once")
                continue
            }
            var values: [PartialDecryption] = []
            var malformed = false
            for unit in file.units {
                guard let value = try? BigNum(decimal: unit.value), let response = try? BigNum(decimal: unit.response),
                      let bytes = Hex.decode(unit.challenge), bytes.count == 32, let challenge = try? BigNum(bigEndian: bytes)
                else {
                    malformed = true
                    break
                }
                values.append(PartialDecryption(index: party.index, value: value, challenge: challenge, response: response))
            }
            guard !malformed else {
                refuse("a unit's value or proof is not a number")
                continue
            }
            candidates.append((label, party, values))
        }
        // Every proof of every candidate, on all cores.
        let contexts = layout.ranges.indices.map {
            context(release: release, digest: digest, unit: $0, range: layout.ranges[$0], cellBits: layout.cellBits)
        }
        let checked = candidates
        let jobs = checked.indices.flatMap { c in units.indices.map { (c, $0) } }
        let failures = await withTaskGroup(of: (Int, Int, String)?.self) { group in
            var next = 0, found: [(Int, Int, String)] = []
            func add(_ j: Int) {
                let (c, u) = jobs[j]
                let partial = checked[c].partials[u], unit = units[u], context = contexts[u]
                group.addTask { key.verify(partial, of: unit, context: context).map { (c, u, $0) } }
            }
            while next < min(max(1, availableCores), jobs.count) {
                add(next)
                next += 1
            }
            while let result = await group.next() {
                if let result { found.append(result) }
                if next < jobs.count {
                    add(next)
                    next += 1
                }
            }
            return found
        }
        var accepted: [ShareVerification.Accepted] = []
        for (c, candidate) in checked.enumerated() {
            let mine: [(Int, Int, String)] = failures.filter { $0.0 == c }
            if let failure = mine.min(by: { $0.1 < $1.1 }) {
                let range = layout.ranges[failure.1]
                let cellsText = "\(R.sumNoun) \(range.lowerBound + 1)–\(range.upperBound)"
                let reason = failure.2 + " for " + cellsText + ": the partial was altered or made with a wrong share"
                refused.append(.init(party: candidate.party.name, label: candidate.label, reason: reason))
            } else {
                accepted.append(.init(party: candidate.party, label: candidate.label, partials: candidate.partials))
            }
        }
        accepted.sort { $0.party.index < $1.party.index }
        return ShareVerification(key: key, accepted: accepted, refused: refused)
    }
}

/// The outcome of checking the partial decryptions offered for one release.
public struct ShareVerification: Sendable {
    /// A partial that passed every check.
    public struct Accepted: Sendable {
        /// The party.
        public var party: ThresholdParty
        /// The file it came from.
        public var label: String
        /// One partial per unit.
        public var partials: [PartialDecryption]
    }

    /// A partial that was refused, and why. `party` is the party the file names, `nil` when it names none.
    public struct Refusal: Sendable, Equatable {
        /// The party the file names (`nil` when it names none).
        public var party: String?
        /// The file (its path), for messages.
        public var label: String
        /// Why it was refused, in words (never a value).
        public var reason: String
    }

    /// The threshold key.
    public let key: ThresholdPublicKey
    /// Valid partials, one per party, in index order.
    public let accepted: [Accepted]
    /// Refused partials, in the order offered.
    public let refused: [Refusal]

    /// The parties without a valid partial, in index order.
    public var missing: [String] {
        key.parties.filter { p in !accepted.contains { $0.party.index == p.index } }.map(\.name)
    }

    /// The parties whose partials will decrypt: the t valid ones with the lowest indexes.
    public var used: [String] { accepted.prefix(key.threshold).map(\.party.name) }

    /// A decryptor over the first t valid partials.
    ///
    /// - Throws: ``AggregationError`` `.quorum` with fewer than t valid partials, saying who gave a valid one, who
    ///   is missing, and who was refused.
    public func decryptor() throws(AggregationError) -> ThresholdReleaseDecryptor {
        guard accepted.count >= key.threshold else {
            let have = accepted.isEmpty ? "none" : accepted.map(\.party.name).joined(separator: ", ")
            var message = "only \(accepted.count) valid partial decryption\(accepted.count == 1 ? "" : "s") of the "
                + "\(key.threshold) needed (valid: \(have)); missing: \(missing.joined(separator: ", "))"
            let refusedParties = refused.map { $0.party ?? $0.label }
            if !refusedParties.isEmpty { message += " (refused: \(refusedParties.joined(separator: ", ")))" }
            throw AggregationError(.quorum, message)
        }
        return ThresholdReleaseDecryptor(key: key, quorum: Array(accepted.prefix(key.threshold)))
    }
}

/// Decryption by a quorum: combines the t checked partial decryptions of each unit with integer Lagrange
/// coefficients and splits the units back into cells.
public struct ThresholdReleaseDecryptor: ReleaseDecryptor {
    /// The threshold key.
    public let key: ThresholdPublicKey
    /// The t partials used, in index order.
    public let quorum: [ShareVerification.Accepted]

    /// The threshold key's Paillier public key.
    public var publicKey: PublicKey { key.publicKey }
    /// "this threshold key".
    public var keyDescription: String { "this threshold key" }

    /// Packs the cells into the release's units, combines the quorum's partials of each unit (integer Lagrange
    /// coefficients, then L and (4Δ²)⁻¹) and splits the units back into the cells' plaintexts.
    ///
    /// Complexity: per unit, t exponentiations modulo n² with small exponents, plus the packing (W squarings per
    /// cell).
    /// - Throws: ``AggregationError`` `.decryption` when the partials do not combine or a unit does not split.
    public func decryptCells(_ ciphertexts: [Ciphertext], of release: some DecryptableRelease) async throws -> [BigNum] {
        let pub = key.publicKey
        let layout = try release.units(under: pub)
        guard (layout.ranges.last?.upperBound ?? 0) == ciphertexts.count else {
            throw AggregationError(.decryption, "the ciphertexts are not this release's")
        }
        let units = try layout.ciphertexts(of: ciphertexts, key: pub)
        guard quorum.allSatisfy({ $0.partials.count == units.count }) else {
            throw AggregationError(.decryption, "the partial decryptions do not cover this release's units")
        }
        var out: [BigNum] = []
        for (u, unit) in units.enumerated() {
            let plaintext: BigNum
            do { plaintext = try key.combine(quorum.map { $0.partials[u] }, of: unit) } catch {
                throw AggregationError(.decryption, error.message)
            }
            out += try layout.cellPlaintexts(unit: u, plaintext: plaintext, key: pub)
        }
        return out
    }
}
