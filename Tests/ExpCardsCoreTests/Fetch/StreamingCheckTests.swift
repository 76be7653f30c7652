import Foundation
import Testing

@testable import ExpCardsCore

/// The check that runs while a file downloads finds what `check` finds on the archived file,
/// whatever the chunks, resumed prefix or compression; and the commit it does is the archive's.
@Suite struct StreamingCheckTests {
    static let shopName = "201806.87654321.EXP_CARDS.PDV.P.csv"

    /// Downloads `bytes` into `dir` through an ArchiveDownload and a StreamingCheck, in chunks of
    /// `chunk`, after `resumed` bytes already in the partial file (as an interrupted run leaves).
    func fetch(
        _ bytes: [UInt8], name: String, into dir: String, chunk: Int, resumed: Int = 0
    ) throws -> StreamingCheck.Verdict {
        if resumed > 0 {
            let first = try ArchiveDownload(
                in: try archiveDirectory(dir), name: name, remoteSize: UInt64(bytes.count), remoteMtime: 1_700_000_000)
            try bytes[0..<resumed].withUnsafeBytes { try first.write($0) }
        }
        let download = try ArchiveDownload(
            in: try archiveDirectory(dir), name: name, remoteSize: UInt64(bytes.count), remoteMtime: 1_700_000_000)
        #expect(download.offset == UInt64(resumed))
        let check = StreamingCheck(
            name: try #require(ExpCardsFileName(name)), path: dir + "/" + name, resuming: download, queueLimit: 4096)
        var at = resumed
        while at < bytes.count {
            let end = min(bytes.count, at + chunk)
            try bytes[at..<end].withUnsafeBytes { raw in
                try download.write(raw)
                check.feed(raw)
            }
            at = end
        }
        check.commit(download, now: 1_800_000_000)
        return try check.waitForCommit().get()
    }

    @Test(arguments: [1, 7, 4096, 1 << 20])
    func findsWhatCheckFindsOnTheArchivedFile(chunk: Int) throws {
        let dir = try temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A clean file, and the same with a damaged line and a wrong trailer.
        let clean = Array(guideFixture(Self.shopName).utf8)
        #expect(!clean.isEmpty)
        var damaged = clean
        damaged.insert(contentsOf: Array("\"02\";\"not an alias\";\n".utf8), at: clean.count / 2)
        for (bytes, sub) in [(clean, "clean"), (damaged, "damaged")] {
            let into = dir + "/" + sub + "-\(chunk)"
            let verdict = try fetch(bytes, name: Self.shopName, into: into, chunk: chunk)
            let path = into + "/" + Self.shopName
            #expect(verdict.problems == ExpCardsParser.parse(path: path).problems.count)
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
            #expect(verdict.sha256 == (try sha256Hex(ofFile: path)))
        }
        #expect(ExpCardsParser.parse(path: dir + "/damaged-\(chunk)/" + Self.shopName).problems.count > 0)
    }

    @Test func readsTheResumedPrefixFromThePartialFileFirst() throws {
        let dir = try temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = Array(guideFixture(Self.shopName).utf8)
        let verdict = try fetch(bytes, name: Self.shopName, into: dir, chunk: 100, resumed: bytes.count / 3)
        let path = dir + "/" + Self.shopName
        #expect(verdict.problems == 0)
        #expect(ExpCardsParser.parse(path: path).problems.count == 0)
        #expect(verdict.sha256 == (try sha256Hex(ofFile: path)))
        // The archived file carries the server's mtime.
        let mtime = (try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)?
            .timeIntervalSince1970
        #expect(mtime == 1_700_000_000)
    }

    @Test func checksGzipAsCheckDoes() throws {
        let dir = try temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plain = dir + "/plain.csv"
        try guideFixture(Self.shopName).write(toFile: plain, atomically: true, encoding: .utf8)
        let gz = Process()
        gz.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gz.arguments = ["-k", "-n", plain]
        try gz.run()
        gz.waitUntilExit()
        let compressed = Array(try Data(contentsOf: URL(fileURLWithPath: plain + ".gz")))
        let name = Self.shopName + ".gz"
        let verdict = try fetch(compressed, name: name, into: dir + "/a", chunk: 1)
        #expect(verdict.problems == 0)
        #expect(ExpCardsParser.parse(path: dir + "/a/" + name).problems.count == 0)
        // Cut short: the gzip stream is damaged, and both say so.
        let cut = Array(compressed.prefix(compressed.count - 20))
        let damaged = try fetch(cut, name: name, into: dir + "/b", chunk: 333)
        #expect(damaged.problems == ExpCardsParser.parse(path: dir + "/b/" + name).problems.count)
        #expect(damaged.problems > 0)
    }

    @Test func aCancelledCheckLeavesThePartialFileAndCommitsNothing() throws {
        let dir = try temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytes = Array(guideFixture(Self.shopName).utf8)
        let download = try ArchiveDownload(
            in: try archiveDirectory(dir), name: Self.shopName, remoteSize: UInt64(bytes.count), remoteMtime: 1)
        let check = StreamingCheck(
            name: try #require(ExpCardsFileName(Self.shopName)), path: dir + "/x", resuming: download)
        try bytes[0..<100].withUnsafeBytes { raw in
            try download.write(raw)
            check.feed(raw)
        }
        check.cancel()
        #expect(throws: ArchiveError.self) { _ = try check.waitForCommit().get() }
        #expect(!FileManager.default.fileExists(atPath: dir + "/" + Self.shopName))
        #expect(FileManager.default.fileExists(atPath: download.partPath))
    }
}
