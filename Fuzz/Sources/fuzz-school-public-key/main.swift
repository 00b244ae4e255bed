// A school's public key file (`school add --public-key F.pub`), made at the school by `school keygen`.
//
// Path: SchoolPublicKeys.decode as `school add` does.
// Properties: a file that decodes has a valid Ed25519 key and re-encodes to a file that decodes to the same value.
import Foundation
import FuzzDriver
import FuzzSupport
import VaultModel

Fuzz.run { data in
    guard let keys = try? SchoolPublicKeys.decode(data) else { return }
    Fuzz.require((try? keys.publicKey()) != nil, "a public key file decoded without a usable key")
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard let encoded = try? encoder.encode(keys), let again = try? SchoolPublicKeys.decode(encoded) else {
        return Fuzz.require(false, "a decoded public key file does not re-encode")
    }
    Fuzz.require(again == keys, "decode → encode → decode changed the file")
}
