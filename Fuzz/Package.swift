// swift-tools-version: 6.1
import Foundation
import PackageDescription

// The fuzz targets of EduVault: one libFuzzer executable per decoder of outside input. A package of its own, so the
// sanitizer and coverage flags (`Fuzz/run` passes them) never touch the product built by the main package.
//
// SwiftPM names a path dependency after its directory, which differs between clones; find it from this file.
let mainPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// The decoders fuzzed, each `Sources/fuzz-NAME/main.swift`.
let targets = [
    "ciphertext", "public-key", "private-key", "sealed-key", "score-csv", "batch", "release", "policy", "descriptor",
    "signed-note", "audit-log", "lin-audit-state", "school-public-key", "threshold-key", "share", "partial", "schema-file",
    "model-release", "model-formula", "service-signature", "service-request", "service-answer", "member-key",
]

let package = Package(
    name: "EduVaultFuzz",
    platforms: [.macOS(.v15)],
    products: targets.map { .executable(name: "fuzz-\($0)", targets: ["fuzz-\($0)"]) } + [
        .executable(name: "make-seeds", targets: ["make-seeds"]),
    ],
    dependencies: [.package(path: "..")],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "EduVaultKit", package: mainPackage)],
            swiftSettings: strictSettings
        ),
        .target(name: "FuzzDriver", dependencies: ["FuzzSupport"], swiftSettings: strictSettings),
        .executableTarget(
            name: "make-seeds",
            dependencies: ["FuzzSupport", .product(name: "EduVaultKit", package: mainPackage)],
            swiftSettings: strictSettings
        ),
    ] + targets.map {
        .executableTarget(
            name: "fuzz-\($0)",
            dependencies: ["FuzzSupport", "FuzzDriver", .product(name: "EduVaultKit", package: mainPackage)],
            swiftSettings: strictSettings
        )
    },
    swiftLanguageModes: [.v6]
)
