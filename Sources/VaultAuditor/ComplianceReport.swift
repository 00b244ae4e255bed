import Foundation

/// The compliance report: one self-contained HTML page (no external assets; charts are inline SVG drawn here) an
/// auditor can archive or hand to a supervisor.
public enum ComplianceReport {
    /// The page for a verification report.
    public static func html(_ r: AuditReport, title: String = "EduVault compliance report") -> String {
        var body = ""
        let verdictText: String
        switch r.verdict {
        case .pass: verdictText = "PASS — every check passed"
        case .fail: verdictText = "FAIL — \(r.problems.count) problem(s) found"
        case .misbehaviour: verdictText = "MISBEHAVIOUR — the vault signed two checkpoints that cannot both be true"
        }
        body += "<h1>\(escape(title))</h1>\n"
        body += "<p id=\"verdict\" class=\"verdict \(r.verdict.rawValue)\">Verdict: \(escape(verdictText))</p>\n"
        body +=
            "<p>Log <code>\(escape(r.origin))</code>: \(r.entries) entries; signed checkpoint of size "
            + "\(r.checkpointSize), root <code>\(escape(r.root))</code>.</p>\n"

        body +=
            "<h2>Checks</h2>\n"
            + table(
                ["check", "result", "detail"],
                r.checks.map {
                    [$0.name, $0.passed ? "pass" : "FAIL", $0.detail]
                })
        if !r.problems.isEmpty {
            body +=
                "<h2>Problems</h2>\n"
                + table(
                    ["check", "entry", "batch", "problem"],
                    r.problems.map {
                        [
                            $0.check, $0.entry.map(String.init) ?? "", $0.batch.map { String($0.prefix(16)) } ?? "",
                            $0.message,
                        ]
                    })
        }
        if let m = r.misbehaviour {
            body +=
                "<h2>Proof of misbehaviour (\(escape(m.kind)))</h2>\n<p>Both checkpoints are signed by the vault's log key.</p>\n"
            body += "<pre>\(escape(m.earlier))</pre>\n<pre>\(escape(m.later))</pre>\n"
        }

        body +=
            "<h2>Policies in force</h2>\n"
            + table(
                ["entry", "time", "policy", "version", "SHA-256"],
                r.policies.map {
                    [String($0.entry), $0.time, $0.id, String($0.version), $0.sha256]
                })
        body +=
            "<h2>Schools and their keys</h2>\n"
            + table(
                ["school", "registered (entry)", "key fingerprint", "attributes"],
                r.schools.map {
                    [
                        $0.id, String($0.entry), $0.keyFingerprint,
                        $0.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
                    ]
                })
        body +=
            "<h2>Keys and custody</h2>\n"
            + table(
                ["key", "bits", "custody", "entry"],
                r.keys.map {
                    [$0.keyID, String($0.bits), $0.custody ?? "one bureau key", String($0.entry)]
                })

        body += "<h2>Batches and records per school per month</h2>\n"
        body += barChart(
            id: "chart-batches", r.months.map { ("\($0.school) \($0.month)", Double($0.records)) },
            unit: "records")
        body += table(
            ["school", "month", "batches", "records"],
            r.months.map {
                [$0.school, $0.month, String($0.batches), String($0.records)]
            })

        body += "<h2>Releases and refusals per rule</h2>\n"
        var bars: [(String, Double)] = [("released cells", Double(r.releasedCells))]
        bars += r.withheldByRule.sorted { $0.key < $1.key }.map { ("withheld: \($0.key)", Double($0.value)) }
        bars += r.refusalsByRule.sorted { $0.key < $1.key }.map { ("refused query: \($0.key)", Double($0.value)) }
        body += barChart(id: "chart-releases", bars, unit: "")
        body += "<p>\(r.releases) releases.</p>\n"

        body += "<h2>Retention</h2>\n"
        if let days = r.retentionDays {
            body += "<p>The policy keeps records \(days) days.</p>\n"
            body +=
                r.retention.isEmpty
                ? "<p id=\"retention\">No batch is past retention.</p>\n"
                : "<p id=\"retention\" class=\"flag\">\(r.retention.count) batch(es) are past retention and not purged "
                    + "(`eduvault vault purge`):</p>\n"
                    + table(
                        ["batch", "school", "received", "records", "age (days)"],
                        r.retention.map {
                            [
                                String($0.batch.prefix(16)), $0.school, $0.received, String($0.records),
                                String($0.ageDays),
                            ]
                        })
        } else {
            body += "<p>No policy in the log.</p>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
            table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:0.25em 0.6em;text-align:left}
            th{background:#f3f3f3}.verdict{font-size:1.4em;font-weight:bold;padding:0.5em}.pass{background:#e6f4e6}
            .fail{background:#fbe3e3}.misbehaviour{background:#f9d0d0}.flag{color:#a00;font-weight:bold}
            pre{background:#f6f6f6;padding:0.5em;white-space:pre-wrap}code{font-size:0.9em}
            </style></head><body>
            \(body)</body></html>

            """
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "<p>(none)</p>\n" }
        var out = "<table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
        for row in rows { out += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n" }
        return out + "</table>\n"
    }

    /// A horizontal bar chart as inline SVG, with the values written next to the bars (readable as text too).
    static func barChart(id: String, _ bars: [(label: String, value: Double)], unit: String) -> String {
        guard !bars.isEmpty else { return "<p>(no data)</p>\n" }
        let maximum = max(bars.map(\.value).max() ?? 1, 1)
        let rowHeight = 22
        let labelWidth = 260
        let chartWidth = 420
        let height = rowHeight * bars.count + 10
        var svg =
            "<svg id=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + chartWidth + 120)\" "
            + "height=\"\(height)\" role=\"img\">\n"
        for (i, bar) in bars.enumerated() {
            let y = i * rowHeight + 5
            let width = Int((bar.value / maximum) * Double(chartWidth))
            svg += "<text x=\"0\" y=\"\(y + 15)\" font-size=\"12\">\(escape(String(bar.label.prefix(40))))</text>"
            svg +=
                "<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(max(width, 1))\" height=\"\(rowHeight - 6)\" fill=\"#4a7ab5\"/>"
            svg +=
                "<text x=\"\(labelWidth + width + 6)\" y=\"\(y + 15)\" font-size=\"12\">"
                + "\(Int(bar.value))\(unit.isEmpty ? "" : " " + unit)</text>\n"
        }
        return svg + "</svg>\n"
    }
}
