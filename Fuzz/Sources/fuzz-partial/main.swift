// Partial decryption files (`release decrypt --threshold RELEASE PARTIAL…`): what one party says it computed.
//
// Path: ThresholdRelease.verify against a fixed query release and a fixed model release under the committed 2-of-3
// fixture key (Fuzz/Fixtures/threshold-release.json, threshold-model-release.json), offered together with an honest
// partial of another party, then the threshold decryption when both are accepted — as `release decrypt --threshold`
// does for either kind of release. Then the vault's intake of a posted partial (`POST /v1/releases/{id}/shares`):
// ServiceRequest.partial as the member the file names, then ServiceRequest.verifyPartial.
// Properties (soundness): verification never throws for any partial file; a partial is accepted only if the pair
// then decrypts every cell (every model sum) to exactly what two honest parties decrypt; refusals always carry a
// reason; a file that does not decode is refused, never accepted; a partial is accepted for at most one of the two
// releases; the vault's intake accepts nothing `release decrypt` refuses, and refuses only with 400, 403 or 422.
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

/// A fixed release, two honest parties' partials of it, and what they decrypt it to.
struct Target<R: DecryptableRelease>: Sendable {
    let release: R
    let honest: [String: Data]
    let reference: [BigNum]

    init(release: R, fixture name: String) {
        self.release = release
        honest = ["bureau": load("Fuzz/Fixtures/\(name)-bureau.json"), "auditor": load("Fuzz/Fixtures/\(name)-auditor.json")]
        let (release, honest) = (release, honest)
        let outcome = Fuzz.wait {
            let verification = try await ThresholdRelease.verify(release, key: key, partials: honest.map { ($0.key, $0.value) })
            return try await Self.decrypt(release, verification)
        }
        guard case .success(let cells) = outcome else {
            FileHandle.standardError.write(Data("the honest partials do not decrypt \(name)\n".utf8))
            exit(2)
        }
        reference = cells
    }

    static func decrypt(_ release: R, _ verification: ShareVerification) async throws -> [BigNum] {
        try await verification.decryptor().decryptCells(
            try release.encryptedSums(under: key.publicKey, keyDescription: "the fixture key"), of: release)
    }

    /// Checks `data` offered next to the other party's honest partial; whether it was accepted.
    func check(_ data: Data, named: String?) -> Bool {
        let other = named == "bureau" ? "auditor" : "bureau"
        let offered: [(label: String, data: Data)] = [(other, honest[other]!), ("input", data)]  // safe: both keys exist
        let release = self.release
        let outcome = Fuzz.wait { try await ThresholdRelease.verify(release, key: key, partials: offered) }
        guard case .success(let verification) = outcome else {
            Fuzz.require(false, "verification threw for a partial file: \(outcome)")
            return false
        }
        Fuzz.require(verification.refused.allSatisfy { !$0.reason.isEmpty }, "a refusal without a reason")
        let accepted = verification.accepted.contains { $0.label == "input" }
        if named == nil { Fuzz.require(!accepted, "a file that does not decode was accepted") }
        guard accepted else { return false }
        let decrypted = Fuzz.wait { try await Self.decrypt(release, verification) }
        guard case .success(let cells) = decrypted else {
            Fuzz.require(false, "an accepted partial does not decrypt: \(decrypted)")
            return true
        }
        Fuzz.require(cells == reference, "an accepted partial decrypts to different plaintexts (soundness)")
        return true
    }
}

let fixture = "Keys/test/threshold-2of3-768"
let key = try ThresholdJSON.decode(load("\(fixture)/threshold.json"), allowInsecureSize: true)
let query = Target(release: try Release.decode(load("Fuzz/Fixtures/threshold-release.json")), fixture: "threshold-release")
let model = Target(release: try ModelRelease.decode(load("Fuzz/Fixtures/threshold-model-release.json")),
                   fixture: "threshold-model-release")

Fuzz.run { data in
    let named = (try? PartialDecryptionFile.decode(data))?.party
    let forQuery = query.check(data, named: named)
    let forModel = model.check(data, named: named)
    Fuzz.require(!(forQuery && forModel), "one partial accepted for a query release and a model release")
    // The vault's intake, as the member the file names.
    let release = query.release
    let intake = Fuzz.wait {
        let file = try ServiceRequest.partial(data, member: named ?? "bureau")
        try await ServiceRequest.verifyPartial(data, party: file.party, release: release, key: key)
    }
    switch intake {
    case .success: Fuzz.require(forQuery, "the vault's intake accepted a partial that release decrypt refuses")
    case .failure(let error as AppError):
        Fuzz.require([400, 403, 422].contains(error.status) && !error.message.isEmpty,
                     "the intake refused with \(error.status): \(error.message.prefix(80))")
    case .failure(let error): Fuzz.require(false, "the intake threw \(type(of: error))")
    }
}
