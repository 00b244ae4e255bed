public import ArgumentParser

/// The `eduvault` command: the root of every subcommand.
public struct EduVault: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "eduvault",
        abstract: "A privacy-preserving vault for student-performance data (Paillier homomorphic encryption).",
        discussion: """
            Schools encrypt scores under the bureau's public key; the vault computes counts, means, SDs and \
            rural–urban gaps on ciphertexts and releases only what the policy allows; the bureau decrypts \
            aggregates, never a student. Start with `eduvault demo`.
            """,
        version: "0.1.0",
        subcommands: [
            DemoCommand.self,
            KeysCommand.self,
            EncryptCommand.self, DecryptCommand.self, AddCommand.self, MultiplyCommand.self,
            QueryCommand.self, AnalyzeCommand.self, ReleaseCommand.self, SampleDataCommand.self,
            BenchCommand.self,
            VaultCommand.self, SchoolCommand.self, AuditCommand.self,
            MemberCommand.self, ServeCommand.self,
        ]
    )

    public init() {}
}

/// The executable's entry point, so `eduvault`'s `main.swift` stays one line without importing ArgumentParser.
public enum CommandLineEntry {
    public static func main() async { await EduVault.main() }
}
