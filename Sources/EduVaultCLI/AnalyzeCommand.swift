import ArgumentParser
import Foundation
import Paillier
import VaultAggregation
import VaultApp
import VaultClient
import VaultModel

struct AnalyzeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Fit a regression, ANOVA or random-intercept model on encrypted scores: write a model release.",
        discussion: """
            The formula is statsmodels' (score ~ TERM + TERM …). The response is the encrypted score. A term is a \
            numeric covariate the vault's schema declares (e.g. prior_score) or a categorical attribute (school, \
            subject, a school attribute such as region or program, a record attribute such as sex or residence), \
            expanded to treatment dummies with the first level alphabetically as the baseline. The vault sums every \
            packed product (y, y², x, x², x·y, x_j·x_k) per cell without decrypting anything and releases only the \
            blocks a model needs: all its records, each level of each categorical term and, with --random, each \
            group; plus the public counts of every pair of levels. The bureau decrypts RELEASE with `eduvault \
            release decrypt` (coefficients, SE, t, p, CI, R², F, ANOVA, correlations, Hedges' g, ICC).

            The policy refuses the whole model, naming the rule:
              MODEL-DP        the vault adds differential-privacy noise; models are exact, so none is released;
              MODEL-LEVEL-K   a level of a categorical term, or a random group, has fewer than k records;
              MODEL-SATURATED as many columns as records, or collinear categorical terms;
              MODEL-DF        fewer residual degrees of freedom than the policy's min_df_resid;
              DIFF-GUARD      a block differs from an earlier released cell by fewer than k records;
              LIN-AUDIT       with earlier releases, a block would determine a total of fewer than k records.

            Example: eduvault analyze --vault v --model "score ~ program + region + prior_score" --where subject=math \
            --contrast program --out model.json

            Through the service: --server URL --identity F (a bureau's member key; the policy's ROLES must list \
            model.request).
            """
    )

    @Option(help: "The vault directory (or --server URL with --identity F).")
    var vault: String?

    @OptionGroup var remote: RemoteOptions

    @Option(
        help: ArgumentHelp("The model formula, e.g. \"score ~ program + region + prior_score\".", valueName: "formula"))
    var model: String

    @Option(name: .customLong("where"), help: "Keep only records with ATTRIBUTE=VALUE (repeatable).")
    var filters: [String] = []

    @Option(help: "A random intercept per group: school, or a school attribute such as county.")
    var random: String?

    @Option(help: "A two-level categorical term of the model for Hedges' g (e.g. program).")
    var contrast: String?

    @Option(help: "Where to write the model release (JSON).")
    var out: String

    @Flag(help: "Replace an existing release file (the old file stays intact if anything fails).")
    var force = false

    func run() async throws {
        let spec = try ModelSpec(model: model, whereClauses: filters, random: random, contrast: contrast)
        let destination = URL(fileURLWithPath: out)
        if FileManager.default.fileExists(atPath: out) && !force {
            throw CLIError("\(out) already exists (remove it or pass --force)")
        }
        guard (vault == nil) != (remote.server == nil) else {
            throw CLIError("give --vault DIR, or --server URL with --identity F")
        }
        guard let vault else { return try await runRemote(spec, destination: destination) }
        let service = try VaultDirectoryOption(path: vault).service()
        let spinner = Spinner("Summing packed products")
        let cleanup = InterruptCleanup(output: destination)
        defer { cleanup.cancel() }
        var staged: AtomicFile.Staged? = nil
        let outcome: ModelEngine.Outcome
        do {
            outcome = try service.analyze(
                spec, progress: { spinner.update("(\($0) records)") },
                deliver: { release in
                    // Written and synced inside the release transaction: if this fails, nothing is recorded.
                    do {
                        staged = try AtomicFile.stage(try release.jsonData(), for: destination)
                    } catch let error as AtomicFileError {
                        throw CLIError(error, what: "release")
                    }
                })
        } catch {
            spinner.stop()
            throw error
        }
        if let file = staged.take() {
            let temporary = file.temporary.path
            do { try file.commit(overwrite: force, keepOnFailure: true) } catch {
                throw CLIError(
                    "release \(outcome.release.id) was recorded but could not be put at \(out) "
                        + "(\(error.reason)); it is in \(temporary)")
            }
        }
        let release = outcome.release
        spinner.finish(
            String(
                format: "Summed %d records in %d cells into %d blocks in %.2f s.", outcome.matchedRecords,
                outcome.cells, release.allBlocks.count, outcome.seconds))
        summarize(release)
    }

    /// `analyze --server`: the service runs the model and answers with the release it stored; written atomically.
    func runRemote(_ spec: ModelSpec, destination: URL) async throws {
        let client = try remote.client()
        var release: ModelRelease? = nil
        _ = try await Files.deliver(to: destination, overwrite: force, what: "release", request: {
            do throws(AppError) { return try await client.analyze(spec) } catch {
                throw CLIError(error.message + (error.rule.map { " [rule \($0)]" } ?? ""))
            }
        }, name: { data in
            let decoded = try ModelRelease.decode(data)
            release = decoded
            return "model release \(decoded.id)"
        })
        if let release { summarize(release) }
    }

    func summarize(_ release: ModelRelease) {
        print("model release \(release.id) written to \(out) (log index \(release.logIndex))")
        print("  model:   \(release.model.formula)" + (release.model.random.map { " + (1 | \($0))" } ?? ""))
        print("  records: \(release.total.count)")
        print(
            "  blocks:  \(release.allBlocks.count) (total, \(release.levels.reduce(0) { $0 + $1.count }) levels"
                + (release.random.map { ", \($0.groups.count) groups" } ?? "") + ")")
    }
}
