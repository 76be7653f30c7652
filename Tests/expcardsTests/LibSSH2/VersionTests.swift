import Foundation
import Testing

/// `expcards --version` names the libssh2 it runs with, and `make test` runs the binary it built.
@Suite struct VersionTests {
    @Test("--version names the libssh2 in use")
    func versionNamesLibSSH2() throws {
        let r = try CLI.run(["--version"], timeout: 30)
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.hasPrefix("0.1.0 (libssh2 "), "\(r)")
        #expect(LinkedLibSSH2.version != nil, "\(r)")
    }

    @Test(
        "the binary under test runs with the libssh2 `make test` was asked for",
        .enabled(
            if: ProcessInfo.processInfo.environment["EXPCARDS_EXPECT_LIBSSH2"] != nil,
            "EXPCARDS_EXPECT_LIBSSH2 is set by make test (LIBSSH2=1.11 or the system's version)"))
    func expectedGeneration() throws {
        let expected = try #require(ProcessInfo.processInfo.environment["EXPCARDS_EXPECT_LIBSSH2"])
        let version = try #require(LinkedLibSSH2.version)
        #expect(
            version == expected || version.hasPrefix(expected + "."),
            "\(CLI.binary) runs with libssh2 \(version), make asked for \(expected)")
    }
}
