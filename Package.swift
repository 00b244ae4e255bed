// swift-tools-version: 6.1
import PackageDescription

/// Settings every target gets: Swift 6 language mode plus the upcoming features STYLE.md asks for.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "EduVault",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "eduvault", targets: ["eduvault"]),
        .library(name: "Paillier", targets: ["Paillier"]),
        // Every library of the vault, for in-repository tools that live in their own package (Fuzz/).
        .library(
            name: "EduVaultKit",
            targets: [
                "BigNum", "Primitives", "Paillier", "VaultModel", "VaultPolicy", "VaultAudit", "VaultStore",
                "VaultAggregation", "VaultAuditor",
            ]
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // The one door to C: libcrypto, plus static-inline shims for the macros Swift cannot call.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // The only Swift code that touches BIGNUM.
        .target(name: "BigNum", dependencies: ["COpenSSL"], swiftSettings: strictSettings),
        // The only Swift code that touches EVP: SHA-256, HMAC, Ed25519, the CSPRNG, passphrase KDF and AEAD.
        .target(name: "Primitives", dependencies: ["COpenSSL"], swiftSettings: strictSettings),
        .target(name: "Paillier", dependencies: ["BigNum", "Primitives"], swiftSettings: strictSettings),
        .target(name: "VaultModel", dependencies: ["Primitives"], swiftSettings: strictSettings),
        .target(
            name: "VaultPolicy",
            dependencies: ["VaultModel", .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        .target(name: "VaultAudit", dependencies: ["VaultModel", "Primitives"], swiftSettings: strictSettings),
        .target(
            name: "VaultStore",
            dependencies: [
                "VaultModel", "VaultAudit", "VaultPolicy", "Primitives", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        // The auditor's side: verifies an exported (or served) vault against the pinned log key; no store.
        .target(
            name: "VaultAuditor",
            dependencies: ["VaultAudit", "VaultPolicy", "VaultModel", "Primitives"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "VaultAggregation",
            dependencies: ["VaultModel", "VaultPolicy", "VaultAudit", "VaultStore", "Paillier"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "EduVaultCLI",
            dependencies: [
                "Paillier", "VaultModel", "VaultPolicy", "VaultAudit", "VaultStore", "VaultAggregation", "Primitives",
                "VaultAuditor", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(name: "eduvault", dependencies: ["EduVaultCLI"], swiftSettings: strictSettings),
        .testTarget(
            name: "PaillierTests", dependencies: ["Paillier", "BigNum"], exclude: ["Vectors", "python"], swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VaultTests",
            dependencies: [
                "VaultModel", "VaultPolicy", "VaultAudit", "VaultStore", "Primitives",
                .product(name: "GRDB", package: "GRDB.swift"),  // tests edit vault.sqlite directly (tamper checks)
            ],
            swiftSettings: strictSettings
        ),
        // The transparency log's cryptographic core: Merkle proofs (with the transparency-dev/merkle vectors), C2SP
        // signed notes, checkpoints and cosignatures (cross-checked by an independent Python implementation).
        .testTarget(
            name: "AuditTests", dependencies: ["VaultAudit", "Primitives"], exclude: ["Vectors", "python"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AggregationTests",
            dependencies: [
                "VaultAggregation", "VaultStore", "VaultModel", "VaultPolicy", "VaultAudit", "Paillier", "BigNum", "Primitives",
                "VaultAuditor", .product(name: "GRDB", package: "GRDB.swift"),  // tamper tests edit vault.sqlite
            ],
            exclude: ["Vectors"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CLITests",
            dependencies: [
                "EduVaultCLI", "Paillier", "BigNum", "VaultModel", "Primitives", "eduvault",
                .product(name: "GRDB", package: "GRDB.swift"),  // audit tests tamper with vault.sqlite
            ],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
