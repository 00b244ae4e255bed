// Partial decryption files (`release decrypt --threshold RELEASE PARTIAL…`): what one party says it computed.
//
// Path: ThresholdRelease.verify against a fixed release under the committed 2-of-3 fixture key
// (Fuzz/Fixtures/threshold-release.json), offered together with an honest partial of another party, then the
// threshold decryption when both are accepted — as `release decrypt --threshold` does. Then the vault's intake of a
// posted partial (`POST /v1/releases/{id}/shares`): ServiceRequest.partial as the member the file names, then
// ServiceRequest.verifyPartial.
// Properties (soundness): verification never throws for any partial file; a partial is accepted only if the pair
// then decrypts every cell to exactly what two honest parties decrypt; refusals always carry a reason; a file that
// does not decode is refused, never accepted; the vault's intake accepts nothing `release decrypt` refuses, and
// refuses only with 400, 403 or 422.
import BigNum
import Foundation
import FuzzDriver
import FuzzSupport
import Paillier
import VaultAggregation
import VaultApp

func load(_ path: String) -> Data {
    do { return try Data(contentsOf: Fuzz.root.appendingPathComponent(path)) } catch {
        FileHandle.standardError.write(Data("cannot read \(path): \(error)\n".utf8))
        exit(2)
    }
}

let fixture = "Keys/test/threshold-2of3-768"
let key = try ThresholdJSON.decode(load("\(fixture)/threshold.json"), allowInsecureSize: true)
let release = try Release.decode(load("Fuzz/Fixtures/threshold-release.json"))
let honest = ["bureau": load("Fuzz/Fixtures/threshold-release-bureau.json"),
              "auditor": load("Fuzz/Fixtures/threshold-release-auditor.json")]

/// The cells' plaintexts as two honest parties decrypt them.
let reference: [BigNum] = {
    let outcome = Fuzz.wait {
        let verification = try await ThresholdRelease.verify(release, key: key, partials: honest.map { ($0.key, $0.value) })
        let decryptor = try verification.decryptor()
        return try await decryptor.decryptCells(try release.cellCiphertexts(under: key.publicKey), of: release)
    }
    guard case .success(let cells) = outcome else {
        FileHandle.standardError.write(Data("the honest partials do not decrypt the fuzz release\n".utf8))
        exit(2)
    }
    return cells
}()

Fuzz.run { data in
    let named = (try? PartialDecryptionFile.decode(data))?.party
    let other = named == "bureau" ? "auditor" : "bureau"
    let offered: [(label: String, data: Data)] = [(other, honest[other]!), ("input", data)]  // safe: both keys exist
    let outcome = Fuzz.wait { try await ThresholdRelease.verify(release, key: key, partials: offered) }
    guard case .success(let verification) = outcome else {
        return Fuzz.require(false, "verification threw for a partial file: \(outcome)")
    }
    Fuzz.require(verification.refused.allSatisfy { !$0.reason.isEmpty }, "a refusal without a reason")
    let accepted = verification.accepted.contains { $0.label == "input" }
    if named == nil { Fuzz.require(!accepted, "a file that does not decode was accepted") }
    // The vault's intake, as the member the file names.
    let intake = Fuzz.wait {
        let file = try ServiceRequest.partial(data, member: named ?? "bureau")
        try await ServiceRequest.verifyPartial(data, party: file.party, release: release, key: key)
    }
    switch intake {
    case .success: Fuzz.require(accepted, "the vault's intake accepted a partial that release decrypt refuses")
    case .failure(let error as AppError):
        Fuzz.require([400, 403, 422].contains(error.status) && !error.message.isEmpty,
                     "the intake refused with \(error.status): \(error.message.prefix(80))")
    case .failure(let error): Fuzz.require(false, "the intake threw \(type(of: error))")
    }
    guard accepted else { return }
    let decrypted = Fuzz.wait {
        try await verification.decryptor().decryptCells(try release.cellCiphertexts(under: key.publicKey), of: release)
    }
    guard case .success(let cells) = decrypted else {
        return Fuzz.require(false, "an accepted partial does not decrypt: \(decrypted)")
    }
    Fuzz.require(cells == reference, "an accepted partial decrypts to different plaintexts (soundness)")
}
