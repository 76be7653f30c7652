import CLibSSH2
import Foundation
import SFTP
import Testing

/// What the linked libssh2 says of itself, and that the build runs with the one it was asked for.
@Suite("libssh2 build")
struct LibSSH2Tests {
    @Test("the library loaded at run time is the one compiled against")
    func runtimeMatchesHeaders() {
        // A 1.11 build that loaded 1.10's shared library (or the reverse) would fail here.
        #expect(LibSSH2.version == LIBSSH2_VERSION)
    }

    @Test("isAtLeast agrees with the version string")
    func isAtLeast() throws {
        let parts = LibSSH2.version.split(separator: ".").map { Int($0) }
        let numbers = try #require(parts.count >= 2 ? parts.compactMap { $0 } : nil, "version \(LibSSH2.version)")
        let (major, minor, patch) = (numbers[0], numbers[1], numbers.count > 2 ? numbers[2] : 0)
        #expect(LibSSH2.isAtLeast(major, minor, patch))
        #expect(LibSSH2.isAtLeast(1, 0))
        #expect(!LibSSH2.isAtLeast(major, minor, patch + 1))
        #expect(!LibSSH2.isAtLeast(major, minor + 1))
        #expect(!LibSSH2.isAtLeast(major + 1, 0))
    }

    @Test(
        "the build runs with the libssh2 `make test` was asked for",
        .enabled(
            if: ProcessInfo.processInfo.environment["EXPCARDS_EXPECT_LIBSSH2"] != nil,
            "EXPCARDS_EXPECT_LIBSSH2 is set by make test (LIBSSH2=1.11 or the system's version)"))
    func expectedGeneration() throws {
        let expected = try #require(ProcessInfo.processInfo.environment["EXPCARDS_EXPECT_LIBSSH2"])
        #expect(
            LibSSH2.version == expected || LibSSH2.version.hasPrefix(expected + "."),
            "running with libssh2 \(LibSSH2.version), make asked for \(expected)")
    }
}
