// Vault descriptors (`school encrypt --descriptor`, and the copy in every vault's database): the vault's public key,
// schema and policy reference.
//
// Path: Descriptor.read(from:) as `school encrypt` does (Vault.open decodes the stored copy with
// Descriptor.decode), then Descriptor.paillierKey as every command does.
// Properties: a descriptor that decodes has a valid format, identifiers and schema; its canonical JSON and its
// pretty file form both decode to the same descriptor; when its key is usable, that key has the descriptor's
// key id and size.
import Foundation
import FuzzDriver
import FuzzSupport
import Paillier
import VaultAggregation
import VaultModel

Fuzz.run { data in
    guard let descriptor = try? Descriptor.read(from: Fuzz.write(data, to: "descriptor.json")) else {
        Fuzz.require((try? Descriptor.decode(data)) == nil, "decode accepted what read(from:) refused")
        return
    }
    Fuzz.require((try? Descriptor.decode(data)) == descriptor, "decode and read(from:) disagree")
    Fuzz.require(descriptor.format == Descriptor.currentFormat && descriptor.keyBits > 0, "an invalid descriptor decoded")
    guard let canonical = try? descriptor.canonicalJSON(), let again = try? Descriptor.decode(canonical) else {
        return Fuzz.require(false, "the canonical JSON does not decode")
    }
    Fuzz.require(again == descriptor, "decode → canonical JSON → decode changed the descriptor")
    let url = Fuzz.scratchFile("written.json")
    guard (try? descriptor.write(to: url)) != nil, let written = try? Descriptor.read(from: url) else {
        return Fuzz.require(false, "the written descriptor does not read back")
    }
    Fuzz.require(written == descriptor, "write → read changed the descriptor")
    Fuzz.require((try? descriptor.schema.schemaHash) != nil, "a decoded schema cannot be hashed")
    if let key = try? descriptor.paillierKey(allowInsecureSize: true) {
        Fuzz.require(key.keyID == descriptor.keyID && key.bitCount == descriptor.keyBits, "the key differs from its description")
    }
}
