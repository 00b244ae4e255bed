import ArgumentParser
import Foundation
import Primitives
import VaultApp
import VaultModel
import VaultStore

/// `eduvault member`: the principals other than schools (bureau, auditor, custodian, operator), each with its own key.
struct MemberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member",
        abstract: "Make request keys and register, list or revoke the vault's members (bureau, auditor, custodian, operator).",
        discussion: """
            Secrets are made where they are used: `keygen` runs on the member's own machine and writes the key \
            (0600) and its public part F.pub; the operator registers F.pub with `add`. What each role may do over \
            the service comes from the policy's ROLES rule. Every change is an audit entry. Schools are principals \
            through the signing key they registered with `school add`; `revoke` also revokes a school's key.

            A party of a threshold key (`keys ceremony --parties`) that posts its partial decryptions to the service             (`release share --server`) is registered under its party name: the vault accepts a partial only from the             member whose name is the partial's party. The default policy lets bureau, auditor and custodian post             (release.share); a custodian may otherwise only read releases.
            """,
        subcommands: [MemberKeygen.self, MemberAdd.self, MemberList.self, MemberRevoke.self]
    )
}

struct MemberKeygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make a member's Ed25519 request key (F, mode 0600) and its public part F.pub.",
        discussion: "Example: eduvault member keygen --out bureau.key   (then send bureau.key.pub to the operator)"
    )

    @Option(help: "Where to write the private key (F.pub gets the public part).") var out: String

    func run() async throws {
        let key: MemberKeyFile
        do { key = try MemberKeyFile.generate() } catch { throw CLIError("cannot generate a key: \(error.message)") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try Files.write([
            AtomicFile.Entry(try encoder.encode(key) + Data([10]), to: URL(fileURLWithPath: out), mode: 0o600),
            AtomicFile.Entry(try encoder.encode(key.publicPart) + Data([10]), to: URL(fileURLWithPath: out + ".pub")),
        ], what: "the member key")
        let id = (try? Identity.load(try encoder.encode(key)).keyID) ?? "?"
        print("member key in \(out) (mode 0600; keep it), public part in \(out).pub; principal id \(id)")
        print("Next: the operator runs eduvault member add --vault DIR --role bureau|auditor|custodian|operator --name NAME --public-key \(out).pub")
    }
}

struct MemberAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register a member's public key under a role (logged as member.added).",
        discussion: "Example: eduvault member add --vault v --role bureau --name stats-office --public-key bureau.key.pub"
    )

    @OptionGroup var vault: VaultDirectoryOption
    @Option(help: "bureau, auditor, custodian or operator.") var role: String
    @Option(help: "A display name, [A-Za-z0-9_.@-]{1,64}, unique in the vault; a threshold party's name is its party name.")
    var name: String
    @Option(help: "The member's public key file (F.pub from `member keygen`).") var publicKey: String

    func run() async throws {
        let key: Ed25519.PublicKey
        do { key = try MemberPublicKeyFile.decode(try Files.read(publicKey, what: "member public key", limit: 64 << 10)) }
        catch let error as AppError { throw CLIError("\(publicKey): \(error.message)") }
        let opened = try vault.open()
        let member: Principal
        do { member = try opened.addMember(name: name, role: role, publicKey: key) } catch {
            throw CLIError("cannot add member \(name): \(error.message)")
        }
        print("Registered \(member.role) \(member.name) as principal \(member.id) in vault \(opened.descriptor.vaultID)")
    }
}

struct MemberList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the vault's principals: members and schools, their roles and key state.")

    @OptionGroup var vault: VaultDirectoryOption
    @Flag(help: "Print one JSON array.") var json = false

    func run() async throws {
        let opened = try vault.open()
        let all: [Principal]
        do { all = try opened.principals() } catch { throw CLIError("cannot read the principals: \(error.message)") }
        if json {
            let rows = all.map { p in
                ["id": p.id, "role": p.role, "name": p.name, "added": p.added, "revoked": p.revoked ?? "",
                 "key_sha256": Hex.encode(Array(SHA256.hash(p.publicKey).prefix(8)))]
            }
            let data = try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print(VaultSupport.pad("principal", 36) + VaultSupport.pad("role", 10) + VaultSupport.pad("name", 20) + "state")
        for p in all {
            print(VaultSupport.pad(p.id, 36) + VaultSupport.pad(p.role, 10) + VaultSupport.pad(p.name, 20)
                  + (p.revoked.map { "revoked \($0)" } ?? "active"))
        }
    }
}

struct MemberRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a principal's key (a member by id or name, or a school by id); logged as member.revoked.",
        discussion: "A revoked key's requests are refused (401); a revoked school's batches are refused too."
    )

    @OptionGroup var vault: VaultDirectoryOption
    @Argument(help: "The principal id (m:…), member name, or school id.") var principal: String

    func run() async throws {
        let opened = try vault.open()
        let revoked: Principal
        do { revoked = try opened.revokePrincipal(principal) } catch { throw CLIError("cannot revoke \(principal): \(error.message)") }
        print("Revoked \(revoked.role) \(revoked.name) (principal \(revoked.id)); its requests are refused from now on")
    }
}
