import ExpCardsCore
import Foundation
import SSHTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `fetch` and the archive as a trust boundary, against a real sshd: a linked shop directory is
/// never written through, and modes are 0600/0700 whatever the umask.
@Suite(.serialized) struct ArchiveFetchSecurityTests {
    @Test func fetchDoesNotWriteThroughALinkedShopDirectory() throws {
        let f = try FetchTests.Fixture()
        let elsewhere = f.dir + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere + "/expired", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            atPath: f.archive, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        #expect(symlink(elsewhere, f.archive + "/" + FetchTests.shopA) == 0)
        let r = try f.expcards(["fetch"])
        #expect(r.status == 74, "\(r)")
        #expect(r.stderr.contains("\(f.archive)/\(FetchTests.shopA) is a symbolic link"), "\(r)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere + "/expired").isEmpty)
        #expect(try Manifest.load(root: f.archive).files.keys.allSatisfy { !$0.hasPrefix(FetchTests.shopA) })
    }

    /// Every directory 0700, every file 0600 (the lock, the manifest, the archived files), with a
    /// umask that takes nothing off and one that takes everything off.
    @Test(arguments: ["000", "777"])
    func modesDoNotDependOnTheUmask(umask: String) throws {
        let f = try FetchTests.Fixture()
        let r = try CLI.spawn(
            ["-c", "umask \(umask) && exec \"$EXPCARDS_BIN\" fetch --config \"$1\"", "sh", f.config], program: "/bin/sh"
        ).wait()
        #expect(r.status == 0, "\(r)")
        let all = [f.archive] + (FileManager.default.subpaths(atPath: f.archive) ?? []).map { f.archive + "/" + $0 }
        #expect(all.count >= 8, "\(all)")
        for path in all {
            var st = stat()
            #expect(lstat(path, &st) == 0)
            let expected: mode_t = (st.st_mode & S_IFMT) == S_IFDIR ? 0o700 : 0o600
            #expect(st.st_mode & 0o7777 == expected, "\(path): \(String(st.st_mode & 0o7777, radix: 8))")
        }
    }
}
