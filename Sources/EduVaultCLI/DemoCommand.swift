import ArgumentParser
import BigNum
import Foundation
import Paillier
import VaultAggregation
import VaultStatistics
import VaultApp
import VaultHTTP
import VaultModel
import VaultStore

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole path on an embedded vault: key, schools, encryption, ingest, query, decryption, audit.",
        discussion: """
            In a temporary directory: the bureau makes a key; schools in Guangdong, Sichuan and Gansu (rural and \
            urban, some in a livestream-classroom programme) encrypt synthetic maths and Chinese scores on their \
            own side; the vault ingests the signed batches, computes counts, means, SDs, the rural–urban gap and the \
            livestream effect on ciphertexts, and the bureau decrypts only the released aggregates. Then a \
            differencing attack is refused (DIFF-GUARD), a reconstruction through harmless-looking tables is refused \
            (LIN-AUDIT), and the audit chain is checked. Every step runs the same code as the \
            real commands. Nothing is left behind unless --keep DIR is given.

            With --custody threshold the key is dealt to bureau, auditor and custodian in a 2-of-3 ceremony (safe \
            primes: seconds at 2048 bits, with progress); every release, the model releases too, is decrypted by \
            two of them with proofs, and a forged partial decryption is refused by name.
            """
    )

    enum CustodyMode: String, ExpressibleByArgument, CaseIterable {
        case single, threshold
    }

    @Option(help: "Keep every file (keys, CSVs, batches, vault, releases) in this new directory.")
    var keep: String?

    @Option(help: "Number of regular schools.") var schools: Int = 12
    @Option(help: "Students per school.") var students: Int = 300
    @Option(help: "Bureau key size (2048 keeps the demo quick; real keys default to 3072).") var bits: Int = 2048
    @Flag(help: "Allow --bits below 2048 (for fast tests only).") var insecureTestKey = false
    @Option(help: "Random seed for the synthetic data.") var seed: UInt64 = 2026
    @Option(help: "Who holds the key: single (one bureau key) or threshold (2 of bureau, auditor, custodian).")
    var custody: CustodyMode = .single
    @Flag(help: "Tell the same story through a live `eduvault serve` on a loopback port, each role with its own key.")
    var overHttp = false

    func run() async throws {
        guard (4...200).contains(schools), (12...5000).contains(students) else {
            throw CLIError("--schools must be 4–200 (every region × programme) and --students 12–5000")
        }
        guard bits >= minimumProductionKeyBits || insecureTestKey else {
            throw CLIError("--bits \(bits) is below the \(minimumProductionKeyBits)-bit minimum (--insecure-test-key allows it "
                           + "for tests)")
        }
        let started = Date()
        let fm = FileManager.default
        let root: URL
        if let keep {
            guard !fm.fileExists(atPath: keep) else { throw CLIError("--keep \(keep) already exists; give a new directory") }
            try Files.ensureDirectory(keep)
            root = URL(fileURLWithPath: keep)
        } else {
            root = fm.temporaryDirectory.appendingPathComponent("eduvault-demo-\(UUID().uuidString.prefix(8))")
            try Files.ensureDirectory(root.path)
        }
        defer { if keep == nil { try? fm.removeItem(at: root) } }
        func path(_ p: String) -> String { root.appendingPathComponent(p).path }
        let insecure = insecureTestKey ? ["--insecure-test-key"] : []
        var step = 0
        func say(_ title: String, _ detail: String) {
            step += 1
            print("\n\(step). \(title)")
            print("   " + detail.replacingOccurrences(of: "\n", with: "\n   "))
        }

        let threshold = custody == .threshold
        if threshold {
            say("Custody: deal a \(bits)-bit threshold key to bureau, auditor and custodian (any 2 of 3 decrypt)",
                "eduvault keys ceremony --parties bureau,auditor,custodian --threshold 2\n"
                + "A dealer ceremony over safe primes p = 2p′+1, q = 2q′+1: public.json goes to the vault and the schools\n"
                + "(they encrypt exactly as under one key); each party gets only its own share; p, q and d are wiped.")
            try await run(KeysCeremony.self, ["--parties", "bureau,auditor,custodian", "--threshold", "2",
                                              "--bits", String(bits), "--out", path("bureau")] + insecure, quiet: true)
            print("   shares: bureau/share-bureau.json, bureau/share-auditor.json, bureau/share-custodian.json (0600)")
        } else {
            say("Bureau: generate a \(bits)-bit Paillier key pair",
                "The public key goes to the vault and the schools; the private key never leaves the bureau.")
            try await run(KeysGenerate.self, ["--bits", String(bits), "--out", path("bureau")] + insecure)
        }
        var decryptions = 0
        /// Decrypts a release: with the private key, or with two parties' partial decryptions (a different pair
        /// each time).
        func decrypt(_ release: String, _ extra: [String] = []) async throws {
            guard threshold else {
                try await run(ReleaseDecrypt.self, ["--private-key", path("bureau/private.json")] + extra + [path(release)]
                              + insecure)
                return
            }
            let pairs = [["bureau", "auditor"], ["auditor", "custodian"], ["bureau", "custodian"]]
            let pair = pairs[decryptions % pairs.count]
            decryptions += 1
            var partials: [String] = []
            for party in pair {
                let out = path("partials/\(party)-\(release)")
                try await run(ReleaseShare.self, ["--share", path("bureau/share-\(party).json"), path(release),
                                                  "--log-key", path("vault/descriptor.json"), "--out", out] + insecure,
                              quiet: true)
                partials.append(out)
            }
            print("   \(pair[0]) and \(pair[1]) each decrypted partially, with proofs (eduvault release share); combined:")
            try await run(ReleaseDecrypt.self, ["--threshold", path("bureau/threshold.json")] + extra + [path(release)]
                          + partials + insecure)
        }
        if threshold { try Files.ensureDirectory(path("partials")) }

        say("Schools: prepare score sheets",
            "\(schools) schools in Guangdong, Sichuan and Gansu, rural and urban, plus one 6-student rural school;\n"
            + "\(students) students each with a maths and a Chinese score (synthetic: rural −0.30 SD,\n"
            + "livestream classrooms +0.18 SD maths, +0.23 SD Chinese).")
        try Files.ensureDirectory(path("schools"))
        let plan = try SampleDataGenerator(schools: schools, students: students, smallSchools: 1, seed: seed,
                                           covariates: true)
            .write(to: root.appendingPathComponent("schools"))

        say("Vault: create the encrypted store", "SQLite (WAL, synchronous=FULL), policy Policies/default.yaml (k = 10).")
        try await run(VaultInit.self, ["--vault", path("vault"), "--public-key", path("bureau/public.json"),
                                       "--covariate", "prior_score:0:100"]
                      + (threshold ? ["--threshold", path("bureau/threshold.json")] : []) + insecure)

        say("Schools make their keys; the vault registers their public parts",
            "eduvault school keygen at each school: a signing key and a pseudonym key that never leave it.\n"
            + "eduvault school add --public-key at the vault: public facts only (region, province, county, programme).")
        try Files.ensureDirectory(path("keys"))
        for school in plan {
            try await run(SchoolKeygen.self, ["--school", school.id, "--descriptor", path("vault/descriptor.json"),
                                              "--out", path("keys/\(school.id).json")], quiet: true)
            try await run(SchoolAdd.self, [
                "--vault", path("vault"), "--id", school.id, "--attr", "region=\(school.region)",
                "--attr", "province=\(school.province)", "--attr", "county=\(school.county)",
                "--attr", "program=\(school.program)", "--public-key", path("keys/\(school.id).json.pub"),
            ], quiet: true)
        }
        print("   registered \(plan.count) schools")

        say("Schools: pseudonymise, encrypt and sign, each on its own machine",
            "Student ids become HMAC-SHA-256 pseudonyms; each score x is encrypted as one ciphertext holding x and x²\n"
            + "(and the prior score p as a second one holding p, p² and p·x, for models).")
        try Files.ensureDirectory(path("batches"))
        for school in plan {
            try await run(SchoolEncrypt.self, [
                "--descriptor", path("vault/descriptor.json"), "--school", school.id, "--keys",
                path("keys/\(school.id).json"), "--input", path("schools/\(school.id).csv"),
                "--output", path("batches/\(school.id).batch"),
            ] + insecure, quiet: true)
        }
        let records = plan.reduce(0) { $0 + $1.students } * SampleDataGenerator.subjects.count
        print("   \(plan.count) signed batches, \(records) encrypted scores")

        guard overHttp else {
            say("Vault: verify and ingest the batches", "Signature, key id, schema and every ciphertext are checked; each "
                + "batch and its audit entry\ncommit in one transaction.")
            try await run(VaultIngest.self, ["--vault", path("vault")] + plan.map { path("batches/\($0.id).batch") }, quiet: true)
            print("   ingested \(plan.count) batches")
            try await story(plan: plan, path: path, say: say, access: { _ in ["--vault", path("vault")] }, decrypt: decrypt)
            try await models(path: path, say: say, insecure: insecure)
            say("Auditor: check the vault", "SQLite integrity, foreign keys, the hash chain over every audit entry, and the "
                + "linear audit\nrebuilt from the release history.")
            try await run(VaultCheck.self, ["--vault", path("vault")])
            print(String(format: "\nDemo finished in %.1f s.", Date().timeIntervalSince(started))
                  + (keep.map { " Files kept in \($0)." } ?? " Temporary files removed."))
            return
        }

        say("Bureau, auditor and operator make their own request keys; the vault registers the public parts",
            "eduvault member keygen on each member's machine (the key never leaves it), then\n"
            + "eduvault member add --role bureau|auditor|custodian|operator at the vault. What each role may do comes from the\n"
            + "policy's ROLES rule; every registration is an audit entry.")
        for role in ["bureau", "auditor", "operator"] {
            try await run(MemberKeygen.self, ["--out", path("keys/\(role).key")], quiet: true)
            try await run(MemberAdd.self, ["--vault", path("vault"), "--role", role, "--name", "demo-\(role)",
                                           "--public-key", path("keys/\(role).key.pub")], quiet: true)
        }
        print("   registered bureau, auditor and operator")
        let service = try VaultDirectoryOption(path: path("vault")).service()
        var configuration = ServerConfiguration()
        configuration.port = 0
        do {
            try await VaultServer.withServer(service: service, configuration: configuration) { port in
                let url = "http://127.0.0.1:\(port)"
                say("Vault operator: eduvault serve --vault vault --listen 127.0.0.1:\(port)",
                    "The vault is now a service on a loopback port. Every request below is signed with its sender's key\n"
                    + "(RFC 9421, ed25519); unsigned, stale, replayed or altered requests are refused.")
                say("Schools upload their batches over HTTP",
                    "eduvault school upload --server \(url) --keys keys/ID.json batches/ID.batch   (signed with the school's key)")
                for school in plan {
                    try await run(SchoolUpload.self, ["--server", url, "--keys", path("keys/\(school.id).json"),
                                                      path("batches/\(school.id).batch")], quiet: true)
                }
                print("   \(plan.count) batches stored, each with its receipt")
                let refused = try await self.refusedQuery(url: url, path: path)
                print("   an auditor's key asking a query: \(refused)")
                try await story(plan: plan, path: path, say: say, access: { role in
                    ["--server", url, "--identity", path("keys/\(role).key")]
                }, decrypt: decrypt)
                try await models(path: path, say: say, insecure: insecure,
                                 access: ["--server", url, "--identity", path("keys/bureau.key")])
                say("Operator: the vault's status over HTTP", "eduvault vault status --server \(url) --identity keys/operator.key")
                try await run(VaultStatusCommand.self, ["--server", url, "--identity", path("keys/operator.key")])
                say("Auditor: verify the live vault over HTTP",
                    "eduvault audit verify --server \(url) --identity keys/auditor.key --log-key KEY --with-records\n"
                    + "The same verifier as for an export, reading the log, tables and records through signed requests.")
                let logKey = service.vault.descriptor.logKey ?? ""
                try await run(AuditVerifyCommand.self, ["--server", url, "--identity", path("keys/auditor.key"),
                                                        "--log-key", logKey, "--with-records"])
            }
        } catch let error as AppError { throw CLIError(error.message) }
        print(String(format: "\nDemo over HTTP finished in %.1f s.", Date().timeIntervalSince(started))
              + (keep.map { " Files kept in \($0)." } ?? " Temporary files removed."))
    }

    /// The analysis the seed studies report, on encrypted data: the livestream effect per subject controlled for the
    /// prior score and region (β in SD units with its 95% CI), and the school-level ICC of a random-intercept model.
    /// Under threshold custody two parties decrypt each model release partially (`release share`), with proofs.
    private func models(path: (String) -> String, say: (String, String) -> Void, insecure: [String],
                        access: [String]? = nil) async throws {
        let access = access ?? ["--vault", path("vault")]
        let formula = "score ~ program + region + prior_score"
        let threshold = custody == .threshold
        say("Bureau fits the model the studies report: the livestream effect controlled for prior score and region",
            "eduvault analyze --model \"\(formula)\" --where subject=math --out model-math.json\n"
            + "The vault sums y, y², p, p², p·y per cell on ciphertexts and releases only the blocks the model needs\n"
            + "(all records, each level of program and region); the bureau decrypts them and fits OLS exactly."
            + (threshold ? "\nUnder the 2-of-3 key two parties decrypt each model release partially (eduvault release "
               + "share,\nwith proofs); release decrypt --threshold checks the proofs, combines and fits the same model."
               : ""))
        var shared: SharedPrivateKey?
        var thresholdKey: ThresholdPublicKey?
        if threshold {
            let data = try Files.read(path("bureau/threshold.json"), what: "threshold key", limit: ThresholdJSON.maxFileBytes)
            do { thresholdKey = try ThresholdJSON.decode(data, allowInsecureSize: insecureTestKey) } catch {
                throw CLIError(error.message)
            }
        } else {
            shared = SharedPrivateKey(try KeyLoading.privateKey(path("bureau/private.json"),
                                                                insecureTestKey: insecureTestKey, passphraseFile: nil))
        }
        var pairsUsed: [String] = []
        /// The decrypted blocks: with the bureau's key, or with two parties' partial decryptions (a different pair
        /// each time, through `release share`), checked and combined as `release decrypt --threshold` does.
        func decrypt(_ parsed: ModelRelease, _ release: String) async throws -> DecryptedModel {
            if let shared { return try await DecryptedModel.decrypt(parsed, key: shared) }
            guard let thresholdKey else { throw CLIError("the demo has no key to decrypt with") }
            let pairs = [["auditor", "custodian"], ["bureau", "custodian"], ["bureau", "auditor"]]
            let pair = pairs[pairsUsed.count % pairs.count]
            var offered: [(label: String, data: Data)] = []
            for party in pair {
                let out = path("partials/\(party)-\(release)")
                try await run(ReleaseShare.self, ["--share", path("bureau/share-\(party).json"), path(release),
                                                  "--log-key", path("vault/descriptor.json"), "--out", out] + insecure,
                              quiet: true)
                offered.append((out, try Files.read(out, what: "partial decryption",
                                                    limit: PartialDecryptionFile.maxFileBytes)))
            }
            pairsUsed.append(pair.joined(separator: " and "))
            let verification = try await ThresholdRelease.verify(parsed, key: thresholdKey, partials: offered)
            return try await DecryptedModel.decrypt(parsed, with: try verification.decryptor())
        }
        /// The fitted model, or nil (with the policy's reason printed) when the vault refuses it.
        func fit(_ release: String, _ arguments: [String]) async throws -> ModelResult? {
            do {
                try await run(AnalyzeCommand.self, access + ["--out", path(release)] + arguments, quiet: true)
            } catch let error as AggregationError where error.code == .refused {
                print("   refused: \(error)")
                return nil
            } catch let error as CLIError where error.message.contains("[rule ") {
                print("   refused: \(error)")  // the same refusal, as the service answers it
                return nil
            }
            let parsed = try ModelRelease.decode(try Files.read(path(release), what: "release"))
            return try await decrypt(parsed, release).fit()
        }
        for (subject, name) in [("math", "maths  "), ("chinese", "Chinese")] {
            // Treatment coding takes the first level alphabetically (livestream) as the baseline: the livestream
            // effect is minus the standard programme's coefficient.
            guard let result = try await fit("model-\(subject).json", ["--model", formula, "--where", "subject=\(subject)"]),
                  let term = result.model.terms.first(where: { $0.name == "program[T.standard]" })
            else { continue }
            let sd = result.model.sdResponse
            print(String(format: "   %@  livestream %+.2f SD [95%% CI %+.2f, %+.2f]  (β = %+.2f points, n = %d, R² = %.2f)",
                         name, -term.estimate / sd, -term.ci95[1] / sd, -term.ci95[0] / sd, -term.estimate,
                         result.model.n, result.model.r2))
        }
        let mixed = "score ~ program + region + prior_score + subject"
        print("   eduvault analyze --model \"\(mixed)\" --random school")
        if let random = try await fit("model-schools.json", ["--model", mixed, "--random", "school"])?.random {
            print(String(format: "   school-level ICC %.3f (between-school variance %.2f, within %.2f; %d schools, REML)",
                         random.icc, random.varGroup, random.varResid, random.groups.count))
        }
        if threshold {
            print("   Each model release was decrypted by two of bureau, auditor and custodian (\(pairsUsed.joined(separator: "; "))), "
                  + "every proof checked.")
        }
        print("   `eduvault release decrypt` prints the whole table: coefficients, SE, t, p, CI, ANOVA, correlations.")
    }

    /// An auditor's key asking a query: refused by the policy's ROLES rule (403), and logged.
    private func refusedQuery(url: String, path: (String) -> String) async throws -> String {
        let command = try QueryCommand.parse(["--server", url, "--identity", path("keys/auditor.key"), "--by", "subject",
                                              "--out", path("release-denied.json")])
        do { try await command.run() } catch let error as CLIError { return "refused (\(error.message.prefix(90))…)" }
        return "unexpectedly answered"
    }

    /// The bureau's queries, the attacks and their refusals: the same over a vault directory and over HTTP.
    private func story(plan: [SampleDataGenerator.School], path: (String) -> String, say: (String, String) -> Void,
                       access: (String) -> [String],
                       decrypt: (_ release: String, _ extra: [String]) async throws -> Void) async throws {
        let threshold = custody == .threshold

        say("Bureau asks: the rural–urban gap per subject",
            "eduvault query --by subject --contrast region   (computed on ciphertexts; nothing is decrypted)")
        try await run(QueryCommand.self, access("bureau") + ["--by", "subject", "--contrast", "region",
                                          "--out", path("release-gap.json")], quiet: true)
        try await decrypt("release-gap.json", [])
        if threshold { try await forgedShare("release-gap.json", path: path, say: say) }

        say("Bureau asks: the livestream-classroom effect per subject and region",
            "eduvault query --by subject,region --contrast program   (gap = livestream − standard)")
        try await run(QueryCommand.self, access("bureau") + ["--by", "subject,region", "--contrast", "program",
                                          "--out", path("release-livestream.json")], quiet: true)
        try await decrypt("release-livestream.json", ["--baseline", "standard"])

        say("Bureau asks: scores per province and subject", "eduvault query --by province,subject")
        try await run(QueryCommand.self, access("bureau") + ["--by", "province,subject",
                                          "--out", path("release-province.json")], quiet: true)
        try await decrypt("release-province.json", [])

        let small = plan.last!  // safe: the plan always ends with the small school
        let bigCounty = SampleDataGenerator.provinces.first { $0.name == small.province }!.county  // safe: same table
        say("Someone tries to single out the \(small.students) students of the small school \(small.id)",
            "eduvault query --by province,subject --where county=\(bigCounty)\n"
            + "\(small.province) minus county \(bigCounty) is exactly that school: subtracting the two releases would "
            + "reveal its mean.")
        try await run(QueryCommand.self, access("bureau") + ["--by", "province,subject", "--where",
                                          "county=\(bigCounty)", "--out", path("release-attack.json")], quiet: true)
        try await decrypt("release-attack.json", [])
        print("   The \(small.province) cells are withheld [DIFF-GUARD]: they differ from released cells by fewer than "
              + "k = 10 students.")

        say("The same analyst tries again with tables that each look harmless",
            "eduvault query --by school,subject\n"
            + "Every cell is a whole school. The \(small.id) cells are below k and withheld, but \(small.province)'s total "
            + "was released above:\nthe total minus its other schools would be exactly \(small.id). The vault checks "
            + "every combination of\nreleases over the atoms of the data (LIN-AUDIT), not just pairs of cells.")
        try await run(QueryCommand.self, access("bureau") + ["--by", "school,subject",
                                          "--out", path("release-schools.json")], quiet: true)
        let schoolsRelease = try Release.decode(try Files.read(path("release-schools.json"), what: "release"))
        let guarded = schoolsRelease.suppressed.filter { $0.rule != Suppression.kMin }
        let rows = schoolsRelease.suppressed.map { "   withheld  \($0.by["school"] ?? "?") \($0.by["subject"] ?? "?")  [\($0.rule)]" }
        print(rows.sorted().joined(separator: "\n"))
        let rules = Set(guarded.map(\.rule)).sorted().joined(separator: ", ")
        print("   \(schoolsRelease.cells.count) school cells released; \(guarded.count) more withheld\(rules.isEmpty ? "" : " [\(rules)]"): "
              + "with the province, region and\n   programme totals released above, releasing them would let sums and "
              + "differences of releases pin down \(small.id).")
    }

    /// The custodian forges its partial decryption of `release` (one value multiplied by 1 + n, which would shift a
    /// decrypted sum): release decrypt names it, never uses it, and decrypts with the two honest parties; with only
    /// one honest party it refuses and says who is missing.
    private func forgedShare(_ release: String, path: (String) -> String, say: (String, String) -> Void) async throws {
        let insecure = insecureTestKey ? ["--insecure-test-key"] : []
        say("The custodian forges its partial decryption",
            "One value of its partial is multiplied by 1 + n (it would shift the decrypted sums); its proof no longer "
            + "holds.\neduvault release decrypt --threshold … bureau auditor custodian-forged")
        for party in ["bureau", "auditor", "custodian"] where !FileManager.default.fileExists(atPath: path("partials/\(party)-\(release)")) {
            try await run(ReleaseShare.self, ["--share", path("bureau/share-\(party).json"), path(release),
                                              "--log-key", path("vault/descriptor.json"),
                                              "--out", path("partials/\(party)-\(release)")] + insecure, quiet: true)
        }
        let honest = try Files.read(path("partials/custodian-\(release)"), what: "partial decryption")
        var object = (try JSONSerialization.jsonObject(with: honest) as? [String: Any]) ?? [:]
        let key = try PaillierJSON.decodePublicKey(try Files.read(path("bureau/public.json"), what: "public key"),
                                                   allowInsecureSize: true)
        var units = object["units"] as? [[String: Any]] ?? []
        if let text = units.first?["value"] as? String, let value = try? BigNum(decimal: text) {
            units[0]["value"] = value.multipliedModulo(key.n + BigNum(1), key.nSquared).decimalString
        }
        object["units"] = units
        let forged = path("partials/custodian-forged-\(release)")
        try Files.write(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), to: forged,
                        what: "forged partial")
        try await run(ReleaseDecrypt.self, ["--threshold", path("bureau/threshold.json"), "--format", "csv", path(release),
                                            path("partials/bureau-\(release)"), path("partials/auditor-\(release)"), forged]
                      + insecure)
        print("   The forged share was named and not used; bureau and auditor decrypted the same numbers as above.")
        print("   With the forged share and one honest one there is no quorum:")
        do {
            try await run(ReleaseDecrypt.self, ["--threshold", path("bureau/threshold.json"), path(release),
                                                path("partials/bureau-\(release)"), forged] + insecure)
        } catch {
            print("   refused: \(error)")
        }
        // A party decrypts only what the vault released: a hand-made "release" (here two cells' sums swapped; an
        // attacker would put one stored student's ciphertext there) fails the vault's signature before any share is used.
        say("Someone hands the parties an edited release",
            "Two cells' sums swapped, ids and counts unchanged. Each party checks the vault's signature first.\n"
            + "eduvault release share --share share-auditor.json --log-key vault/descriptor.json edited-release.json …")
        var edited = (try JSONSerialization.jsonObject(with: try Files.read(path(release), what: "release")) as? [String: Any]) ?? [:]
        if var cells = edited["cells"] as? [[String: Any]], cells.count > 1 {
            (cells[0]["sum"], cells[1]["sum"]) = (cells[1]["sum"], cells[0]["sum"])
            edited["cells"] = cells
        }
        let editedPath = path("partials/edited-\(release)")
        try Files.write(try JSONSerialization.data(withJSONObject: edited, options: [.sortedKeys]), to: editedPath,
                        what: "edited release")
        do {
            try await run(ReleaseShare.self, ["--share", path("bureau/share-auditor.json"), editedPath, "--log-key",
                                              path("vault/descriptor.json"), "--out", path("partials/auditor-edited")]
                          + insecure, quiet: true)
            print("   NOT refused: the edited release was partially decrypted")
        } catch {
            print("   refused: \(error)")
        }
    }

    /// Runs a real subcommand in-process, as a user would from the shell.
    private func run<C: AsyncParsableCommand>(_ type: C.Type, _ arguments: [String], quiet: Bool = false) async throws {
        var command = try type.parse(arguments)
        if quiet {
            try await Output.suppressingStandardOutput { try await command.run() }
        } else {
            try await command.run()
        }
    }
}

/// Temporarily redirects standard output to /dev/null (the demo shows only its own summary for chatty steps).
enum Output {
    static func suppressingStandardOutput(_ body: () async throws -> Void) async throws {
        fflush(nil)
        let saved = dup(STDOUT_FILENO)
        let null = open("/dev/null", O_WRONLY)
        if saved >= 0 && null >= 0 { dup2(null, STDOUT_FILENO) }
        defer {
            fflush(nil)
            if saved >= 0 {
                dup2(saved, STDOUT_FILENO)
                close(saved)
            }
            if null >= 0 { close(null) }
        }
        try await body()
    }
}

