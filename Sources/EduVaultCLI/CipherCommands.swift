import ArgumentParser
import BigNum
import Foundation
import Paillier

/// Options shared by the commands that take a public key.
struct PublicKeyOptions: ParsableArguments {
    @Option(help: "The bureau's public key (python-paillier JWK JSON).")
    var publicKey: String

    @Flag(help: "Accept keys below 2048 bits (test fixtures only).")
    var insecureTestKey = false

    func load() throws -> PublicKey { try KeyLoading.publicKey(publicKey, insecureTestKey: insecureTestKey) }
}

enum CiphertextIO {
    /// Reads a ciphertext from a file, `-` (standard input) or inline JSON text.
    static func read(_ source: String, key: PublicKey) throws -> PaillierJSON.EncryptedNumber {
        let data: Data
        if source.hasPrefix("{") { data = Data(source.utf8) } else { data = try Files.read(source, what: "ciphertext") }
        return try PaillierJSON.decodeCiphertext(data, key: key)
    }

    static func print(_ number: PaillierJSON.EncryptedNumber, key: PublicKey) {
        Swift.print(PaillierJSON.encodeCiphertext(number, key: key))
    }

    /// Encodes a user's number like pheutil: integers exactly with exponent 0; other numbers as python-paillier
    /// encodes the float, then lowered to exponent −32 as `pheutil encrypt` does.
    static func encode(_ text: String) throws -> EncodedNumber {
        let encoded = try EncodedNumber(parsing: text)
        if encoded.exponent < 0 && encoded.exponent > -32 { return try encoded.decreasingExponent(to: -32) }
        return encoded
    }
}

struct EncryptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Encrypt one number; prints {\"v\": \"<ciphertext>\", \"e\": <exponent>} like pheutil encrypt.",
        discussion: "Integers are exact (e = 0); other numbers use python-paillier's float encoding with e = -32."
    )

    @OptionGroup var key: PublicKeyOptions

    @Argument(parsing: .allUnrecognized, help: "The number to encrypt (a negative value may follow `--`, as with pheutil).")
    var value: [String] = []

    func run() async throws {
        // `--` is the POSIX end of options (python-paillier's CLI needs it before a negative number): accept it.
        let values = value.filter { $0 != "--" }
        guard values.count == 1 else { throw CLIError("give exactly one number to encrypt") }
        let publicKey = try key.load()
        let encoded = try CiphertextIO.encode(values[0])
        let c = try publicKey.encrypt(try encoded.plaintext(for: publicKey))
        CiphertextIO.print(.init(ciphertext: c, exponent: encoded.exponent), key: publicKey)
    }
}

struct DecryptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Decrypt a ciphertext file (ours or pheutil's) and print the number."
    )

    @Option(help: "The bureau's private key (python-paillier JWK JSON, or EduVault's passphrase-protected form).")
    var privateKey: String

    @Option(help: "Read the private key's passphrase from this file (else EDUVAULT_PASSPHRASE).")
    var passphraseFile: String?

    @Flag(help: "Accept keys below 2048 bits (test fixtures only).")
    var insecureTestKey = false

    @Flag(help: "Print the exact decimal value instead of python-paillier's float form.")
    var exact = false

    @Argument(help: "Ciphertext file, or - for standard input.")
    var ciphertext: String = "-"

    func run() async throws {
        let key = try KeyLoading.privateKey(privateKey, insecureTestKey: insecureTestKey, passphraseFile: passphraseFile)
        let number = try CiphertextIO.read(ciphertext, key: key.publicKey)
        let raw = try key.decryptRaw(number.ciphertext)
        let decoded = try EncodedNumber.decode(raw, exponent: number.exponent, key: key.publicKey)
        print(exact ? try decoded.exactDecimalString : try decoded.displayString)
    }
}

struct AddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add two ciphertexts homomorphically: Enc(a) ⊕ Enc(b) = Enc(a + b)."
    )

    @OptionGroup var key: PublicKeyOptions

    @Argument(help: "First ciphertext file (or -).")
    var a: String
    @Argument(help: "Second ciphertext file.")
    var b: String

    func run() async throws {
        guard !(a == "-" && b == "-") else { throw CLIError("only one ciphertext can come from standard input") }
        let publicKey = try key.load()
        var x = try CiphertextIO.read(a, key: publicKey)
        var y = try CiphertextIO.read(b, key: publicKey)
        // Align exponents as python-paillier does: lower the larger one (c^(16^Δ) multiplies the mantissa).
        if x.exponent > y.exponent { x = try lower(x, to: y.exponent, publicKey) }
        if y.exponent > x.exponent { y = try lower(y, to: x.exponent, publicKey) }
        let sum = publicKey.add(x.ciphertext, y.ciphertext)
        CiphertextIO.print(.init(ciphertext: try publicKey.rerandomize(sum), exponent: x.exponent), key: publicKey)
    }

    private func lower(_ x: PaillierJSON.EncryptedNumber, to e: Int, _ key: PublicKey) throws
        -> PaillierJSON.EncryptedNumber
    {
        // Both exponents come from files the decoder bounded to ±limit; check anyway, so the factor stays bounded.
        let (delta, overflow) = x.exponent.subtractingReportingOverflow(e)
        guard !overflow, delta >= 0, delta <= 2 * EncodedNumber.exponentLimit else {
            throw CLIError("the ciphertexts' exponents are too far apart to align")
        }
        let factor = BigNum(UInt64(16)).power(delta)
        return .init(ciphertext: try key.multiply(x.ciphertext, by: factor), exponent: e)
    }
}

struct MultiplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "multiply",
        abstract: "Multiply a ciphertext by a plaintext number: Enc(a)^k = Enc(k·a)."
    )

    @OptionGroup var key: PublicKeyOptions

    @Argument(help: "Ciphertext file (or -).")
    var a: String

    @Argument(parsing: .allUnrecognized, help: "The plaintext factor (integer or decimal; negative allowed).")
    var k: [String] = []

    func run() async throws {
        let factors = k.filter { $0 != "--" }  // `--` before a negative factor, as with pheutil
        guard factors.count == 1 else { throw CLIError("give exactly one plaintext factor") }
        let publicKey = try key.load()
        let x = try CiphertextIO.read(a, key: publicKey)
        let factor = try EncodedNumber(parsing: factors[0])
        guard factor.mantissa.magnitude <= publicKey.maxInt else {
            throw CLIError("the factor is too large for this key")
        }
        // The product's exponent must stay one this tool (and a later `decrypt`) accepts.
        let (exponent, overflow) = x.exponent.addingReportingOverflow(factor.exponent)
        guard !overflow, EncodedNumber.isValidExponent(exponent) else {
            throw CLIError("the product's exponent would fall outside ±\(EncodedNumber.exponentLimit)")
        }
        let product = try publicKey.multiply(x.ciphertext, by: factor.mantissa)
        CiphertextIO.print(.init(ciphertext: try publicKey.rerandomize(product), exponent: exponent), key: publicKey)
    }
}
