import ExpCardsCore
import Foundation
import SSHTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Cuts, stalls, kills and a full disk during a real download: the run fails loudly within its
/// bound, and nothing incomplete ever appears under a final name.
@Suite(.serialized) struct FaultTests {
    static let bigName = "202611.87654321.EXP_CARDS.BIG.P.csv"
    static let bigPath = "/87654321/expired/" + bigName
    static let bigSize = 64 << 20

    /// A fixture with a big shop file, and the path where its download lands.
    func bigFixture() throws -> (FetchTests.Fixture, final: String, dir: String) {
        let f = try FetchTests.Fixture()
        try f.server.writeRandomFile(Self.bigPath, size: Self.bigSize)
        let dir = f.archived("87654321/expired")
        return (f, dir + "/" + Self.bigName, dir)
    }

    /// Waits until a partial download of the big file holds some bytes; returns its path.
    func waitForPartial(in dir: String, timeout: TimeInterval = 60) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let names = try? FileManager.default.contentsOfDirectory(atPath: dir),
                let part = names.first(where: { $0.hasPrefix("." + Self.bigName) && $0.hasSuffix(".part") })
            {
                let path = dir + "/" + part
                if let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber,
                    size.intValue > 0
                {
                    return path
                }
            }
            usleep(2_000)
        }
        return nil
    }

    func partSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.intValue ?? -1
    }

    @Test func aCutMidDownloadIsRetriedResumedAndByteIdentical() throws {
        let (f, final, dir) = try bigFixture()
        let running = try CLI.spawn(["fetch", "--config", f.config, "--retries", "3", "--timeout", "5", "--verbose"])
        let part = try #require(waitForPartial(in: dir), "no partial download appeared")
        // Freeze the server mid-transfer, then kill its session processes: a cut connection.
        f.server.stallSessions()
        let atCut = partSize(part)
        f.server.killSessions()
        let r = running.wait(timeout: 120)
        // 65: the big file is random bytes, so it is archived and flagged as damaged.
        #expect(r.status == 65, "\(r)\n\(f.server.log)")
        #expect(r.stderr.contains("retry 1 of 3"), "\(r)")
        #expect(r.stderr.contains("resuming"), "\(r)")
        #expect(atCut < Self.bigSize, "the cut came before the end")
        #expect(try sha256Hex(ofFile: final) == (try sha256Hex(ofFile: f.server.localPath(Self.bigPath))))
        #expect(
            try Manifest.load(root: f.archive).files["87654321/expired/" + Self.bigName]?.size == UInt64(Self.bigSize))
        #expect(try f.expcards(["verify"]).status == 0)
    }

    @Test func withRetriesExhaustedNothingAppearsAndThePartialDataIsKept() throws {
        let (f, final, dir) = try bigFixture()
        let running = try CLI.spawn(["fetch", "--config", f.config, "--retries", "0", "--timeout", "5"])
        let part = try #require(waitForPartial(in: dir), "no partial download appeared")
        f.server.stallSessions()
        f.server.killSessions()
        let r = running.wait(timeout: 60)
        #expect(r.status == 69, "\(r)")
        #expect(r.stdout.contains("FAILED"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: final), "nothing under the final name")
        #expect(partSize(part) > 0, "the partial data is kept for the next run")
        #expect(try Manifest.load(root: f.archive).files["87654321/expired/" + Self.bigName] == nil)
        // The next run completes it.
        let again = try f.expcards(["fetch", "--verbose"])
        #expect(again.status == 65, "\(again)")
        #expect(again.stderr.contains("resuming"), "\(again)")
        #expect(try sha256Hex(ofFile: final) == (try sha256Hex(ofFile: f.server.localPath(Self.bigPath))))
    }

    @Test func aStalledServerIsGivenUpWithinTheTimeout() throws {
        let (f, final, dir) = try bigFixture()
        let timeout = 3
        let running = try CLI.spawn(["fetch", "--config", f.config, "--retries", "0", "--timeout", String(timeout)])
        _ = try #require(waitForPartial(in: dir), "no partial download appeared")
        let stalled = Date()
        f.server.stallSessions()
        let r = running.wait(timeout: 60)
        let took = Date().timeIntervalSince(stalled)
        #expect(r.status == 69, "\(r)")
        #expect(took < Double(timeout) + 8, "gave up after \(took) s")
        #expect(!FileManager.default.fileExists(atPath: final))
        f.server.killSessions()
    }

    @Test func killDashNineMidDownloadThenANewRunCompletes() throws {
        let (f, final, dir) = try bigFixture()
        let running = try CLI.spawn(["fetch", "--config", f.config])
        _ = try #require(waitForPartial(in: dir), "no partial download appeared")
        kill(running.pid, SIGKILL)
        let killed = running.wait(timeout: 30)
        #expect(killed.status == 128 + SIGKILL)
        f.server.killSessions()
        #expect(!FileManager.default.fileExists(atPath: final))
        let again = try f.expcards(["fetch"])
        #expect(again.status == 65, "random bytes: archived and flagged; \(again)")
        #expect(try sha256Hex(ofFile: final) == (try sha256Hex(ofFile: f.server.localPath(Self.bigPath))))
        // The manifest and the files agree (the lock died with the process).
        let verify = try f.expcards(["verify"])
        #expect(verify.status == 0, "\(verify)")
    }

    @Test func aFullDiskExits74AndLeavesTheArchiveIntact() throws {
        let (f, final, _) = try bigFixture()
        // First the small files, archived normally.
        try FileManager.default.removeItem(atPath: f.server.localPath(Self.bigPath))
        #expect(try f.expcards(["fetch"]).status == 0)
        let before = try Manifest.load(root: f.archive)
        try f.server.writeRandomFile(Self.bigPath, size: 8 << 20)
        // RLIMIT_FSIZE binds root too: writes past 2 MiB fail with EFBIG, as on a full disk.
        let r = try CLI.spawn(
            ["-c", "ulimit -f 2048; exec \"$EXPCARDS_BIN\" fetch --config \"$0\"", f.config], program: "/bin/sh"
        ).wait(timeout: 60)
        #expect(r.status == 74, "\(r)")
        #expect(r.stderr.contains("File too large") || r.stderr.contains("No space"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: final))
        #expect(try Manifest.load(root: f.archive) == before, "the manifest is untouched")
        #expect(try f.expcards(["verify"]).status == 0, "the earlier archive is intact")
    }
}
