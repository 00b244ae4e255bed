import ArgumentParser
import Foundation
import Paillier
import VaultAggregation
import VaultApp
import VaultAudit
import VaultClient
import VaultModel

/// `eduvault keys ceremony`: the dealer's ceremony for a threshold key.
struct KeysCeremony: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceremony",
        abstract: "Deal a threshold Paillier key: any --threshold of the --parties decrypt together, fewer learn nothing.",
        discussion: """
            A dealer ceremony for threshold Paillier (Shoup / Damgård–Jurik, over safe primes p = 2p′+1, q = 2q′+1). \
            Writes DIR/public.json (python-paillier's JWK: schools and python-paillier encrypt exactly as under a \
            single key), DIR/threshold.json (parties, threshold, Δ = l!, the verification keys v and v_i, the key id \
            and ceremony id; public) and DIR/share-PARTY.json for each party (mode 0600; sealed with scrypt + \
            AES-256-GCM when --passphrase-file PARTY=FILE is given for that party).

            The dealer sees p, q and d while the ceremony runs: run it on a machine all parties trust (offline, \
            watched), give each party only its own share file, and delete the share files from the dealer's machine. \
            p, q and d are wiped from memory when the ceremony ends. The search for safe primes is slow (seconds at \
            2048 bits, often minutes at 3072) and varies widely; it shows progress and reports its duration.

            Example: eduvault keys ceremony --parties bureau,auditor,custodian --threshold 2 --out custody/
            """
    )

    @Option(help: "The parties, comma-separated, in index order (2–32 names from A–Z a–z 0–9 _ -).")
    var parties: String

    @Option(help: "How many parties must take part in a decryption (t, 1 ≤ t ≤ number of parties).")
    var threshold: Int

    @Option(help: "Modulus size in bits: 3072 (default) or 2048. Smaller needs --insecure-test-key.")
    var bits: Int = defaultKeyBits

    @Option(name: .customLong("out"), help: "Directory for public.json, threshold.json and the share files.")
    var out: String

    @Option(name: .customLong("passphrase-file"),
            help: ArgumentHelp("Seal PARTY's share with the passphrase in FILE (first line). Repeatable.",
                               valueName: "PARTY=FILE"))
    var passphraseFiles: [String] = []

    @Flag(help: "Allow keys below 2048 bits. For test fixtures only; never for real data.")
    var insecureTestKey = false

    @Flag(help: "Replace existing files.")
    var force = false

    func run() async throws {
        guard bits >= minimumProductionKeyBits || insecureTestKey else {
            throw CLIError("--bits \(bits) is below the \(minimumProductionKeyBits)-bit minimum; use 3072 (default) or 2048 "
                           + "(--insecure-test-key allows smaller keys for test fixtures only)")
        }
        guard bits >= 256, bits <= 8192, bits % 2 == 0 else {
            throw CLIError("--bits must be an even number between 256 and 8192")
        }
        let names = parties.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard (2...ThresholdPublicKey.maximumParties).contains(names.count) else {
            throw CLIError("--parties needs 2 to \(ThresholdPublicKey.maximumParties) comma-separated names")
        }
        for name in names where !ThresholdParty.isValidName(name) {
            throw CLIError("--parties: '\(name.prefix(40))' is not a valid party name (1–32 characters from A–Z a–z 0–9 _ -)")
        }
        guard Set(names).count == names.count else { throw CLIError("--parties names a party twice") }
        guard (1...names.count).contains(threshold) else {
            throw CLIError("--threshold must be between 1 and the number of parties (\(names.count))")
        }
        if threshold == 1 {
            Terminal.note("warning: --threshold 1 lets any one party decrypt alone; that is no quorum")
        }
        var passphrases: [String: String] = [:]
        for entry in passphraseFiles {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, names.contains(parts[0]) else {
                throw CLIError("--passphrase-file takes PARTY=FILE with PARTY one of --parties (got '\(entry.prefix(60))')")
            }
            guard passphrases[parts[0]] == nil else { throw CLIError("--passphrase-file names \(parts[0]) twice") }
            passphrases[parts[0]] = try KeyLoading.passphrase(file: parts[1])
        }
        try Files.ensureDirectory(out)
        func path(_ file: String) -> String { (out as NSString).appendingPathComponent(file) }
        let outputs = ["public.json", "threshold.json"] + names.map { "share-\($0).json" }
        for file in outputs where FileManager.default.fileExists(atPath: path(file)) && !force {
            throw CLIError("\(path(file)) already exists (remove it or pass --force)")
        }

        let spinner = Spinner("Searching for two \(bits / 2)-bit safe primes (p = 2p′+1)")
        let started = Date()
        let primeClock = PrimeClock()
        let outcome: ThresholdCeremony.Outcome
        do {
            outcome = try ThresholdCeremony.run(bits: bits, parties: names, threshold: threshold,
                                                allowInsecureSize: insecureTestKey) { progress in
                spinner.update("(\(progress.candidates) candidates, \(progress.primesFound) of 2 found)")
                if progress.primesFound == 2 { primeClock.stop() }
            }
        } catch {
            spinner.finish("Ceremony stopped; nothing was written.")
            throw error
        }
        let seconds = Date().timeIntervalSince(started)
        let key = outcome.key
        spinner.finish(String(format: "Dealt a %d-of-%d threshold key of %d bits in %.1f s (safe primes %.1f s); key id %@, "
                              + "ceremony %@.", threshold, names.count, bits, seconds,
                              primeClock.seconds(since: started) ?? seconds, key.publicKey.keyID, key.ceremonyID))
        let label = insecureTestKey && bits < minimumProductionKeyBits ? "TEST-ONLY insecure" : "\(bits)-bit"
        let description = "\(threshold) of \(names.joined(separator: ", "))"
        let created = Timestamp.now()
        let publicKid = "EduVault \(label) threshold public key \(key.publicKey.keyID) (\(description))"
        // The public key, the threshold key and every share are replaced together or not at all: a --force that
        // failed half-way would otherwise pair a new public key with the old shares.
        var files = [AtomicFile.Entry(try PaillierJSON.encodePublicKey(key.publicKey, kid: publicKid),
                                      to: URL(fileURLWithPath: path("public.json")))]
        let keyKid = "EduVault \(label) threshold key \(key.ceremonyID) (\(description))"
        files.append(AtomicFile.Entry(try ThresholdJSON.encode(key, kid: keyKid, created: created),
                                      to: URL(fileURLWithPath: path("threshold.json"))))
        for share in outcome.shares {
            let name = share.party.name
            let kid = "EduVault \(label) threshold key share of \(name) (party \(share.party.index) of \(names.count), "
                + "threshold \(threshold)) for \(key.ceremonyID)"
            let data = try ThresholdJSON.encode(share, kid: kid, keyKid: keyKid, created: created,
                                                passphrase: passphrases[name])
            files.append(AtomicFile.Entry(data, to: URL(fileURLWithPath: path("share-\(name).json")), mode: 0o600))
        }
        try Files.write(files, overwrite: force, what: "the threshold key")
        print("public key:     \(path("public.json"))   (to the vault and the schools)")
        print("threshold key:  \(path("threshold.json"))   (public: to the vault and whoever combines)")
        for share in outcome.shares {
            let sealed = passphrases[share.party.name] != nil ? ", passphrase-protected" : ""
            print("share of \(share.party.name): \(path("share-\(share.party.name).json"))   (mode 0600\(sealed): to "
                  + "\(share.party.name) only)")
        }
        print("p, q and d were wiped from this process's memory. Hand each party its own share file, then delete the "
              + "share files here.")
    }
}

/// When the safe-prime search ended, for the ceremony's report. `Sendable`: the time sits behind a lock.
final class PrimeClock: @unchecked Sendable {
    // @unchecked: `lock` guards `end`.
    private let lock = NSLock()
    private var end: Date?

    func stop() {
        lock.lock()
        if end == nil { end = Date() }
        lock.unlock()
    }

    func seconds(since start: Date) -> Double? {
        lock.lock()
        defer { lock.unlock() }
        return end.map { $0.timeIntervalSince(start) }
    }
}

/// `eduvault release share`: one party's partial decryption of a release, with proofs, to a file or to the service.
struct ReleaseShare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "share",
        abstract: "Partially decrypt a release with one party's share of a threshold key, with proofs.",
        discussion: """
            Computes, for the release's cells (packed into as few ciphertexts as fit the key, 15 cells per ciphertext \
            at 3072 bits), c_i = c^(2Δ·s_i) mod n² and a non-interactive proof (equality of discrete logs, \
            Fiat–Shamir) that it used the share behind the party's verification key. The proof binds the release id \
            and content, the key and ceremony ids and the party. PARTIAL alone reveals nothing; --threshold of them \
            decrypt the release with `eduvault release decrypt --threshold`. A model release (`eduvault analyze`) is \
            shared the same way: every sum of every block.

            Before it uses a ciphertext, it checks the vault's signature on the release against --log-key (the \
            vault's pinned log key, or its descriptor.json): a party decrypts only what the vault released, never a \
            file someone put together from stored ciphertexts. --no-vault-signature skips that check, for a release \
            you made yourself outside a vault.

            With --server URL --identity KEY the argument is a release id: the command fetches the release from the \
            vault service, checks its signature, computes the partial here (the share never leaves this machine) and \
            posts it to POST /v1/releases/ID/shares (also to --out when given). The vault verifies every proof against \
            its threshold key before it stores the partial and logs it (release.share), and accepts it only from the \
            member whose name is this share's party (register the party's request key with \
            `member add --name PARTY`). Posting the same partial again is harmless; a different one is refused (409). \
            The bureau then gets every posted partial with `release fetch --partials DIR`.

            Examples: eduvault release share --share share-auditor.json --log-key vault/descriptor.json release.json \
            --out auditor.partial.json
                      eduvault release share --share share-auditor.json --log-key vault/descriptor.json --server URL \
            --identity auditor.key RELEASE-ID
            """
    )

    @Option(help: "This party's share file (share-PARTY.json from `eduvault keys ceremony`).")
    var share: String

    @Option(help: "Read the share's passphrase from this file (else EDUVAULT_PASSPHRASE).")
    var passphraseFile: String?

    @Flag(help: "Accept keys below 2048 bits (test fixtures only).")
    var insecureTestKey = false

    @OptionGroup var remote: RemoteOptions

    @Argument(help: "The release file written by `eduvault query` or `eduvault analyze` (a model release); with --server, the release id.")
    var release: String

    @Option(help: ArgumentHelp(
        "The vault's pinned log key (the verifier key text, a file holding it, or the vault's descriptor.json): "
            + "the release must carry the vault's signature, unchanged.", valueName: "key"))
    var logKey: String?

    @Flag(help: ArgumentHelp(
        "Accept a release that no vault signed (one you made yourself, outside a vault). Never for a release "
            + "someone handed you: a party partially decrypts whatever ciphertexts it is given."))
    var noVaultSignature = false

    @Option(help: "Where to write the partial decryption (JSON); required without --server.")
    var out: String?

    @Flag(help: "Replace an existing output file.")
    var force = false

    func validate() throws {
        guard remote.server != nil || out != nil else {
            throw ValidationError("give --out FILE, or --server URL --identity KEY to post the partial to the vault")
        }
    }

    func run() async throws {
        if let out, FileManager.default.fileExists(atPath: out) && !force {
            throw CLIError("\(out) already exists (remove it or pass --force)")
        }
        let client = try remote.server.map { _ in try remote.client() }
        let releaseData: Data
        if let client {
            do { releaseData = try await client.release(id: release) } catch { throw CLIError("release \(release): \(error.message)") }
        } else {
            releaseData = try Files.read(release, what: "release")
        }
        let parsed = try decodeAnyRelease(releaseData)
        if client != nil, parsed.id != release {
            throw CLIError("the server answered with release \(parsed.id.prefix(64)), not \(release); nothing was posted")
        }
        try checkOrigin(parsed)
        let data = try Files.read(share, what: "share", limit: ThresholdJSON.maxFileBytes)
        let passphrase = ThresholdJSON.isSealed(data) ? try KeyLoading.passphrase(file: passphraseFile) : nil
        let key: ThresholdShare
        do { key = try ThresholdJSON.decodeShare(data, passphrase: passphrase, allowInsecureSize: insecureTestKey) } catch {
            throw CLIError("\(share): \(error.message)")
        }
        let started = Date()
        let partial = try await ThresholdRelease.partiallyDecrypt(parsed, with: key, created: Timestamp.now())
        let json = try partial.jsonData()
        if let out { try Files.write(json, to: out, mode: 0o644, overwrite: force, what: "partial decryption") }
        Terminal.note(String(format: "Partially decrypted release %@ as %@ (party %d of %d, threshold %d): %d %@ in %d "
                             + "unit%@, with proofs, in %.2f s.", parsed.id, key.party.name, key.party.index,
                             key.key.partyCount, key.key.threshold, partial.units.reduce(0) { $0 + $1.cellCount },
                             type(of: parsed).sumNoun, partial.units.count,
                             partial.units.count == 1 ? "" : "s", Date().timeIntervalSince(started)))
        if let out { print("partial decryption of release \(parsed.id) by \(key.party.name) written to \(out)") }
        guard let client else { return }
        let posted: (receipt: ShareReceipt, stored: Bool)
        do { posted = try await client.postShare(releaseID: parsed.id, partial: json) } catch {
            throw CLIError("posting the partial of \(key.party.name): \(error.message)")
        }
        let receipt = posted.receipt
        print("\(posted.stored ? "posted" : "already posted"): partial decryption of release \(receipt.release) by "
              + "\(receipt.party)  sha256 \(receipt.sha256.prefix(16))…  log #\(receipt.logIndex)")
    }
}

extension ReleaseShare {
    /// Refuses to touch a release's ciphertexts unless the vault behind the pinned log key signed it, unchanged (or
    /// the party said, with --no-vault-signature, that it made the release itself).
    func checkOrigin(_ release: any SignedRelease) throws {
        switch (logKey, noVaultSignature) {
        case (nil, false):
            throw CLIError("give --log-key KEY (the vault's log key or its descriptor.json) so the release's vault "
                           + "signature can be checked before decrypting anything")
        case (.some, true): throw CLIError("give --log-key or --no-vault-signature, not both")
        case (let key?, false):
            do { try release.verifySignature(try PinnedLogKey.parse(key)) } catch let error as AggregationError {
                throw CLIError(error.message)
            }
        case (nil, true): return
        }
    }
}

extension ReleaseDecrypt {
    /// `release decrypt --threshold`: checks every partial, names each refused party, decrypts with t valid ones.
    func thresholdDecryptor(_ parsed: some DecryptableRelease, threshold: String) async throws
        -> ThresholdReleaseDecryptor
    {
        let keyData = try Files.read(threshold, what: "threshold key", limit: ThresholdJSON.maxFileBytes)
        let key: ThresholdPublicKey
        do { key = try ThresholdJSON.decode(keyData, allowInsecureSize: insecureTestKey) } catch {
            throw CLIError("\(threshold): \(error.message)")
        }
        var offered: [(label: String, data: Data)] = []
        for path in partials {
            offered.append((path, try Files.read(path, what: "partial decryption", limit: PartialDecryptionFile.maxFileBytes)))
        }
        let verification = try await ThresholdRelease.verify(parsed, key: key, partials: offered)
        for refusal in verification.refused {
            let who = refusal.party.map { "\($0) (\(refusal.label))" } ?? refusal.label
            Terminal.note("refused: the partial of \(who): \(refusal.reason); it is not used")
        }
        let decryptor = try verification.decryptor()
        Terminal.note("decrypting with \(verification.used.joined(separator: ", ")) (\(key.threshold) of "
                      + "\(key.partyCount); valid partials: \(verification.accepted.map(\.party.name).joined(separator: ", ")))")
        return decryptor
    }
}
