import ExpCardsCore
import Foundation
import SSHTestSupport
import Testing

/// Issue 12, failure 2, against a real server: a shop directory ProFTPD refuses (permission
/// denied) is skipped with a warning naming it; every other file is fetched and recorded; the
/// run then exits 69.
@Suite(
    .serialized,
    .enabled(
        if: TestProFTPDServer.isAvailable,
        "proftpd or its mod_sftp is not installed (make deps installs proftpd-core and proftpd-mod-crypto)")
)
struct ProFTPDRefusedDirectoryTests {
    @Test func aRefusedShopDirectoryDoesNotStopTheOthers() throws {
        let denied = "/\(ProFTPDTests.shopB)/expired"
        let f = try ProFTPDTests.Fixture(serverOptions: .init(deniedDirectories: [denied]))
        let r = try f.expcards(["fetch"])
        #expect(r.status == 69, "\(r)\n\(f.server.log)")
        #expect(r.stderr.contains("\(ProFTPDTests.shopB)/expired"), "the refused directory is named: \(r)")
        #expect(r.stderr.lowercased().contains("permission denied"), "with the server's status: \(r)")
        let others = ProFTPDTests.files.filter { !$0.remote.hasPrefix(denied + "/") }
        for file in others {
            #expect(
                FileManager.default.fileExists(atPath: f.archived(file.archived)), "\(file.archived) not fetched: \(r)")
        }
        let manifest = try Manifest.load(root: f.archive)
        #expect(manifest.files.count == others.count, "\(manifest.files.keys.sorted())\n\(r)")
    }
}
