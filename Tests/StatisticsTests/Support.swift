import Foundation
import Testing
import VaultStatistics

/// This directory, the repository root (for `.venv`) and the committed fixtures.
let statisticsTestsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let repositoryRoot = statisticsTestsDirectory.deletingLastPathComponent().deletingLastPathComponent()
let resources = statisticsTestsDirectory.appendingPathComponent("Resources")

/// Why the reference statistics are missing (no Python with statsmodels, or the script failed).
struct ReferenceFailure: Error, Sendable, CustomStringConvertible {
    var description: String
}

/// The Python that runs Resources/model_reference.py: EDUVAULT_PYTHON, else the project's `.venv` (made by .ci/run).
enum Reference {
    static let script = resources.appendingPathComponent("model_reference.py").path

    static func python() throws(ReferenceFailure) -> String {
        let python = ProcessInfo.processInfo.environment["EDUVAULT_PYTHON"]
            ?? repositoryRoot.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python),
            (try? run(python, ["-c", "import statsmodels, scipy, pandas"]))?.status == 0
        else {
            throw ReferenceFailure(
                description: "\(python) lacks statsmodels, scipy or pandas (the reference of the exactness tests): "
                    + "run .ci/run, which installs them into .venv")
        }
        return python
    }

    /// One model to compute on one CSV.
    struct Job: Sendable, Encodable {
        var csv: String
        var formula: String
        var random: String?
        var contrast: String?
    }

    /// Runs the reference script once for all jobs (importing statsmodels takes seconds) and returns its JSON
    /// array, one object per job.
    static func statistics(_ jobs: [Job]) throws(ReferenceFailure) -> Data {
        let python = try python()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("stats-jobs-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            try JSONEncoder().encode(jobs).write(to: file)
            let result = try run(python, [script, "--batch", file.path])
            guard result.status == 0 else {
                throw ReferenceFailure(description: "model_reference.py failed: \(result.error)")
            }
            return Data(result.output.utf8)
        } catch let error as ReferenceFailure {
            throw error
        } catch {
            throw ReferenceFailure(description: "running model_reference.py: \(error)")
        }
    }

    static func run(
        _ executable: String, _ arguments: [String]
    ) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // The reference prints little on stderr (it silences statsmodels' warnings), so sequential reads are safe.
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errorData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: output, as: UTF8.self),
            String(decoding: errorData, as: UTF8.self)
        )
    }
}

/// A tidy comma-separated data set (header first, no quoting), as the reference script reads it.
struct Dataset {
    var header: [String]
    var rows: [[String]]

    init(csv: String) {
        let lines = csv.split(separator: "\n").map(String.init)
        header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    init(contentsOf url: URL) throws { self.init(csv: try String(contentsOf: url, encoding: .utf8)) }

    func column(_ name: String) throws -> Int { try #require(header.firstIndex(of: name), "no column \(name)") }

    /// Whether every value of the column is a decimal number (as pandas would read it as numeric).
    func isNumeric(_ name: String) throws -> Bool {
        let index = try column(name)
        return rows.allSatisfy { Double($0[index]) != nil }
    }

    /// "12.5" at scale 1 → 125, exactly; nil if the text has more decimals than `scale`.
    static func fixedPoint(_ text: String, scale: Int) -> Int128? {
        var digits = text
        var negative = false
        if digits.hasPrefix("-") { negative = true; digits.removeFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int128(parts[0].isEmpty ? "0" : String(parts[0])) else { return nil }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= scale, fraction.allSatisfy(\.isNumber) else { return nil }
        var value = whole
        for _ in 0..<scale { value *= 10 }
        var place = Int128(1)
        for _ in 0..<(scale - fraction.count) { place *= 10 }
        if !fraction.isEmpty, let digits = Int128(fraction) { value += digits * place }
        return negative ? -value : value
    }

    /// The exact sums a vault release of `formula` yields, computed from the plaintext rows (what decryption gives).
    ///
    /// `declaredLevels` adds levels that no row has (as a schema would), to test empty dummy columns.
    func sums(
        _ formulaText: String, scale: Int, random: String? = nil, declaredLevels: [String: [String]] = [:]
    ) throws -> ModelSums {
        let formula = try ModelFormula.parse(formulaText)
        var numeric = [formula.response]
        var categoricalNames: [String] = []
        for term in formula.terms {
            if try isNumeric(term) { numeric.append(term) } else { categoricalNames.append(term) }
        }
        let numericColumns = try numeric.map(column)
        let categoricalColumns = try categoricalNames.map(column)
        let categorical = categoricalNames.enumerated().map { t, name in
            CategoricalTerm(
                name: name,
                levels: Set(rows.map { $0[categoricalColumns[t]] } + declaredLevels[name, default: []]).sorted())
        }
        let p = numeric.count
        var total = Moments(variableCount: p)
        var levels = categorical.map { [Moments](repeating: Moments(variableCount: p), count: $0.levels.count) }
        let t = categorical.count
        var pairCounts = [[[Int]]]()
        for a in 0..<t {
            for b in (a + 1)..<max(t, a + 1) {
                pairCounts.append(
                    Array(repeating: Array(repeating: 0, count: categorical[b].levels.count),
                          count: categorical[a].levels.count))
            }
        }
        let groupColumn = try random.map(column)
        let groups = groupColumn.map { g in Set(rows.map { $0[g] }).sorted() } ?? []
        var groupMoments = [Moments](repeating: Moments(variableCount: p), count: groups.count)
        var levelCounts = [[[Int]]](
            repeating: categorical.map { Array(repeating: 0, count: $0.levels.count) }, count: groups.count)
        for row in rows {
            let values = try numericColumns.map { index in
                try #require(Dataset.fixedPoint(row[index], scale: scale), "not a scale-\(scale) number")
            }
            let levelIndex = categorical.enumerated().map { t, term in
                term.levels.firstIndex(of: row[categoricalColumns[t]])!
            }
            total.add(values)
            for term in 0..<t { levels[term][levelIndex[term]].add(values) }
            for a in 0..<t {
                for b in (a + 1)..<max(t, a + 1) {
                    pairCounts[ModelSums.pairIndex(a, b, count: t)][levelIndex[a]][levelIndex[b]] += 1
                }
            }
            if let groupColumn {
                let g = groups.firstIndex(of: row[groupColumn])!
                groupMoments[g].add(values)
                for term in 0..<t { levelCounts[g][term][levelIndex[term]] += 1 }
            }
        }
        return ModelSums(
            formula: formula, scale: scale, numeric: numeric, categorical: categorical, total: total, levels: levels,
            pairCounts: pairCounts,
            random: random.map {
                ModelSums.RandomGroups(name: $0, groups: groups, moments: groupMoments, levelCounts: levelCounts)
            })
    }

    /// The UCI Portuguese-language file as a tidy data set: score = G3, prior_score = G1, studytime, absences, sex,
    /// residence (address U/R → urban/rural), school.
    static func uci(_ file: String = "student-por.csv") throws -> Dataset {
        let url = repositoryRoot.appendingPathComponent("Tests/Fixtures/uci-student-performance/\(file)")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ";").map(String.init)
        func index(_ name: String) throws -> Int { try #require(header.firstIndex(of: name)) }
        let columns = try ["G3", "G1", "studytime", "absences", "sex", "address", "school"].map(index)
        var csv = "score,prior_score,studytime,absences,sex,residence,school\n"
        for line in lines.dropFirst() {
            let fields = line.split(separator: ";", omittingEmptySubsequences: false).map {
                $0.replacingOccurrences(of: "\"", with: "")
            }
            var values = columns.map { fields[$0] }
            values[5] = values[5] == "U" ? "urban" : try #require(values[5] == "R" ? "rural" : nil, "address U/R")
            csv += values.joined(separator: ",") + "\n"
        }
        return Dataset(csv: csv)
    }

    /// Writes the data set as CSV to a fresh temporary file.
    func write() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("stats-\(UUID().uuidString).csv")
        let text = ([header] + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}

/// Compares two JSON trees: same keys, same strings, numbers within 1e-6 relative or 1e-9 absolute, null with null.
struct JSONComparison {
    var failures: [String] = []
    /// The largest |a − b| / max(|a|, |b|) over all numbers (tiny p-values included).
    var maxRelative = 0.0
    var maxRelativePath = ""
    /// The largest relative difference per top-level key (`model`, `anova`, `correlations`, `hedges_g`, `random`).
    var maxRelativeBySection: [String: Double] = [:]
    /// The same without p-values (a tiny p amplifies the relative difference of its statistic).
    var maxRelativeBySectionWithoutP: [String: Double] = [:]
    var count = 0

    static func number(_ value: Any) -> Double? {
        switch value {
        case let value as Int: Double(value)
        case let value as Double: value
        case let value as NSNumber: value.doubleValue
        default: nil
        }
    }

    mutating func compare(_ ours: Any?, _ reference: Any?, _ path: String = "") {
        switch (ours, reference) {
        case (let a as [String: Any], let b as [String: Any]):
            if Set(a.keys) != Set(b.keys) {
                failures.append("\(path): keys \(a.keys.sorted()) vs reference \(b.keys.sorted())")
            }
            for key in Set(a.keys).intersection(b.keys).sorted() { compare(a[key], b[key], "\(path).\(key)") }
        case (let a as [Any], let b as [Any]):
            guard a.count == b.count else {
                failures.append("\(path): \(a.count) items vs reference \(b.count)")
                return
            }
            for i in a.indices { compare(a[i], b[i], "\(path)[\(i)]") }
        case (let a as String, let b as String):
            if a != b { failures.append("\(path): \(a) vs reference \(b)") }
        case (is NSNull, is NSNull), (nil, nil), (nil, is NSNull), (is NSNull, nil):
            break
        case (let a?, let b?) where Self.number(a) != nil && Self.number(b) != nil:
            count += 1
            let (x, y) = (Self.number(a)!, Self.number(b)!)
            let difference = abs(x - y)
            let relative = difference == 0 ? 0 : difference / max(abs(x), abs(y))
            let section = String(path.dropFirst().prefix { $0 != "." && $0 != "[" })
            maxRelativeBySection[section] = max(maxRelativeBySection[section] ?? 0, relative)
            if !path.hasSuffix(".p") && !path.hasSuffix(".f_p") {
                maxRelativeBySectionWithoutP[section] = max(maxRelativeBySectionWithoutP[section] ?? 0, relative)
            }
            if relative > maxRelative {
                maxRelative = relative
                maxRelativePath = path
            }
            if !(difference <= 1e-9 || relative <= 1e-6) {
                failures.append("\(path): \(x) vs reference \(y) (relative \(relative))")
            }
        default:
            failures.append("\(path): \(String(describing: ours)) vs reference \(String(describing: reference))")
        }
    }
}
