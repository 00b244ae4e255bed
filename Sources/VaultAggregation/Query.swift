import Foundation

/// What a bureau asks: group records by attributes, optionally filter, optionally contrast two values of one
/// attribute within each group.
///
/// Attributes: `school`, `subject`, a school attribute from the registry (`region`, `province`, …) or a record
/// attribute the schema declares (`grade`, `term`, `sex`, `residence`).
public struct Query: Sendable, Codable, Equatable {
    /// Grouping attributes, in output order.
    public var by: [String]
    /// Equality filters, attribute → value.
    public var filters: [String: String]
    /// The attribute whose two values are contrasted within each group (also a grouping attribute of the cells).
    public var contrast: String?

    public init(by: [String], filters: [String: String] = [:], contrast: String? = nil) {
        self.by = by
        self.filters = filters
        self.contrast = contrast
    }

    /// Parses the command-line forms `--by a,b`, `--where a=v` (repeatable) and `--contrast a`.
    public init(byList: String, whereClauses: [String], contrast: String?) throws(AggregationError) {
        let by = byList.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        var filters: [String: String] = [:]
        for clause in whereClauses {
            let parts = clause.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw AggregationError(.invalidQuery, "--where must look like ATTRIBUTE=VALUE (got '\(clause.prefix(60))')")
            }
            let name = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
            guard filters[name] == nil else {
                throw AggregationError(.invalidQuery, "--where gives '\(name)' twice")
            }
            filters[name] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        let contrast = contrast?.trimmingCharacters(in: .whitespaces).lowercased()
        guard Set(by).count == by.count else { throw AggregationError(.invalidQuery, "--by names an attribute twice") }
        if let contrast {
            guard !by.contains(contrast) else {
                throw AggregationError(.invalidQuery, "--contrast \(contrast) must not also be in --by")
            }
            guard filters[contrast] == nil else {
                throw AggregationError(.invalidQuery, "--contrast \(contrast) must not also be filtered with --where")
            }
        }
        self.init(by: by, filters: filters, contrast: contrast)
    }

    /// Every attribute the query touches.
    public var attributes: [String] { by + filters.keys.sorted() + (contrast.map { [$0] } ?? []) }

    /// The grouping attributes of a cell: `by` plus the contrast attribute.
    public var cellAttributes: [String] { by + (contrast.map { [$0] } ?? []) }
}

