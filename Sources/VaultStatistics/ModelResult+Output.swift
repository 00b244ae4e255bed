public import Foundation

extension ModelResult {
    /// A plain-text report with aligned columns: the OLS coefficient table (estimate, SE, t, p, 95% CI, SD units),
    /// the R² and F line, the type II ANOVA table, the correlations, Hedges' g and the random-intercept model when
    /// present. Numbers are rounded for reading; use ``json()`` or ``csv()`` for full precision.
    public func table() -> String {
        var lines: [String] = []
        let m = model
        lines.append("OLS: n = \(m.n), df_model = \(m.dfModel), df_resid = \(m.dfResid)")
        lines.append(
            "R² = \(Self.fixed(m.r2, 4))  adjusted R² = \(Self.fixed(m.adjR2, 4))  "
                + "F(\(m.dfModel), \(m.dfResid)) = \(Self.general(m.f))  p = \(Self.pValue(m.fP))  "
                + "SD(response) = \(Self.general(m.sdResponse))")
        lines.append("")
        lines += Self.align(
            [["term", "estimate", "SE", "t", "p", "CI95 low", "CI95 high", "SD units"]]
                + m.terms.map { term in
                    [term.name, Self.general(term.estimate), Self.general(term.se), Self.fixed(term.t, 3),
                     Self.pValue(term.p), Self.general(term.ci95[0]), Self.general(term.ci95[1]),
                     term.stdEstimate.map { Self.fixed($0, 4) } ?? "-"]
                })
        lines.append("")
        lines.append("Type II ANOVA")
        lines += Self.align(
            [["term", "sum_sq", "df", "F", "p"]]
                + anova.map { row in
                    [row.term, Self.general(row.sumSq), "\(row.df)", row.F.map { Self.fixed($0, 3) } ?? "",
                     row.p.map(Self.pValue) ?? ""]
                })
        lines.append("")
        lines.append("Pearson correlations")
        lines += Self.align(
            [["x", "y", "n", "r", "p", "CI95 low", "CI95 high"]]
                + correlations.map { row in
                    [row.x, row.y, "\(row.n)", Self.fixed(row.r, 4), Self.pValue(row.p), Self.fixed(row.ci95[0], 4),
                     Self.fixed(row.ci95[1], 4)]
                })
        if let g = hedgesG {
            lines.append("")
            lines.append(
                "Hedges' g (\(g.term): \(g.levels[1]) vs \(g.levels[0]), n = \(g.n[1]) vs \(g.n[0])): "
                    + "g = \(Self.fixed(g.g, 4))  SE = \(Self.fixed(g.se, 4))  "
                    + "CI95 [\(Self.fixed(g.ci95[0], 4)), \(Self.fixed(g.ci95[1], 4))]")
        }
        if let random {
            lines.append("")
            lines.append("Random intercept for \(random.group) (\(random.groups.count) groups, REML)")
            lines.append(
                "var_group = \(Self.general(random.varGroup))  var_resid = \(Self.general(random.varResid))  "
                    + "ICC = \(Self.fixed(random.icc, 4))  REML log-likelihood = \(Self.fixed(random.remlLoglik, 4))")
            lines += Self.align(
                [["term", "estimate", "SE", "z", "p", "CI95 low", "CI95 high"]]
                    + random.terms.map { term in
                        [term.name, Self.general(term.estimate), Self.general(term.se), Self.fixed(term.z, 3),
                         Self.pValue(term.p), Self.general(term.ci95[0]), Self.general(term.ci95[1])]
                    })
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// CSV (RFC 4180, header first) of the coefficients and the ANOVA table, at full precision.
    ///
    /// Columns: `section,name,estimate,se,t,p,ci_low,ci_high,std_estimate,sum_sq,df,F`.
    /// - `section` `ols`: one row per OLS column; `t` is the t statistic, `std_estimate` the estimate in SD units
    ///   (empty for the Intercept); `sum_sq`, `df`, `F` empty.
    /// - `section` `random`: one row per fixed effect of the random-intercept model; `t` holds the z statistic;
    ///   `std_estimate`, `sum_sq`, `df`, `F` empty.
    /// - `section` `anova`: one row per term then `Residual`; `sum_sq`, `df`, `F`, `p` filled (F and p empty for
    ///   `Residual`), the coefficient columns empty.
    public func csv() -> String {
        var rows = [
            ["section", "name", "estimate", "se", "t", "p", "ci_low", "ci_high", "std_estimate", "sum_sq", "df", "F"]
        ]
        for term in model.terms {
            rows.append(
                ["ols", term.name, "\(term.estimate)", "\(term.se)", "\(term.t)", "\(term.p)", "\(term.ci95[0])",
                 "\(term.ci95[1])", term.stdEstimate.map { "\($0)" } ?? "", "", "", ""])
        }
        for term in random?.terms ?? [] {
            rows.append(
                ["random", term.name, "\(term.estimate)", "\(term.se)", "\(term.z)", "\(term.p)", "\(term.ci95[0])",
                 "\(term.ci95[1])", "", "", "", ""])
        }
        for row in anova {
            rows.append(
                ["anova", row.term, "", "", "", row.p.map { "\($0)" } ?? "", "", "", "", "\(row.sumSq)", "\(row.df)",
                 row.F.map { "\($0)" } ?? ""])
        }
        return rows.map { $0.map(Self.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// The result as JSON with sorted keys, pretty-printed; the keys are documented on the nested types.
    ///
    /// - Throws: ``StatisticsError`` if encoding fails (it does not for a result ``ModelFit`` made: all finite).
    public func json() throws(StatisticsError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            return try encoder.encode(self)
        } catch {
            throw StatisticsError("the result cannot be encoded as JSON (non-finite value)")
        }
    }

    static func csvField(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    static func general(_ value: Double) -> String { String(format: "%.6g", value) }

    static func pValue(_ value: Double) -> String {
        value < 1e-4 ? String(format: "%.2e", value) : String(format: "%.4f", value)
    }

    /// Pads every column to its widest cell: the first left-aligned, the others right-aligned.
    static func align(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ").trimmingTrailingSpaces
        }
    }
}

extension String {
    /// The string without trailing spaces.
    fileprivate var trimmingTrailingSpaces: String {
        String(reversed().drop(while: { $0 == " " }).reversed())
    }
}
