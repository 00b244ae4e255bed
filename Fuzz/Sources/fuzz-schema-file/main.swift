// Schema files (`vault init --schema FILE`): YAML declaring scale, score bounds, subjects, attributes and numeric
// covariates.
//
// Path: SchemaFile.parse, as `vault init --schema` does.
// Properties: parsing is deterministic; whatever decodes is a valid Schema (covariate count, bounds, names) whose
// moment layout exists under a 1024-bit key; it re-encodes (SchemaFile.encode) to a file that decodes to the same
// Schema, and its canonical JSON decodes to the same Schema too.
import Foundation
import FuzzDriver
import FuzzSupport
import VaultModel
import VaultPolicy

Fuzz.run { data in
    let bytes = Array(data)
    guard let schema = try? SchemaFile.parse(bytes) else { return }
    Fuzz.require(schema.covariates.count <= Schema.maxCovariates, "more covariates than the limit")
    Fuzz.require(schema.covariates.allSatisfy { $0.min >= 0 && $0.min <= $0.max && $0.max <= 1_000_000_000 },
                 "a covariate's bounds are outside their range")
    guard let twice = try? SchemaFile.parse(bytes) else { return Fuzz.require(false, "parsing is not deterministic") }
    Fuzz.require(twice == schema, "parsing the same bytes twice gave two schemas")
    let yaml = SchemaFile.encode(schema)
    guard let again = try? SchemaFile.parse(Array(yaml.utf8)) else {
        return Fuzz.require(false, "the schema written back does not parse:\n\(yaml)")
    }
    Fuzz.require(again == schema, "parse → encode → parse changed the schema:\n\(yaml)")
    guard let json = try? schema.canonicalJSON(), let decoded = try? JSONDecoder().decode(Schema.self, from: Data(json))
    else { return Fuzz.require(false, "the schema's canonical JSON does not decode") }
    Fuzz.require(decoded == schema, "the schema's canonical JSON decodes to another schema")
    guard let layout = try? schema.momentLayout(keyBits: 1024) else {
        return Fuzz.require(false, "a valid schema has no moment layout under a 1024-bit key")
    }
    Fuzz.require(layout.products.count == 2 + 3 * schema.covariates.count
                     + schema.covariates.count * (schema.covariates.count - 1) / 2, "the layout lost a product")
}
