import Foundation
import Testing
import VaultModel
import VaultPolicy

/// Issue 14: every limit a decoder enforces (SECURITY.md, "Limits") is refused cleanly just beyond it.
@Suite("Decoder limits")
struct LimitTests {
    @Test("A score sheet row may have at most 1024 fields")
    func csvColumns() throws {
        let dir = try TempDir()
        func rows(_ extra: Int) throws -> Int {
            let header = "student_id,subject,score" + String(repeating: ",grade", count: extra)
            let url = try dir.file("wide.csv", header + "\n")
            let csv = try ScoreCSV(url: url, schema: try Schema())
            var count = 0
            while try csv.next() != nil { count += 1 }
            return count
        }
        // 1024 fields read (then fail on the repeated column name, which is not the limit).
        let atLimit = #expect(throws: ModelError.self) { try rows(1021) }
        #expect(atLimit?.message.contains("appears twice") == true)
        let beyond = #expect(throws: ModelError.self) { try rows(1022) }
        #expect(beyond?.code == .malformedCSV && beyond?.message.contains("more than 1024 fields") == true)
    }

    @Test("A descriptor file may be at most 1 MiB, and a schema lists at most 256 of anything")
    func descriptorLimits() throws {
        let dir = try TempDir()
        let big = try dir.file("descriptor.json", "{" + String(repeating: " ", count: Descriptor.maxFileBytes) + "}")
        let error = #expect(throws: ModelError.self) { try Descriptor.read(from: big) }
        #expect(error?.code == .invalidFile && error?.message.contains("larger than") == true)
        #expect(throws: ModelError.self) { try Descriptor.decode([UInt8](repeating: 32, count: Descriptor.maxFileBytes + 1)) }
        let many = (0...Schema.maxListed).map { Schema.Attribute(name: "a\($0)") }
        let schemaError = #expect(throws: ModelError.self) { try Schema(attributes: many) }
        #expect(schemaError?.code == .invalidSchema)
        #expect(throws: ModelError.self) { try Schema(subjects: (0...Schema.maxListed).map { "s\($0)" }) }
        #expect(throws: ModelError.self) {
            try Schema(attributes: [.init(name: "x", allowedValues: (0...Schema.maxListed).map { "v\($0)" })])
        }
        _ = try Schema(attributes: Array(many.prefix(Schema.maxListed)))
    }

    @Test("Policy integers are plain decimal: sexagesimal (which trapped in Yams), hex, octal and overflow are refused")
    func policyIntegers() throws {
        let text = String(decoding: try defaultPolicyBytes(), as: UTF8.self)
        for value in ["1:2:3:4:5:6:7:8:9:10:11:12", "9223372036854775807:0", "0x10", "0o17", "1_000", "1e3",
                      "99999999999999999999", "\"10\""] {
            let yaml = text.replacingOccurrences(of: "min_cell_size: 10", with: "min_cell_size: \(value)")
            let error = #expect(throws: PolicyError.self, "\(value)") { try Policy.parse(Array(yaml.utf8)) }
            #expect(error?.code == .invalidValue, "\(value): \(String(describing: error))")
        }
        #expect(try Policy.parse(Array(text.replacingOccurrences(of: "min_cell_size: 10", with: "min_cell_size: +12").utf8))
            .minCellSize == 12)
        let big = Array(text.utf8) + [UInt8](repeating: UInt8(ascii: "#"), count: Policy.maxFileBytes)
        #expect(throws: PolicyError.self) { try Policy.parse(big) }
    }
}
