// LIN-AUDIT's stored state (the `lin_audit` table an operator could edit): the echelon basis over atoms.
//
// Path: LinearAudit(serialized:) as the query engine loads it, then admit on cells drawn from the input's tail.
// Properties: a state that decodes re-serializes to the same bytes (one encoding per state); it never traps on
// admit or isSafe; a cell admitted twice is `determined` the second time.
import Foundation
import FuzzDriver
import FuzzSupport
import VaultAggregation

Fuzz.run { data in
    let bytes = Array(data)
    guard var audit = try? LinearAudit(serialized: bytes) else { return }
    Fuzz.require(audit.serialized() == bytes, "decode → serialize changed the state")
    _ = audit.isSafe()
    // A few cells over atoms 1…16 with sizes 1…16, from the last bytes.
    for chunk in stride(from: max(0, bytes.count - 8), to: bytes.count, by: 2) {
        let mask = UInt16(bytes[chunk]) << 8 | UInt16(chunk + 1 < bytes.count ? bytes[chunk + 1] : 0)
        let atoms = (0..<16).filter { mask & (1 << $0) != 0 }.map { (id: Int64($0 + 1), records: $0 + 1) }
        guard !atoms.isEmpty else { continue }
        let cell = LinearAudit.Cell(atoms: atoms)
        if audit.admit(cell).admits { Fuzz.require(audit.admit(cell) == .determined, "an admitted cell added information twice") }
    }
}
