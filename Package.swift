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
                "VaultAggregation", "VaultAuditor", "VaultStatistics", "VaultApp",
            ]
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The service (VaultHTTP only): Hummingbird 2 without its swift-configuration trait, swift-log,
        // ServiceLifecycle, and NIOSSL for --tls-cert.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // NIOHTTPTypes (already used by Hummingbird): the service's channel handler closes refused connections.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
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
                // SQLite's C API, for the record scan's hot loop only (Vault+Scan.swift reads two columns per row).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        // The auditor's side: verifies an exported (or served) vault against the pinned log key; no store.
        .target(
            name: "VaultAuditor",
            dependencies: ["VaultAudit", "VaultPolicy", "VaultModel", "Primitives"],
            swiftSettings: strictSettings
        ),
        // Pure statistics from exact decrypted sums (issue 12): OLS, type II ANOVA, correlations, Hedges' g, REML
        // random intercept. Foundation only.
        .target(name: "VaultStatistics", swiftSettings: strictSettings),
        .target(
            name: "VaultAggregation",
            dependencies: ["VaultModel", "VaultPolicy", "VaultAudit", "VaultStore", "Paillier", "VaultStatistics"],
            swiftSettings: strictSettings
        ),
        // The application layer: every use case once (encrypt a batch, ingest, query and release, status, check,
        // members and authorization, log reads, request signatures); the CLI and the service only parse, call, print.
        .target(
            name: "VaultApp",
            dependencies: [
                "Paillier", "BigNum", "VaultModel", "VaultPolicy", "VaultAudit", "VaultStore", "VaultAggregation",
                "VaultAuditor", "Primitives",
            ],
            swiftSettings: strictSettings
        ),
        // The service: routes, request signatures, limits, metrics. The only target that imports Hummingbird.
        .target(
            name: "VaultHTTP",
            dependencies: [
                "VaultApp", "VaultModel", "VaultAudit", "VaultStore", "VaultAggregation", "Primitives",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            exclude: ["openapi.yaml"],
            swiftSettings: strictSettings
        ),
        // libcurl, for the clients' TLS path with a private CA (URLSession on Linux cannot be told a CA file).
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // The clients' side: signed requests over URLSession (FoundationNetworking), and the auditor's HTTP source.
        .target(
            name: "VaultClient",
            dependencies: ["VaultApp", "VaultModel", "VaultAudit", "VaultAuditor", "VaultAggregation", "Primitives", "CCurl"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "EduVaultCLI",
            dependencies: [
                "Paillier", "VaultModel", "VaultPolicy", "VaultAudit", "VaultStore", "VaultAggregation", "Primitives",
                "VaultAuditor", "VaultApp", "VaultHTTP", "VaultClient", "VaultStatistics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
        // Numeric covariates and packed products (issue 12's data layer): schema, CSV, school encryption, ingest,
        // scans, the log's binding of every ciphertext.
        .testTarget(
            name: "CovariateTests",
            dependencies: [
                "VaultApp", "VaultAggregation", "VaultStore", "VaultModel", "VaultPolicy", "VaultAudit", "Paillier",
                "BigNum", "Primitives", .product(name: "GRDB", package: "GRDB.swift"),  // tamper tests edit vault.sqlite
            ],
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
        // Statistics from sums against statsmodels/scipy on the plaintext (Resources/model_reference.py via .venv).
        .testTarget(
            name: "StatisticsTests", dependencies: ["VaultStatistics"], exclude: ["Resources"],
            swiftSettings: strictSettings
        ),
        // The service through Hummingbird's test client: every route × every refusal, limits, fail closed.
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "VaultHTTP", "VaultApp", "VaultClient", "VaultStore", "VaultModel", "VaultAudit", "Primitives", "Paillier",
                "eduvault",  // fixtures are made with the real commands; the live tests run `eduvault serve`
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),  // fail-closed tests break the audit log on purpose
            ],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
