// The client's readers of the service's answers (`VaultHTTPClient`, `HTTPAuditSource`): a hostile or broken server
// must neither crash the client nor mislead it.
//
// Path: the first input byte chooses the answer (problem details, receipt, status, a page of log entries, a proof,
// leaves, the audit tables, a batch's records, a share receipt and the posted partials of a release), the second the HTTP status, the third the page's start; the rest is
// the body, read by ServiceAnswer as the client reads it.
// Properties: what decodes re-encodes to JSON that decodes to the same value (and encodes to the same bytes); a
// problem's message is one short line of printable text (no control characters, no terminal escapes), with the
// status's code; a page of entries holds consecutive indexes from the start asked, so paging always advances;
// leaves are 32 bytes whose hex is the text the server sent; posted partials name each party once, by a valid party
// name (it becomes a file name: no path separator, no dot), and each partial's text hashes to the SHA-256 stated.
import Foundation
import FuzzDriver
import FuzzSupport
import Primitives
import VaultApp
import VaultAudit
import VaultModel

let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}()

let statuses = [200, 201, 400, 401, 403, 404, 408, 409, 413, 422, 429, 431, 500, 503, 302, 204]

/// decode → encode → decode → encode: the two encodings agree.
func roundTrip<T: Codable>(_ type: T.Type, _ body: Data, status: Int) {
    guard let value = try? ServiceAnswer.decode(T.self, status: status, body: body, statuses: [200, 201]) else { return }
    guard let first = try? encoder.encode(value) else { return Fuzz.require(false, "a decoded \(T.self) does not encode") }
    guard let again = try? ServiceAnswer.decode(T.self, status: 200, body: first) else {
        return Fuzz.require(false, "a re-encoded \(T.self) does not decode")
    }
    Fuzz.require((try? encoder.encode(again)) == first, "\(T.self): decode → encode is not stable")
}

func printable(_ text: String) -> Bool {
    text.unicodeScalars.allSatisfy { !($0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.properties.generalCategory == .format
                                       || $0.properties.generalCategory == .lineSeparator || $0.properties.generalCategory == .paragraphSeparator) }
}

Fuzz.run { data in
    guard data.count >= 3 else { return }
    let kind = Int(data[data.startIndex]) % 9
    let status = statuses[Int(data[data.startIndex + 1]) % statuses.count]
    let start = Int64(data[data.startIndex + 2]) + 1
    let body = Data(data.dropFirst(3))
    switch kind {
    case 0:
        let problem = ServiceAnswer.problem(status: status, body: body)
        Fuzz.require(printable(problem.message) && problem.message.count <= ServiceAnswer.maxMessageCharacters,
                     "a problem's message is not one short printable line: \(problem.message.prefix(80).debugDescription)")
        Fuzz.require(problem.rule.map { printable($0) && $0.count <= 64 } ?? true, "a problem's rule is not a short printable token")
        Fuzz.require(status < 400 || problem.status == status || (problem.status == 503 && ![400, 401, 403, 404, 408, 409, 413, 422, 429, 431].contains(status)),
                     "a problem's status \(status) became \(problem.status)")
    case 1: roundTrip(Receipt.self, body, status: status)
    case 2: roundTrip(StatusReport.self, body, status: status)
    case 3:
        let end = start + VaultService.maxEntriesPerPage
        guard let page = try? ServiceAnswer.entries(status: status, body: body, start: start, end: end) else { return }
        Fuzz.require(page.entries.count <= Int(VaultService.maxEntriesPerPage), "a page longer than asked")
        for (offset, entry) in page.entries.enumerated() {
            Fuzz.require(entry.index == start + Int64(offset), "a page's entries are not consecutive from the start asked")
        }
        if let next = ServiceAnswer.next(after: page, start: start) {
            Fuzz.require(next > start && next <= page.size, "paging does not advance within the log")
        }
        roundTrip(LogEntriesPage.self, body, status: status)
    case 4: roundTrip(LogProof.self, body, status: status)
    case 5:
        guard let page = try? ServiceAnswer.decode(LeavesPage.self, status: status, body: body, statuses: [200]),
              let leaves = try? ServiceAnswer.leaves(page) else { return }
        for (leaf, text) in zip(leaves, page.leaves) {
            Fuzz.require(leaf.count == 32, "a leaf is not 32 bytes")
            Fuzz.require(leaf.map { String(format: "%02x", $0) }.joined() == text.lowercased(), "a leaf is not the hex the server sent")
        }
        roundTrip(LeavesPage.self, body, status: status)
    case 6: roundTrip(AuditTables.self, body, status: status)
    case 7: roundTrip([AuditExport.RecordRow].self, body, status: status)
    default:
        roundTrip(ShareReceipt.self, body, status: status)
        guard let shares = try? ServiceAnswer.shares(status: status, body: body, release: "r1") else { return }
        Fuzz.require(shares.release == "r1", "partials of another release were accepted")
        Fuzz.require(Set(shares.partials.map(\.party)).count == shares.partials.count, "a party named twice")
        for partial in shares.partials {
            Fuzz.require((1...32).contains(partial.party.utf8.count) && !partial.party.contains("/")
                         && !partial.party.contains(".") && !partial.party.contains("\\"),
                         "a party name that is not a safe file name: \(partial.party.prefix(40).debugDescription)")
            Fuzz.require(Hex.encode(SHA256.hash(Array(partial.partial.utf8))) == partial.sha256,
                         "a partial that does not match its SHA-256")
        }
        roundTrip(ReleaseShares.self, body, status: status)
    }
}
