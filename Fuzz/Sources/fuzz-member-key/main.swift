// Member key files: `member keygen` writes F (the Ed25519 seed, 0600) and F.pub; clients read F with
// `--identity F` (Identity.load, which also reads a school's keys file), and `member add --public-key F.pub`
// reads F.pub (MemberPublicKeyFile.decode).
//
// Path: Identity.load and MemberPublicKeyFile.decode on the bytes, as the commands call them.
// Properties: an identity loaded from a member key file has the key id the vault derives from its public key, and
// that public key is the one the file states; one from a school keys file signs as the school it names; a key
// written again (MemberKeyFile / publicPart) loads back to the same key and id; a signature made with a loaded key
// verifies under its public key. A public key file decodes to the key it states, and re-encoded decodes the same.
import Foundation
import FuzzDriver
import FuzzSupport
import Primitives
import VaultApp
import VaultModel
import VaultStore

let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return encoder
}()

Fuzz.run { data in
    if let identity = try? Identity.load(data) {
        let publicKey = identity.key.publicKey.rawRepresentation
        if let file = try? JSONDecoder().decode(MemberKeyFile.self, from: data), file.format == MemberKeyFile.currentFormat {
            Fuzz.require(identity.keyID == Principal.memberID(publicKey: publicKey), "a member's key id is not derived from its key")
            Fuzz.require(Data(base64Encoded: file.publicKey).map(Array.init) == publicKey,
                         "the member key file states another public key than its private key's")
            let rewritten = MemberKeyFile(format: MemberKeyFile.currentFormat,
                                          privateKey: Data(identity.key.rawRepresentation).base64EncodedString(),
                                          publicKey: Data(publicKey).base64EncodedString())
            guard let bytes = try? encoder.encode(rewritten), let again = try? Identity.load(bytes) else {
                return Fuzz.require(false, "a member key written again does not load")
            }
            Fuzz.require(again.keyID == identity.keyID && again.key.rawRepresentation == identity.key.rawRepresentation,
                         "a member key written again loads as another key")
            guard let pub = try? encoder.encode(rewritten.publicPart), let key = try? MemberPublicKeyFile.decode(pub) else {
                return Fuzz.require(false, "the public part of a loaded key does not decode")
            }
            Fuzz.require(key.rawRepresentation == publicKey, "the public part decodes to another key")
        } else if let keys = try? JSONDecoder().decode(SchoolKeys.self, from: data) {
            Fuzz.require(identity.keyID == keys.schoolID.rawValue, "a school identity signs as another school")
        } else {
            Fuzz.require(false, "an identity loaded from a file that is neither a member nor a school key file")
        }
        let message = Array("eduvault".utf8)
        guard let signature = try? identity.key.signature(for: message) else { return Fuzz.require(false, "a loaded key cannot sign") }
        Fuzz.require((try? identity.key.publicKey.isValidSignature(signature, for: message)) == true,
                     "a loaded key's signature does not verify")
    }
    if let key = try? MemberPublicKeyFile.decode(data) {
        let file = MemberPublicKeyFile(format: MemberPublicKeyFile.currentFormat, publicKey: Data(key.rawRepresentation).base64EncodedString())
        guard let bytes = try? encoder.encode(file), let again = try? MemberPublicKeyFile.decode(bytes) else {
            return Fuzz.require(false, "a public key file written again does not decode")
        }
        Fuzz.require(again.rawRepresentation == key.rawRepresentation, "a public key file written again decodes as another key")
    }
}
