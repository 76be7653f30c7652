import ExpCardsCore
import Foundation
import SSHTestSupport
import Testing

/// `fetch`, `list`, `run`, `verify`, `prune` against a real OpenSSH sshd on 127.0.0.1.
@Suite(.serialized) struct FetchTests {
    static let shopA = "12345678"
    static let shopB = "87654321"
    static let companyNov = "202611.EXP_CARDS.ACME.P.csv"
    static let shopANov = "202611.12345678.EXP_CARDS.Shop-A.P.csv"
    static let shopBOct = "202610.87654321.EXP_CARDS.Shop.B.P.csv"

    /// A server with a company file and two shop files, an archive, and a configuration file.
    final class Fixture {
        let server: TestSSHServer
        let dir: String
        let archive: String
        let config: String

        init(serverOptions: TestSSHServer.Options = .init()) throws {
            server = try TestSSHServer(options: serverOptions)
            dir = try scratchDirectory()
            archive = dir + "/archive"
            config = dir + "/config.yaml"
            try server.write(
                "/ROOT/expired/" + FetchTests.companyNov,
                Samples.company(month: "202611", aliases: [("alias-a", "20261130"), ("alias-b", "20270131")]))
            try server.write("/ROOT/expired/README.txt", "not an EXP_CARDS file\n")
            try server.write(
                "/\(FetchTests.shopA)/expired/" + FetchTests.shopANov,
                Samples.shop(month: "202611", shop: FetchTests.shopA, aliases: [("alias-a", "20261130")]))
            try server.write(
                "/\(FetchTests.shopB)/expired/" + FetchTests.shopBOct,
                Samples.shop(month: "202610", shop: FetchTests.shopB, aliases: [("alias-c", "20261031")]))
            try writeConfig()
        }

        func writeConfig(extra: String = "") throws {
            var yaml = """
                host: 127.0.0.1
                port: \(server.port)
                user: \(server.username)
                identityFile: \(server.userPrivateKeyPath)
                knownHostsFile: \(server.knownHostsPath)
                archive: \(archive)
                timeout: 5
                retries: 1

                """
            if !server.isChrooted {
                yaml += """
                    companyDirectory: \(server.remotePath("/ROOT/expired"))
                    shopDirectory: \(server.root)/%s/expired
                    shops: [\"\(FetchTests.shopA)\", \"\(FetchTests.shopB)\"]

                    """
            }
            try (yaml + extra).write(toFile: config, atomically: true, encoding: .utf8)
        }

        func expcards(_ args: [String], timeout: TimeInterval = 120) throws -> CLI.Result {
            try CLI.run(args + ["--config", config], timeout: timeout)
        }

        func archived(_ relative: String) -> String { archive + "/" + relative }

        deinit {
            server.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
    }

    @Test func firstRunFetchesEverythingAndASecondNothing() throws {
        let f = try Fixture()
        let first = try f.expcards(["fetch"])
        #expect(first.status == 0, "\(first)\n\(f.server.log)")
        #expect(first.stdout.contains("3 files fetched, 0 already archived, 0 failed"), "\(first)")
        let company = f.archived("ROOT/expired/" + Self.companyNov)
        #expect(
            try String(contentsOfFile: company, encoding: .utf8)
                == Samples.company(month: "202611", aliases: [("alias-a", "20261130"), ("alias-b", "20270131")]))
        #expect(FileManager.default.fileExists(atPath: f.archived("\(Self.shopA)/expired/" + Self.shopANov)))
        #expect(FileManager.default.fileExists(atPath: f.archived("\(Self.shopB)/expired/" + Self.shopBOct)))
        #expect(!FileManager.default.fileExists(atPath: f.archived("ROOT/expired/README.txt")))
        // Cardholder data: 0600 files, 0700 directories.
        #expect(Self.mode(company) == 0o600)
        #expect(Self.mode(f.archived("ROOT/expired")) == 0o700)
        #expect(Self.mode(f.archived("ROOT")) == 0o700)
        #expect(Self.mode(f.archive) == 0o700)
        // The manifest records each file with its SHA-256.
        let manifest = try Manifest.load(root: f.archive)
        #expect(manifest.files.count == 3)
        let entry = try #require(manifest.files["ROOT/expired/" + Self.companyNov])
        #expect(entry.sha256 == (try sha256Hex(ofFile: company)))
        #expect(entry.remotePath.hasSuffix("/ROOT/expired/" + Self.companyNov))
        #expect(entry.problems == 0)

        let second = try f.expcards(["fetch"])
        #expect(second.status == 0, "\(second)")
        #expect(second.stdout.contains("0 files fetched, 3 already archived"), "\(second)")
        #expect(try Manifest.load(root: f.archive) == manifest)

        // A new month: only it is fetched.
        try f.server.write(
            "/ROOT/expired/202612.EXP_CARDS.ACME.P.csv",
            Samples.company(month: "202612", aliases: [("alias-d", "20270131")]))
        let third = try f.expcards(["fetch"])
        #expect(third.stdout.contains("fetched ROOT/expired/202612.EXP_CARDS.ACME.P.csv"), "\(third)")
        #expect(third.stdout.contains("1 file fetched, 3 already archived"), "\(third)")
    }

    @Test func gzippedAfterSevenDaysIsTheSameFileAndAChangeKeepsTheOldVersion() throws {
        let f = try Fixture()
        #expect(try f.expcards(["fetch"]).status == 0)
        // The platform compresses the file and renames it X.csv.gz: not fetched again.
        let local = f.server.localPath("/ROOT/expired/" + Self.companyNov)
        try TestSSHServer.run("/bin/gzip", [local])
        let after = try f.expcards(["fetch"])
        #expect(after.stdout.contains("0 files fetched, 3 already archived"), "\(after)")
        // A shop file that changes on the server is fetched; the old version is kept beside it.
        let shopPath = "/\(Self.shopA)/expired/" + Self.shopANov
        try f.server.write(
            shopPath,
            Samples.shop(
                month: "202611", shop: Self.shopA, aliases: [("alias-a", "20261130"), ("alias-e", "20261215")]))
        let changed = try f.expcards(["fetch"])
        #expect(changed.status == 0, "\(changed)")
        #expect(changed.stdout.contains("1 file fetched"), "\(changed)")
        #expect(changed.stderr.contains("changed on the server"), "\(changed)")
        let names = try FileManager.default.contentsOfDirectory(atPath: f.archived("\(Self.shopA)/expired"))
        #expect(names.contains(Self.shopANov))
        #expect(names.contains { $0.hasPrefix(Self.shopANov + ".replaced-") }, "\(names)")
        #expect(
            try String(contentsOfFile: f.archived("\(Self.shopA)/expired/" + Self.shopANov), encoding: .utf8).contains(
                "alias-e"))
        // verify agrees with what is on disk, kept versions included.
        let verify = try f.expcards(["verify"])
        #expect(verify.status == 0, "\(verify)")
    }

    /// A run killed after committing a changed file (the earlier version moved to .replaced-T,
    /// the new one in place) but before saving its manifest: the next run records both from the
    /// archive, downloads nothing, and `verify` accounts for every file.
    @Test func aChangedFileCommittedByAKilledRunIsRecordedNotFetchedAgain() throws {
        let f = try Fixture(serverOptions: .init(logSFTPRequests: true))
        #expect(try f.expcards(["fetch"]).status == 0)
        let before = try Manifest.load(root: f.archive)
        let shopPath = "/\(Self.shopA)/expired/" + Self.shopANov
        try f.server.write(
            shopPath,
            Samples.shop(
                month: "202611", shop: Self.shopA, aliases: [("alias-a", "20261130"), ("alias-e", "20261215")]))
        #expect(try f.expcards(["fetch"]).status == 0)
        // What the kill leaves: the manifest as it was before that run's save.
        try before.save(root: f.archive)
        let mark = f.server.logMark
        let next = try f.expcards(["fetch"])
        #expect(next.status == 0, "\(next)")
        #expect(next.stdout.contains("1 file fetched, 2 already archived"), "\(next)")
        #expect(next.stderr.contains("changed on the server"), "\(next)")
        if TestSSHServer.isRoot {
            usleep(500_000)  // internal-sftp's log lines arrive on a datagram socket
            #expect(f.server.sftpRequests(since: mark).opened.isEmpty, "nothing downloaded again")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: f.archived("\(Self.shopA)/expired"))
        let kept = names.filter { $0.hasPrefix(Self.shopANov + ".replaced-") }
        #expect(kept.count == 1, "\(names)")
        let entry = try #require(try Manifest.load(root: f.archive).files["\(Self.shopA)/expired/" + Self.shopANov])
        #expect(entry.replaced == kept, "\(entry)")
        #expect(entry.sha256 == (try sha256Hex(ofFile: f.archived("\(Self.shopA)/expired/" + Self.shopANov))))
        let verify = try f.expcards(["verify"])
        #expect(verify.status == 0, "\(verify)")
        #expect(try f.expcards(["fetch"]).stdout.contains("0 files fetched, 3 already archived"))
    }

    @Test func interruptedDownloadResumesFromItsPartialData() throws {
        let f = try Fixture()
        let name = "202611.EXP_CARDS.BIG.P.csv"
        let text = Samples.company(month: "202611", aliases: (0..<5000).map { ("alias-\($0)", "20261231") })
        let local = try f.server.write("/ROOT/expired/" + name, text)
        let attributes = try FileManager.default.attributesOfItem(atPath: local)
        let size = (attributes[.size] as! NSNumber).uint64Value
        let mtime = Int64((attributes[.modificationDate] as! Date).timeIntervalSince1970)
        // What an interrupted run leaves: the first part under a hidden name, nothing under the final one.
        let dir = f.archived("ROOT/expired")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let half = Data(text.utf8).prefix(Int(size / 2))
        try half.write(to: URL(fileURLWithPath: dir + "/.\(name).\(size)-\(mtime).part"))
        let r = try f.expcards(["fetch", "--verbose"])
        #expect(r.status == 0, "\(r)")
        #expect(
            r.stderr.contains("resuming /ROOT/expired/\(name)")
                || r.stderr.contains("resuming \(f.server.remotePath("/ROOT/expired"))/\(name)"), "\(r)")
        #expect(try String(contentsOfFile: dir + "/" + name, encoding: .utf8) == text)
        #expect(
            try Manifest.load(root: f.archive).files["ROOT/expired/" + name]?.sha256 == (try sha256Hex(ofFile: local)))
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: dir)).contains { $0.hasSuffix(".part") })
    }

    @Test func hostileEntriesAreRefusedAndNothingIsWrittenOutside() throws {
        let f = try Fixture()
        let expired = f.server.localPath("/ROOT/expired")
        // A symlink named like an EXP_CARDS file, pointing outside, and a name with a control character.
        try FileManager.default.createSymbolicLink(
            atPath: expired + "/202611.EXP_CARDS.LINK.P.csv", withDestinationPath: "/etc/passwd")
        try f.server.write(
            "/ROOT/expired/202611.EXP_CARDS.A\u{1}B.P.csv", Samples.company(month: "202611", aliases: []))
        let r = try f.expcards(["fetch"])
        // The link has an EXP_CARDS name: published, not archived, so the run fails naming it.
        #expect(r.status == 69, "\(r)")
        #expect(
            r.stdout.contains("FAILED /ROOT/expired/202611.EXP_CARDS.LINK.P.csv: a symbolic link: not followed")
                || r.stdout.contains("EXP_CARDS.LINK.P.csv: a symbolic link: not followed"), "\(r)")
        #expect(r.stderr.contains("symbolic link"), "\(r)")
        #expect(r.stderr.contains("unsafe file name"), "\(r)")
        let names = try FileManager.default.contentsOfDirectory(atPath: f.archived("ROOT/expired"))
        #expect(names == [Self.companyNov], "\(names)")
        let list = try f.expcards(["list"])
        #expect(list.stdout.contains("refused"), "\(list)")
        #expect(!list.stdout.contains("\u{1}"), "control characters are escaped")
    }

    @Test func listShowsStatesAndDaysLeft() throws {
        let f = try Fixture()
        let before = try f.expcards(["list", "--format", "json"])
        #expect(before.status == 0, "\(before)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(before.stdout.utf8)) as? [[String: Any]])
        let company = try #require(rows.first { ($0["path"] as? String)?.hasSuffix(Self.companyNov) == true })
        #expect(company["state"] as? String == "new")
        #expect(company["kind"] as? String == "company")
        let now = Int64(Date().timeIntervalSince1970)
        #expect(company["daysLeft"] as? Int == PurgeSchedule.daysLeft(for: YearMonth(year: 2026, month: 11)!, now: now))
        #expect(
            rows.contains {
                ($0["path"] as? String)?.hasSuffix("README.txt") == true && $0["state"] as? String == "ignored"
            })
        _ = try f.expcards(["fetch"])
        let after = try f.expcards(["list"])
        #expect(after.stdout.split(separator: "\n").filter { $0.hasPrefix("archived") }.count == 3, "\(after)")
    }

    @Test func runReportsAndIfNewStaysQuietOnceArchived() throws {
        let f = try Fixture()
        let r = try f.expcards(["run", "--as-of", "2026-11-27"])
        #expect(r.status == 0, "\(r)")
        // alias-b has one recurrence in the company file and none in the shop files: a warning.
        #expect(r.stdout.hasPrefix("WARNING: 1 warning · 0 expired, 1 expiring within 2 months, 1 later"), "\(r)")
        #expect(r.stdout.contains("the company file counts 1 active recurrence, the shop files list 0"))
        #expect(r.stdout.contains("alias-a"))
        #expect(r.stderr.isEmpty || !r.stderr.contains("error"), "\(r)")
        let again = try f.expcards(["run", "--if-new", "--as-of", "2026-11-27"])
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.isEmpty, "\(again)")
        try f.server.write(
            "/ROOT/expired/202612.EXP_CARDS.ACME.P.csv",
            Samples.company(month: "202612", aliases: [("alias-z", "20270131")]))
        let fresh = try f.expcards(["run", "--if-new", "--as-of", "2026-12-01"])
        #expect(fresh.status == 0, "\(fresh)")
        #expect(fresh.stdout.contains("alias-z"), "\(fresh)")
    }

    @Test func runIfNewFormatMailIsSilentWithoutANewMonth() throws {
        let f = try Fixture()
        let mail = ["--format", "mail", "--mail-to", "ops@example.com", "--as-of", "2026-11-27"]
        let first = try f.expcards(["run", "--if-new"] + mail)
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout.hasPrefix("From: expcards@"), "\(first)")
        #expect(first.stdout.contains("Content-Type: multipart/mixed"))
        let again = try f.expcards(["run", "--if-new"] + mail)
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.isEmpty, "\(again)")
    }

    @Test func runWithTheServerDownStillPrintsTheArchivesReport() throws {
        let f = try Fixture()
        #expect(try f.expcards(["fetch"]).status == 0)
        f.server.stop()
        let started = Date()
        let r = try f.expcards(["run", "--as-of", "2026-11-27"])
        #expect(r.status == 69, "\(r)")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(r.stdout.hasPrefix("FETCH FAILED"), "\(r)")
        #expect(r.stdout.contains("alias-a"), "the archive's report follows")
    }

    @Test func requireCurrentExits75UntilThisMonthsFileIsOut() throws {
        let f = try Fixture()
        let current = PurgeSchedule.currentPublishedMonth(now: Int64(Date().timeIntervalSince1970))
        let month = "\(current.year)\(current.month < 10 ? "0" : "")\(current.month)"
        let name = month + ".EXP_CARDS.ACME.P.csv"
        try? FileManager.default.removeItem(atPath: f.server.localPath("/ROOT/expired/" + Self.companyNov))
        let missing = try f.expcards(["fetch", "--require-current"])
        #expect(missing.status == 75, "\(missing)")
        #expect(missing.stdout.contains("the company file of \(current) is not published yet"), "\(missing)")
        // Without the flag the missing month is only a warning.
        let warned = try f.expcards(["fetch"])
        #expect(warned.status == 0, "\(warned)")
        #expect(warned.stderr.contains("is not on the server yet"), "\(warned)")
        try f.server.write("/ROOT/expired/" + name, Samples.company(month: month, aliases: []))
        let present = try f.expcards(["fetch", "--require-current"])
        #expect(present.status == 0, "\(present)")
    }

    @Test func aMonthMissingFromTheArchiveIsAWarning() throws {
        let f = try Fixture()
        // August and October to November archived: September's files were purged unfetched.
        try f.server.write(
            "/ROOT/expired/202608.EXP_CARDS.ACME.P.csv",
            Samples.company(month: "202608", aliases: [("alias-x", "20260831")]))
        let r = try f.expcards(["fetch"])
        #expect(r.status == 0, "\(r)")
        #expect(
            r.stderr.contains(
                "the archive has no production file of 2026-09: purged from the server before anyone fetched them"),
            "\(r)")
        #expect(!r.stderr.contains("test file of"), "\(r)")
        // Its purge (22 August, 04:00 UTC, counted from the name, not the mtime) is long past.
        #expect(r.stderr.contains("202608.EXP_CARDS.ACME.P.csv is not archived yet and its purge was due"), "\(r)")
    }

    @Test func aSecondConcurrentRunExits75AtOnce() throws {
        let f = try Fixture()
        let lock = try ArchiveLock(root: f.archive)
        let started = Date()
        let r = try f.expcards(["fetch"])
        #expect(r.status == 75, "\(r)")
        #expect(r.stderr.contains("pid \(getpid())"), "\(r)")
        #expect(Date().timeIntervalSince(started) < 10)
        withExtendedLifetime(lock) {}
    }

    @Test func hostKeyAndAuthenticationFailuresHaveTheirOwnExitCodes() throws {
        let f = try Fixture()
        let otherKnownHosts = try f.server.writeScratchFile(
            "other_known_hosts", "[127.0.0.1]:\(f.server.port) \(try f.server.unrelatedPublicKey(.ed25519))\n")
        let mismatch = try f.expcards(["fetch", "--known-hosts", otherKnownHosts])
        #expect(mismatch.status == 76, "\(mismatch)")
        let empty = try f.server.writeScratchFile("empty_known_hosts", "")
        let unknown = try f.expcards(["fetch", "--known-hosts", empty])
        #expect(unknown.status == 76, "\(unknown)")
        #expect(unknown.stderr.contains("SHA256:"), "\(unknown)")
        let otherKey = try f.server.makeUserKey(authorize: false)
        let denied = try f.expcards(["fetch", "--identity", otherKey])
        #expect(denied.status == 77, "\(denied)")
        #expect(!FileManager.default.fileExists(atPath: f.archived("ROOT/expired/" + Self.companyNov)))
    }

    @Test func verifyFindsAChangedByteAndPruneDeletesOldMonths() throws {
        let f = try Fixture()
        #expect(try f.expcards(["fetch"]).status == 0)
        #expect(try f.expcards(["verify"]).status == 0)
        let path = f.archived("ROOT/expired/" + Self.companyNov)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[10] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let verify = try f.expcards(["verify"])
        #expect(verify.status == 65, "\(verify)")
        #expect(verify.stdout.contains("CHANGED \(path)"), "\(verify)")

        // Months before (this month - 1) go; the dry run deletes nothing.
        let cutoff = YearMonth(Day.todayUTC()).adding(months: -1)
        let dry = try f.expcards(["prune", "--older-than", "1", "--dry-run"])
        #expect(dry.status == 0, "\(dry)")
        let prune = try f.expcards(["prune", "--older-than", "1"])
        #expect(prune.status == 0, "\(prune)")
        let manifest = try Manifest.load(root: f.archive)
        for key in manifest.files.keys {
            #expect(ExpCardsFileName(String(key.split(separator: "/").last!))!.month >= cutoff)
        }
        let octoberGone = YearMonth(year: 2026, month: 10)! < cutoff
        #expect(
            FileManager.default.fileExists(atPath: f.archived("\(Self.shopB)/expired/" + Self.shopBOct)) == !octoberGone
        )
    }
}

extension FetchTests {
    /// A file recorded in the manifest but deleted from the archive (by hand) is fetched again
    /// while the server still has it, with a warning; once the server no longer has it either, it
    /// is reported as lost.
    @Test func theArchiveHealsAFileDeletedByHandAndNamesOneThatIsLost() throws {
        let f = try Fixture()
        #expect(try f.expcards(["fetch"]).status == 0)
        let local = f.archived("ROOT/expired/" + Self.companyNov)
        let before = try TestSSHServer.sha256(ofFile: local)
        try FileManager.default.removeItem(atPath: local)
        let r = try f.expcards(["fetch"])
        #expect(r.status == 0, "\(r)")
        #expect(
            r.stderr.contains(
                "ROOT/expired/\(Self.companyNov) recorded in the manifest but missing from the archive: fetched again"),
            "\(r)")
        #expect(r.stdout.contains("fetched ROOT/expired/\(Self.companyNov)"), "\(r)")
        #expect(try TestSSHServer.sha256(ofFile: local) == before)
        #expect(try f.expcards(["verify"]).status == 0)

        // Gone from both sides: lost, said on every run.
        try FileManager.default.removeItem(atPath: local)
        try FileManager.default.removeItem(atPath: f.server.localPath("/ROOT/expired/" + Self.companyNov))
        let lost = try f.expcards(["fetch"])
        #expect(
            lost.stderr.contains(
                "ROOT/expired/\(Self.companyNov) is recorded in the manifest but missing from the archive, and the server no longer has it: lost"
            ), "\(lost)")
    }
}

extension FetchTests {
    /// A remote file name with a right-to-left override (U+202E) and an ESC sequence is printed
    /// escaped wherever it appears: fetch's log and summary, list.
    @Test func outsideTextInRemoteNamesIsNeutralisedOnStdoutAndStderr() throws {
        let f = try Fixture()
        try f.server.write(
            "/ROOT/expired/202611.EXP_CARDS.R\u{202E}LO.P.csv",
            Samples.company(month: "202611", aliases: [("alias-r", "20261130")]))
        try f.server.write("/ROOT/expired/note\u{1B}]0;pwned\u{07}.txt", "x\n")
        for args in [["fetch", "-v"], ["list"], ["list", "-v"], ["fetch", "-v"]] {
            let r = try f.expcards(args)
            for raw in ["\u{202E}", "\u{1B}]", "\u{07}"] {
                #expect(
                    !r.stdout.contains(raw) && !r.stderr.contains(raw),
                    "\(args): raw \(raw.unicodeScalars.first!.value) printed:\n\(r)")
            }
            if args == ["list"] { #expect(r.stdout.contains(#"\u{202E}"#), "\(r)") }
        }
    }
}
