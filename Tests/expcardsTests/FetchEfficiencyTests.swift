import ExpCardsCore
import Foundation
import SSHTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What `fetch` asks of the server, counted in the real sshd's log (internal-sftp logs each
/// request to the chroot's /dev/log, so the counts need root), and what survives a run killed
/// between files.
@Suite(.serialized) struct FetchEfficiencyTests {
    typealias Fixture = FetchTests.Fixture

    /// internal-sftp's log lines arrive on a datagram socket read by another thread.
    func settle() { usleep(500_000) }

    @Test(.enabled(if: TestSSHServer.isRoot, "internal-sftp logs only inside a chroot, which needs root"))
    func aNoOpFetchOpensOneConnectionNoFileAndOnlyListsDirectories() throws {
        let f = try Fixture(serverOptions: .init(logSFTPRequests: true))
        var mark = f.server.logMark
        let first = try f.expcards(["fetch"])
        #expect(first.status == 0, "\(first)")
        settle()
        let fetched = f.server.sftpRequests(since: mark)
        #expect(fetched.logins == 1)
        #expect(fetched.requests["open"] == 3, "\(fetched.requests)")
        #expect(
            fetched.requests["fstat"] == nil && fetched.requests["stat"] == nil,
            "sizes come from the listing: \(fetched.requests)")

        mark = f.server.logMark
        let second = try f.expcards(["fetch"])
        #expect(second.stdout.contains("0 files fetched, 3 already archived"), "\(second)")
        settle()
        let noop = f.server.sftpRequests(since: mark)
        #expect(noop.logins == 1, "one connection")
        #expect(noop.opened.isEmpty && noop.requests["open"] == nil, "no file opened: \(noop)")
        // Each directory: opendir, readdir (the names), readdir (end), close. Here: the login
        // directory (to find the shops), ROOT/expired and the two shops.
        let dirs = noop.requests["opendir"] ?? 0
        #expect(dirs == 4, "\(noop.requests)")
        #expect(Set(noop.requests.keys) == ["opendir", "readdir", "close"], "\(noop.requests)")
        #expect(noop.requests.values.reduce(0, +) == 4 * dirs, "\(noop.requests)")

        // Three more shops, all archived: four more requests each, nothing else.
        for shop in ["11111111", "22222222", "33333333"] {
            try f.server.write(
                "/\(shop)/expired/202611.\(shop).EXP_CARDS.S.P.csv",
                Samples.shop(month: "202611", shop: shop, aliases: [("alias-\(shop)", "20261130")]))
        }
        #expect(try f.expcards(["fetch"]).status == 0)
        mark = f.server.logMark
        #expect(try f.expcards(["fetch"]).stdout.contains("0 files fetched, 6 already archived"))
        settle()
        let more = f.server.sftpRequests(since: mark)
        #expect(more.logins == 1 && more.opened.isEmpty)
        #expect(more.requests["opendir"] == 7, "\(more.requests)")
        #expect(more.requests.values.reduce(0, +) == 4 * 7, "\(more.requests)")
    }

    @Test func parallelSplitsTheFilesOverThatManyConnections() throws {
        let f = try Fixture(serverOptions: .init(logSFTPRequests: true))
        for month in 5...10 {
            let m = "2026" + (month < 10 ? "0\(month)" : "\(month)")
            try f.server.write(
                "/ROOT/expired/\(m).EXP_CARDS.ACME.P.csv",
                Samples.company(month: m, aliases: (0..<2000).map { ("alias-\(m)-\($0)", "20261231") }))
        }
        var mark = f.server.logMark
        let r = try f.expcards(["fetch", "--parallel", "3"])
        #expect(r.status == 0, "\(r)\n\(f.server.log)")
        #expect(r.stdout.contains("9 files fetched, 0 already archived, 0 failed"), "\(r)")
        let manifest = try Manifest.load(root: f.archive)
        #expect(manifest.files.count == 9)
        for (key, entry) in manifest.files {
            #expect(entry.sha256 == (try sha256Hex(ofFile: f.archive + "/" + key)), "\(key)")
        }
        #expect(try f.expcards(["verify"]).status == 0)
        if TestSSHServer.isRoot {
            settle()
            let used = f.server.sftpRequests(since: mark)
            #expect(used.logins == 3, "three connections")
            #expect(used.opened.count == 9, "each file opened once: \(used.opened)")
            #expect(Set(used.opened).count == 9)
        }
        // Nothing left to fetch: one connection, whatever --parallel says.
        mark = f.server.logMark
        let again = try f.expcards(["fetch", "--parallel", "3"])
        #expect(again.stdout.contains("0 files fetched, 9 already archived"), "\(again)")
        if TestSSHServer.isRoot {
            settle()
            #expect(f.server.sftpRequests(since: mark).logins == 1)
        }
        // The configuration key and the variable, shown by `config`.
        try f.writeConfig(extra: "parallel: 2\n")
        #expect(try f.expcards(["config"]).stdout.contains("parallel"))
        let env = try CLI.run(["config", "--config", f.config], environment: ["EXPCARDS_PARALLEL": "4"])
        #expect(env.stdout.contains("environment EXPCARDS_PARALLEL"), "\(env)")
        #expect(try f.expcards(["fetch", "--parallel", "17"]).status == 64)
    }

    @Test(
        .enabled(if: TestSSHServer.isRoot, "shops found on the server and counted in internal-sftp's log: chroot, root")
    )
    func parallelAlsoSplitsTheListing() throws {
        let f = try Fixture(serverOptions: .init(logSFTPRequests: true))
        let shops = (0..<24).map { String(20_000_000 + $0) }
        for shop in shops {
            try f.server.write(
                "/\(shop)/expired/202611.\(shop).EXP_CARDS.S.P.csv",
                Samples.shop(month: "202611", shop: shop, aliases: [("alias-\(shop)", "20261130")]))
        }
        var mark = f.server.logMark
        let r = try f.expcards(["fetch", "--parallel", "3"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("27 files fetched, 0 already archived, 0 failed"), "\(r)")
        #expect(r.stdout.contains("26 shop directories"), "\(r)")
        #expect(try f.expcards(["verify"]).status == 0)
        settle()
        var used = f.server.sftpRequests(since: mark)
        #expect(used.logins == 3)
        #expect(used.opened.count == 27 && Set(used.opened).count == 27, "each file opened once: \(used.opened)")
        // ".", ROOT/expired and the 26 shops, each listed once.
        #expect(used.requests["opendir"] == 28, "\(used.requests)")

        mark = f.server.logMark
        let again = try f.expcards(["fetch", "--parallel", "3"])
        #expect(again.stdout.contains("0 files fetched, 27 already archived"), "\(again)")
        settle()
        used = f.server.sftpRequests(since: mark)
        #expect(used.logins == 3 && used.opened.isEmpty)
        #expect(used.requests["opendir"] == 28 && used.requests.values.reduce(0, +) == 4 * 28, "\(used.requests)")
    }

    @Test func aFileRenamedIntoPlaceButNotInTheManifestIsRecordedWithoutDownloadingIt() throws {
        let f = try Fixture(serverOptions: .init(logSFTPRequests: true))
        #expect(try f.expcards(["fetch"]).status == 0)
        let key = "ROOT/expired/" + FetchTests.companyNov
        // The archived file carries the server's mtime: that and its size identify it later.
        let local = try FileManager.default.attributesOfItem(atPath: f.archived(key))
        let remote = try FileManager.default.attributesOfItem(
            atPath: f.server.localPath("/ROOT/expired/" + FetchTests.companyNov))
        let seconds = { (a: [FileAttributeKey: Any]) in
            ((a[.modificationDate] as? Date)?.timeIntervalSince1970).map { Int($0) }
        }
        #expect(seconds(local) != nil && seconds(local) == seconds(remote))
        // What a run killed after the rename and before its manifest save leaves behind.
        var manifest = try Manifest.load(root: f.archive)
        let removed = manifest.files.removeValue(forKey: key)
        let entry = try #require(removed)
        try manifest.save(root: f.archive)

        let mark = f.server.logMark
        let r = try f.expcards(["fetch"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.contains("fetched " + key), "\(r)")
        #expect(r.stdout.contains("1 file fetched, 2 already archived"), "\(r)")
        let recorded = try #require(try Manifest.load(root: f.archive).files[key])
        #expect(
            recorded.sha256 == entry.sha256 && recorded.size == entry.size && recorded.remoteMtime == entry.remoteMtime)
        let names = try FileManager.default.contentsOfDirectory(atPath: f.archived("ROOT/expired"))
        #expect(!names.contains { $0.contains(".replaced-") }, "nothing downloaded again: \(names)")
        if TestSSHServer.isRoot {
            settle()
            #expect(f.server.sftpRequests(since: mark).opened.isEmpty)
        }
        #expect(try f.expcards(["verify"]).status == 0)
    }

    @Test func killDashNineBetweenFilesLosesNothingAndDownloadsNothingTwice() throws {
        let f = try Fixture(serverOptions: .init(logSFTPRequests: true))
        var names: [String] = []
        for i in 0..<40 {
            let m = String(2023 + i / 12) + (i % 12 + 1 < 10 ? "0" : "") + String(i % 12 + 1)
            let name = "\(m).EXP_CARDS.ACME.P.csv"
            try f.server.write(
                "/ROOT/expired/" + name,
                Samples.company(month: m, aliases: (0..<15000).map { ("alias-\(m)-\($0)", "20261231") }))
            names.append(name)
        }
        let running = try CLI.spawn(["fetch", "--config", f.config])
        let dir = f.archived("ROOT/expired")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let present =
                (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { !$0.hasPrefix(".") } ?? []
            if !present.isEmpty { break }
            usleep(1_000)
        }
        kill(running.pid, SIGKILL)
        #expect(running.wait(timeout: 30).status == 128 + SIGKILL)
        f.server.killSessions()
        let inPlace = Set(
            (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { !$0.hasPrefix(".") } ?? [])
        #expect(!inPlace.isEmpty, "the kill came after the first file")

        let mark = f.server.logMark
        let again = try f.expcards(["fetch"])
        #expect(again.status == 0, "\(again)")
        let manifest = try Manifest.load(root: f.archive)
        for name in names { #expect(manifest.files["ROOT/expired/" + name] != nil, "\(name)") }
        #expect(try f.expcards(["verify"]).status == 0)
        let after = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(!after.contains { $0.contains(".replaced-") || $0.hasSuffix(".part") }, "\(after)")
        if TestSSHServer.isRoot {
            settle()
            let opened = Set(
                f.server.sftpRequests(since: mark).opened.map { String($0.split(separator: "/").last ?? "") })
            #expect(
                opened.isDisjoint(with: inPlace),
                "files already in place were not downloaded again: \(opened.intersection(inPlace))")
        }
    }
}
