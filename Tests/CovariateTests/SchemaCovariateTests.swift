import Foundation
import Testing
import VaultModel
import VaultPolicy

@Suite("covariates: schema, layout, schema file, CSV")
struct SchemaCovariateTests {
    static let six: [Schema.Covariate] = [
        .init(name: "prior_score", min: 0, max: 1000), .init(name: "study_hours", min: 0, max: 400),
        .init(name: "absences", min: 0, max: 930), .init(name: "a", min: 0, max: 10), .init(name: "b", min: 5, max: 20),
        .init(name: "c", min: 0, max: 1),
    ]

    @Test("a schema without covariates encodes byte for byte as before (same hash as the committed fuzz batches)")
    func hashStability() throws {
        let schema = try Schema()
        #expect(schema.covariates.isEmpty)
        let json = String(decoding: try schema.canonicalJSON(), as: UTF8.self)
        #expect(json == #"{"attributes":[{"name":"grade"},{"name":"term"},{"allowed_values":["F","M"],"name":"sex"},"#
            + #"{"allowed_values":["urban","rural"],"name":"residence"}],"max_score":1000,"min_score":0,"scale":1,"#
            + #""slot_bits":96,"slot_count":2}"#)
        #expect(try schema.schemaHash == "2d9b748feee52c2005c144c529d1990f1fc43a228fb6079a22488dc834c1f340")
        // An explicit empty list decodes to the same schema and hash.
        let withEmpty = Data(json.dropLast().utf8) + Data(#","covariates":[]}"#.utf8)
        let decoded = try JSONDecoder().decode(Schema.self, from: withEmpty)
        #expect(decoded == schema)
        #expect(try decoded.schemaHash == schema.schemaHash)
    }

    @Test("covariates round-trip through JSON and change the hash")
    func roundTrip() throws {
        let schema = try Schema(covariates: Self.six)
        let decoded = try JSONDecoder().decode(Schema.self, from: Data(try schema.canonicalJSON()))
        #expect(decoded == schema)
        #expect(decoded.covariates == Self.six)
        #expect(try schema.schemaHash != Schema().schemaHash)
        #expect(String(decoding: try schema.canonicalJSON(), as: UTF8.self).contains(#""covariates":[{"max":1000,"min":0,"name":"prior_score"}"#))
    }

    @Test("covariate declarations are validated", arguments: [
        ([Schema.Covariate(name: "x", min: -1, max: 10)], "at least 0"),
        ([.init(name: "x", min: 10, max: 5)], "must not exceed"),
        ([.init(name: "x", min: 0, max: 1_000_000_001)], "10^9"),
        ([.init(name: "Prior", min: 0, max: 10)], "[a-z0-9_]"),
        ([.init(name: "prior-score", min: 0, max: 10)], "[a-z0-9_]"),
        ([.init(name: String(repeating: "a", count: 33), min: 0, max: 10)], "[a-z0-9_]"),
        ([.init(name: "score", min: 0, max: 10)], "collides"),
        ([.init(name: "school", min: 0, max: 10)], "collides"),
        ([.init(name: "student", min: 0, max: 10)], "collides"),
        ([.init(name: "subject", min: 0, max: 10)], "collides"),
        ([.init(name: "grade", min: 0, max: 10)], "collides with an attribute"),
        ([.init(name: "x", min: 0, max: 10), .init(name: "x", min: 0, max: 5)], "twice"),
        ((0..<9).map { Schema.Covariate(name: "x\($0)", min: 0, max: 10) }, "at most 8"),
    ])
    func validation(covariates: [Schema.Covariate], message: String) {
        do {
            _ = try Schema(covariates: covariates)
            Issue.record("accepted an invalid covariate list")
        } catch {
            #expect(error.code == .invalidSchema)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test("covariates need two slots, and slots wide enough for their products")
    func slotRules() {
        #expect(throws: ModelError.self) { try Schema(slotCount: 1, covariates: [.init(name: "x", min: 0, max: 10)]) }
        #expect(throws: ModelError.self) {
            try Schema(maxScore: 100, slotBits: 16, covariates: [.init(name: "x", min: 0, max: 1000)])
        }
    }

    @Test("the moment layout: product order, ciphertext 0 unchanged, locations, maxima")
    func layout() throws {
        let schema = try Schema(covariates: Array(Self.six.prefix(2)))
        let layout = try schema.momentLayout(keyBits: 1024)
        #expect(layout.products == [.y, .y2, .x(0), .x2(0), .xy(0), .x(1), .x2(1), .xy(1), .xx(0, 1)])
        #expect(layout.slotBits == 96 && layout.slotsPerCiphertext == 10)
        #expect(layout.ciphertextCount == 2)
        #expect(layout.location(of: .y) == (0, 0) && layout.location(of: .y2) == (0, 1))
        #expect(layout.location(of: .x(0)) == (1, 0) && layout.location(of: .xx(0, 1)) == (1, 6))
        #expect(layout.slotCount(ofCiphertext: 0) == 2 && layout.slotCount(ofCiphertext: 1) == 7)
        #expect(layout.maxValue(of: .y2) == 1_000_000)
        #expect(layout.maxValue(of: .xy(1)) == 400 * 1000 && layout.maxValue(of: .xx(0, 1)) == 1000 * 400)
        // Six covariates: 2 + 18 + 15 = 35 products; 33 in ciphertexts of 10 slots at 1024 bits, 21 at 2048.
        let six = try Schema(covariates: Self.six)
        #expect(try six.momentLayout(keyBits: 1024).ciphertextCount == 5)
        #expect(try six.momentLayout(keyBits: 2048).ciphertextCount == 3)
        #expect(try six.momentLayout(keyBits: 3072).ciphertextCount == 3)
        #expect(try Schema().momentLayout(keyBits: 1024).ciphertextCount == 1)
        #expect(try Schema().momentLayout(keyBits: 1024).products == [.y, .y2])
        // Every slot of every ciphertext is used exactly once.
        let big = try six.momentLayout(keyBits: 1024)
        var seen = Set<[Int]>()
        for product in big.products {
            let at = big.location(of: product)
            #expect(seen.insert([at.ciphertext, at.slot]).inserted)
            #expect(at.slot < (at.ciphertext == 0 ? 2 : big.slotsPerCiphertext))
        }
    }

    @Test("canSum is exact at the boundary and covers every product")
    func canSum() throws {
        let schema = try Schema(slotBits: 64, covariates: [.init(name: "x", min: 0, max: 1_000_000_000)])
        let layout = try schema.momentLayout(keyBits: 1024)
        // The largest product is x² = 10^18; 2^64 − 1 = 18446744073709551615 → at most 18 records.
        #expect(layout.canSum(count: 18))
        #expect(!layout.canSum(count: 19))
        #expect(layout.maxSafeCount == 18)
        #expect(!layout.canSum(count: -1))
        let wide = try Schema(covariates: [.init(name: "x", min: 0, max: 1000)]).momentLayout(keyBits: 2048)
        #expect(wide.canSum(count: Int.max))  // 96-bit slots, products ≤ 10^6: any Int count fits
    }

    @Test("slot values are the products, checked against the bounds")
    func slotValues() throws {
        let schema = try Schema(covariates: Array(Self.six.prefix(2)))
        let layout = try schema.momentLayout(keyBits: 1024)
        let values = try layout.slotValues(y: 875, x: [700, 120])
        let expected: [[UInt64]] = [[875, 765_625], [700, 490_000, 612_500, 120, 14_400, 105_000, 84_000]]
        #expect(values == expected)
        #expect(throws: ModelError.self) { try layout.slotValues(y: 875, x: [700]) }
        #expect(throws: ModelError.self) { try layout.slotValues(y: 875, x: [700, 401]) }
        #expect(throws: ModelError.self) { try layout.slotValues(y: -1, x: [700, 1]) }
    }

    // MARK: - Schema file

    @Test("schema file: covariates with the scale's fixed point, defaults, round trip")
    func schemaFile() throws {
        let yaml = """
            # a schema file
            scale: 1
            min_score: 0
            max_score: 100
            subjects: [math, chinese]
            covariates:
              - {name: prior_score, min: 0, max: 100}
              - name: study_hours
                min: 0
                max: 40
              - {name: absences, min: "0", max: 93.5}
            """
        let schema = try SchemaFile.parse(Array(yaml.utf8))
        #expect(schema.covariates == [
            .init(name: "prior_score", min: 0, max: 1000), .init(name: "study_hours", min: 0, max: 400),
            .init(name: "absences", min: 0, max: 935),
        ])
        #expect(schema.subjects == ["math", "chinese"] && schema.attributes == Schema.defaultAttributes)
        #expect(schema.maxScore == 1000 && schema.scale == 1)
        let again = try SchemaFile.parse(Array(SchemaFile.encode(schema).utf8))
        #expect(again == schema)
        // An empty file's mapping is refused; a minimal one gives the default schema.
        #expect(try SchemaFile.parse(Array("scale: 1\n".utf8)) == Schema())
    }

    @Test("schema file: strict decoding", arguments: [
        ("scale: 1\nextra: 2\n", "unknown key"),
        ("covariates:\n  - {name: x, min: 0, max: 10, unit: h}\n", "unknown key"),
        ("covariates:\n  - {name: x, min: 0}\n", "needs 'min' and 'max'"),
        ("covariates:\n  - {name: x, min: -1, max: 10}\n", "at least 0"),
        ("covariates:\n  - {name: x, min: 0, max: 10.55}\n", "decimal place"),
        ("covariates:\n  - {name: x, min: 0, max: 0x10}\n", "decimal number"),
        ("covariates:\n  - {name: X, min: 0, max: 10}\n", "[a-z0-9_]"),
        ("covariates:\n  - {name: sex, min: 0, max: 10}\n", "collides"),
        ("scale: 012\n", "integer"),
        ("scale: 7\n", "integer from 0 to 6"),
        ("- a\n- b\n", "mapping"),
        ("scale: [1\n", "not valid YAML"),
        ("covariates: {name: x}\n", "must be a list"),
    ])
    func schemaFileStrict(yaml: String, message: String) {
        do {
            _ = try SchemaFile.parse(Array(yaml.utf8))
            Issue.record("accepted an invalid schema file")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test("schema file: size and list limits")
    func schemaFileLimits() {
        #expect(throws: PolicyError.self) {
            try SchemaFile.parse(Array(("# " + String(repeating: "x", count: SchemaFile.maxFileBytes)).utf8))
        }
        let nine = "covariates:\n" + (0..<9).map { "  - {name: x\($0), min: 0, max: 1}\n" }.joined()
        #expect(throws: PolicyError.self) { try SchemaFile.parse(Array(nine.utf8)) }
    }

    @Test("--covariate NAME:MIN:MAX")
    func covariateFlag() throws {
        #expect(try SchemaFile.covariate(flag: "prior_score:0:100", scale: 1) == .init(name: "prior_score", min: 0, max: 1000))
        #expect(try SchemaFile.covariate(flag: "absences:0:93", scale: 0) == .init(name: "absences", min: 0, max: 93))
        #expect(try SchemaFile.covariate(flag: "hours:0.5:40.5", scale: 1) == .init(name: "hours", min: 5, max: 405))
        for bad in ["prior_score", "prior_score:0", "a:b:c", "Prior:0:1", "x:0:1:2", "x:0:1.25"] {
            #expect(throws: PolicyError.self, "\(bad)") { try SchemaFile.covariate(flag: bad, scale: 1) }
        }
        // A negative bound parses; the schema refuses it with a clear message.
        let negative = try SchemaFile.covariate(flag: "x:-1:10", scale: 1)
        #expect(throws: ModelError.self) { try Schema(covariates: [negative]) }
    }

    // MARK: - CSV

    func csvRows(_ text: String, schema: Schema) throws(ModelError) -> [ScoreRow] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cov-\(UUID().uuidString).csv")
        try? Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let csv = try ScoreCSV(url: url, schema: schema)
        var rows: [ScoreRow] = []
        while let row = try csv.next() { rows.append(row) }
        return rows
    }

    @Test("CSV: covariate columns are read in declaration order, whatever the column order")
    func csvReads() throws {
        let schema = try Schema(covariates: [.init(name: "prior_score", min: 0, max: 1000),
                                             .init(name: "absences", min: 0, max: 930)])
        let rows = try csvRows("absences,student_id,subject,score,prior_score,sex\n3,s1,math,87.5,80.1,F\n0,s2,math,50,0,\n",
                               schema: schema)
        #expect(rows.map(\.covariates) == [[801, 30], [0, 0]])
        #expect(rows[0].attributes == ["sex": "F"] && rows[1].attributes.isEmpty)
        #expect(rows[0].score == 875)
    }

    @Test("CSV: covariate errors name the line and the covariate, never the value", arguments: [
        ("s1,math,87.5,80,3\ns2,math,50,,1\n", 3, "covariate 'prior_score' is empty"),
        ("s1,math,87.5,80,3\ns2,math,50,77,94.25\n", 3, "covariate 'absences' has more than 1 decimal place"),
        ("s1,math,87.5,80,93.7\n", 2, "covariate 'absences' is outside 0.0–93.0"),
        ("s1,math,87.5,100.1,3\n", 2, "covariate 'prior_score' is outside 0.0–100.0"),
        ("s1,math,87.5,-0.5,3\n", 2, "covariate 'prior_score' is outside 0.0–100.0"),
        ("s1,math,87.5,seventy,3\n", 2, "covariate 'prior_score' is not a decimal number"),
        ("s1,math,87.5,99999999999999999999,3\n", 2, "covariate 'prior_score' is outside"),
    ])
    func csvErrors(body: String, line: Int, message: String) throws {
        let schema = try Schema(covariates: [.init(name: "prior_score", min: 0, max: 1000),
                                             .init(name: "absences", min: 0, max: 930)])
        do {
            _ = try csvRows("student_id,subject,score,prior_score,absences\n" + body, schema: schema)
            Issue.record("accepted a bad covariate")
        } catch {
            #expect(error.line == line)
            #expect(error.description.contains("line \(line)"))
            #expect(error.message.contains(message), "\(error.message)")
            for secret in ["94.25", "93.7", "100.1", "-0.5", "seventy", "99999"] {
                #expect(!error.description.contains(secret), "the value leaked: \(error.description)")
            }
        }
    }

    @Test("CSV: a missing covariate column is named")
    func csvMissingColumn() throws {
        let schema = try Schema(covariates: [.init(name: "prior_score", min: 0, max: 1000),
                                             .init(name: "absences", min: 0, max: 930)])
        do {
            _ = try csvRows("student_id,subject,score,prior_score\ns1,math,87.5,80\n", schema: schema)
            Issue.record("accepted a CSV without a covariate column")
        } catch {
            #expect(error.code == .missingColumn && error.line == 1)
            #expect(error.message.contains("'absences'"))
        }
        // Without covariates in the schema, such a column is an unknown attribute, as before.
        #expect(throws: ModelError.self) { try csvRows("student_id,subject,score,absences\ns1,math,87.5,3\n", schema: try Schema()) }
    }
}
