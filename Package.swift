// swift-tools-version: 6.1
// Swift 6 language mode (the default for tools 6.0): strict concurrency checking is on.
import PackageDescription

// Linux only: the code calls Glibc directly (st_mtim, SOCK_CLOEXEC, openat and friends), so no
// other platform is declared.
let package = Package(
    name: "expcards",
    products: [
        .executable(name: "expcards", targets: ["expcards"]),
        .library(name: "ExpCardsCore", targets: ["ExpCardsCore"]),
        .library(name: "SFTP", targets: ["SFTP"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.0.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        // Already under Hummingbird; named for NIOCore's TimeAmount (the idle timeout).
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
    ],
    targets: [
        // Module maps only: the C libraries come from the system (Debian's -dev packages).
        .systemLibrary(
            name: "CLibSSH2",
            pkgConfig: "libssh2",
            providers: [.apt(["libssh2-1-dev"]), .brew(["libssh2"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        // SFTP over libssh2; knows nothing of EXP_CARDS.
        .target(
            name: "SFTP",
            dependencies: ["CLibSSH2", .product(name: "Logging", package: "swift-log")]
        ),
        // EXP_CARDS: file names, parsing, validation, model, schedules, reports; knows nothing of SSH.
        .target(
            name: "ExpCardsCore",
            dependencies: ["CZlib", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The ITN endpoint: HTTP (Hummingbird) in front of the core's notification store; knows
        // nothing of SSH, and the core knows nothing of HTTP.
        .target(
            name: "ITNServer",
            dependencies: [
                "ExpCardsCore", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The thin command-line front end.
        .executableTarget(
            name: "expcards",
            dependencies: [
                "ExpCardsCore",
                "SFTP",
                "ITNServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Test support: starts a real OpenSSH sshd (internal-sftp) on 127.0.0.1 with throwaway keys.
        .target(name: "SSHTestSupport", path: "Tests/SSHTestSupport"),
        .testTarget(name: "ExpCardsCoreTests", dependencies: ["ExpCardsCore"], exclude: ["Report/Golden"]),
        .testTarget(name: "SFTPTests", dependencies: ["SFTP", "CLibSSH2", "SSHTestSupport"]),
        .testTarget(name: "expcardsTests", dependencies: ["ExpCardsCore", "SSHTestSupport"]),
    ]
)
