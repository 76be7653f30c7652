import ExpCardsCore
import Foundation
import SSHTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A hostile SFTP server (Tests/tools/hostile_sftp_server.py, paramiko) and a TCP fault proxy
/// (Tests/tools/fault_proxy.py) in front of the real test sshd: unsafe names, symbolic links,
/// a file that grows, a huge listing, cuts, stalls, refusals and a slow link. Every run is bounded
/// in time; every helper process is killed when its test ends.
@Suite(.serialized) struct HostileServerTests {
    static let python = "/usr/bin/python3"
    static let tools = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("tools").path

    static let hasPython: Bool = FileManager.default.isExecutableFile(atPath: python)
    /// Debian's python3-paramiko, for the hostile server (the proxy needs only the standard library).
    static let hasParamiko: Bool = {
        guard hasPython, let r = try? CLI.spawn(["-c", "import paramiko"], program: python).wait(timeout: 30) else {
            return false
        }
        return r.status == 0
    }()

    static let validName = "202611.EXP_CARDS.OK.P.csv"
    static let growingName = "202611.EXP_CARDS.GROW.P.csv"

    // MARK: Helper processes

    /// A Python helper that prints `PORT <n>` (and maybe `HOSTKEY <alg> <base64>`) once listening.
    final class Helper {
        let running: CLI.Running
        let port: Int
        let hostKey: String?
        private var stopped: String?

        init(_ script: String, _ arguments: [String], startTimeout: TimeInterval = 30) throws {
            running = try CLI.spawn(
                [HostileServerTests.tools + "/" + script] + arguments, program: HostileServerTests.python)
            let deadline = Date().addingTimeInterval(startTimeout)
            var port: Int?
            var key: String?
            while Date() < deadline {
                let text = (try? String(contentsOfFile: running.dir + "/stdout", encoding: .utf8)) ?? ""
                for line in text.split(separator: "\n") {
                    if line.hasPrefix("PORT ") { port = Int(line.dropFirst(5)) }
                    if line.hasPrefix("HOSTKEY ") { key = String(line.dropFirst(8)) }
                }
                if port != nil { break }
                usleep(20_000)
            }
            guard let port else {
                let log = (try? String(contentsOfFile: running.dir + "/stderr", encoding: .utf8)) ?? ""
                kill(running.pid, SIGKILL)
                _ = running.wait(timeout: 10)
                throw CLI.CLIError(description: "\(script) printed no PORT within \(startTimeout) s:\n\(log)")
            }
            self.port = port
            self.hostKey = key
        }

        /// What it said on stderr so far (or when it was stopped).
        var log: String { stopped ?? ((try? String(contentsOfFile: running.dir + "/stderr", encoding: .utf8)) ?? "") }

        /// SIGTERM, and it must be gone within 5 s (else SIGKILL, and the test fails).
        func stop() {
            guard stopped == nil else { return }
            kill(running.pid, SIGTERM)
            var raw: Int32 = 0
            let deadline = Date().addingTimeInterval(5)
            var reaped = false
            while Date() < deadline {
                if waitpid(running.pid, &raw, WNOHANG) == running.pid {
                    reaped = true
                    break
                }
                usleep(10_000)
            }
            if !reaped {
                Issue.record("helper \(running.arguments.prefix(2)) still running 5 s after SIGTERM: killed")
                kill(running.pid, SIGKILL)
                waitpid(running.pid, &raw, 0)
            }
            // Already reaped: this only collects what it printed and removes its directory.
            stopped = running.wait(timeout: 1).stderr
        }

        deinit { stop() }
    }

    // MARK: Hostile server fixture

    /// A scratch directory with a user key, the config, and the archive two levels down, so that
    /// anything written outside the archive shows up in the walk.
    final class HostileFixture {
        let dir: String
        let archive: String
        let config: String
        let server: Helper

        /// `knobs`: extra arguments for the server (the `quirks` scenario's options).
        init(scenario: String, knobs: [String] = []) throws {
            dir = try scratchDirectory()
            archive = dir + "/work/archive"
            config = dir + "/config.yaml"
            try TestSSHServer.run(
                "/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", dir + "/user"])
            server = try Helper(
                "hostile_sftp_server.py",
                [scenario, "--user", "lyra", "--authorized-key", dir + "/user.pub", "--lifetime", "120"] + knobs)
            guard let key = server.hostKey else { throw CLI.CLIError(description: "no HOSTKEY line") }
            try "[127.0.0.1]:\(server.port) \(key)\n".write(
                toFile: dir + "/known_hosts", atomically: true, encoding: .utf8)
            try """
            host: 127.0.0.1
            port: \(server.port)
            user: lyra
            identityFile: \(dir)/user
            knownHostsFile: \(dir)/known_hosts
            archive: \(archive)
            timeout: 5
            retries: 1
            companyDirectory: /ROOT/expired
            shopDirectory: "%s/expired"

            """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        func expcards(_ args: [String], timeout: TimeInterval = 60) throws -> CLI.Result {
            try CLI.run(args + ["--config", config], timeout: timeout)
        }

        /// Every path under the scratch directory, relative to it.
        func walk() -> [String] {
            (FileManager.default.subpaths(atPath: dir) ?? []).sorted()
        }

        /// Every path the scratch directory may hold after a run that archived only `names`.
        func expected(archived names: [String]) -> [String] {
            ([
                "config.yaml", "known_hosts", "user", "user.pub", "work", "work/archive", "work/archive/.lock",
                "work/archive/manifest.json", "work/archive/ROOT", "work/archive/ROOT/expired",
            ]
                + names.map { "work/archive/ROOT/expired/" + $0 }).sorted()
        }

        /// The paths the server was asked to open.
        var opened: [String] {
            server.log.split(separator: "\n").compactMap { line in
                guard let r = line.range(of: "hostile_sftp_server: open ") else { return nil }
                return String(line[r.upperBound...])
            }
        }

        deinit {
            server.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    // MARK: Hostile server

    @Test(
        .enabled(if: hasParamiko, "/usr/bin/python3 has no paramiko (apt-get install python3-paramiko)"),
        .timeLimit(.minutes(2)))
    func unsafeNamesAreRefusedAndNothingIsWrittenOutsideTheArchive() throws {
        let f = try HostileFixture(scenario: "names")
        let r = try f.expcards(["fetch"])
        #expect(r.status == 0, "\(r)\n\(f.server.log)")
        #expect(r.stdout.contains("fetched ROOT/expired/\(Self.validName)"), "\(r)")
        #expect(r.stdout.contains("1 file fetched, 0 already archived, 0 failed"), "\(r)")
        // Each hostile name is refused by name, escaped (no raw control character reaches the log).
        for shown in [
            #""../202611.EXP_CARDS.ESC.P.csv""#, #""../../202611.EXP_CARDS.ESC2.P.csv""#, #""a/b.csv""#,
            #""a/202611.EXP_CARDS.SUB.P.csv""#, #""202611.EXP_CARDS.A\nB.P.csv""#, #""/etc/passwd""#,
            #""/tmp/202611.EXP_CARDS.ABS.P.csv""#, #"".hidden.csv""#, #"".202611.EXP_CARDS.HID.P.csv""#,
            #""..\\202611.EXP_CARDS.BSL.P.csv""#,
        ] {
            #expect(
                r.stderr.contains("unsafe file name \(shown): refused, nothing written"), "\(shown) not refused:\n\(r)")
        }
        #expect(r.stderr.components(separatedBy: "unsafe file name").count - 1 == 11, "\(r)")
        #expect(!r.stderr.contains("\u{1B}["), "a raw escape sequence reached the log")
        #expect(!r.stderr.contains("A\nB"), "a raw newline reached the log")
        // Only the valid file was ever opened on the server.
        #expect(f.opened == ["'/ROOT/expired/\(Self.validName)'"], "\(f.server.log)")
        // Nothing outside the archive, nothing but the valid file inside.
        #expect(f.walk() == f.expected(archived: [Self.validName]), "\(f.walk())")
        // Not a digest of /etc/passwd: other tests on the machine add and remove users meanwhile.
        // What the server serves for every hostile name is a file whose only alias is INTRUDER.
        let passwd = (try? String(contentsOfFile: "/etc/passwd", encoding: .utf8)) ?? ""
        #expect(!passwd.contains("INTRUDER") && !passwd.contains("EXP_CARDS"), "/etc/passwd was written")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/202611.EXP_CARDS.ABS.P.csv"))
        #expect(try Manifest.load(root: f.archive).files.keys.sorted() == ["ROOT/expired/" + Self.validName])

        // `list` shows them as refused, escaped.
        let list = try f.expcards(["list", "--format", "json"])
        #expect(list.status == 0, "\(list)")
        let rows = try #require(
            try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]], "\(list)")
        #expect(rows.filter { $0["state"] as? String == "refused" }.count == 11, "\(list)")
        let text = try f.expcards(["list"])
        #expect(!text.stdout.contains("\u{1B}["), "\(text)")
        #expect(text.stdout.split(separator: "\n").filter { $0.hasPrefix("refused") }.count == 11, "\(text)")
        // A second run: the same refusals, nothing new written.
        let again = try f.expcards(["fetch"])
        #expect(again.status == 0, "\(again)")
        #expect(again.stdout.contains("0 files fetched, 1 already archived, 0 failed"), "\(again)")
        #expect(f.walk() == f.expected(archived: [Self.validName]), "\(f.walk())")
    }

    @Test(
        .enabled(if: hasParamiko, "/usr/bin/python3 has no paramiko (apt-get install python3-paramiko)"),
        .timeLimit(.minutes(2)))
    func aSymbolicLinkAndAFIFONamedLikeEXPCARDSFilesAreRefused() throws {
        let f = try HostileFixture(scenario: "symlink")
        let r = try f.expcards(["fetch"])
        // Published and not archived: the run fails and names both (never a silent success).
        #expect(r.status == 69, "\(r)\n\(f.server.log)")
        #expect(
            r.stdout.contains("FAILED /ROOT/expired/202611.EXP_CARDS.LINK.P.csv: a symbolic link: not followed"), "\(r)"
        )
        #expect(r.stdout.contains("FAILED /ROOT/expired/202611.EXP_CARDS.FIFO.P.csv: not a regular file"), "\(r)")
        #expect(r.stderr.contains("/ROOT/expired/202611.EXP_CARDS.LINK.P.csv: a symbolic link: not followed"), "\(r)")
        #expect(r.stderr.contains("/ROOT/expired/202611.EXP_CARDS.FIFO.P.csv: not a regular file"), "\(r)")
        #expect(f.opened == ["'/ROOT/expired/\(Self.validName)'"], "the link was not followed: \(f.server.log)")
        #expect(f.walk() == f.expected(archived: [Self.validName]), "\(f.walk())")
        let list = try f.expcards(["list"])
        #expect(list.stdout.contains("a symbolic link: not followed"), "\(list)")
    }

    @Test(
        .enabled(if: hasParamiko, "/usr/bin/python3 has no paramiko (apt-get install python3-paramiko)"),
        .timeLimit(.minutes(2)))
    func aFileThatGrowsDuringTheDownloadIsNotArchivedAndIsReported() throws {
        let f = try HostileFixture(scenario: "growing")
        let r = try f.expcards(["fetch"])
        #expect(r.status == 69, "\(r)\n\(f.server.log)")
        #expect(r.stdout.contains("FAILED /ROOT/expired/\(Self.growingName)"), "\(r)")
        #expect(r.stdout.contains("where the server announced"), "\(r)")
        #expect(
            r.stdout.contains("1 file fetched, 0 already archived, 1 failed"), "the other file is still fetched: \(r)")
        // Not under its final name, no partial data of a mix kept, not in the manifest.
        #expect(f.walk() == f.expected(archived: [Self.validName]), "\(f.walk())")
        #expect(try Manifest.load(root: f.archive).files["ROOT/expired/" + Self.growingName] == nil)
        // The next run tries again and fails the same way: loudly.
        let again = try f.expcards(["fetch"])
        #expect(again.status == 69, "\(again)")
        #expect(again.stdout.contains("FAILED /ROOT/expired/\(Self.growingName)"), "\(again)")
        #expect(f.walk() == f.expected(archived: [Self.validName]), "\(f.walk())")
    }

    @Test(
        .enabled(if: hasParamiko, "/usr/bin/python3 has no paramiko (apt-get install python3-paramiko)"),
        .timeLimit(.minutes(2)))
    func aTenThousandEntryListingIsListedWhole() throws {
        let f = try HostileFixture(scenario: "huge")
        let started = Date()
        let r = try f.expcards(["list", "--format", "json"], timeout: 60)
        let took = Date().timeIntervalSince(started)
        #expect(r.status == 0, "\(r.status)\n\(r.stderr.prefix(2000))\n\(f.server.log.suffix(2000))")
        let rows = try #require(
            try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]], "\(r.stderr.prefix(2000))")
        #expect(rows.count == 10_000, "listed \(rows.count) of 10000")
        let names = Set(rows.compactMap { ($0["path"] as? String)?.split(separator: "/").last.map(String.init) })
        #expect(names.count == 10_000)
        #expect(names.contains("202612.EXP_CARDS.C00000.P.csv") && names.contains("202612.EXP_CARDS.C09999.P.csv"))
        #expect(took < 30, "took \(took) s")
        // And a dry run sees every one of them.
        let dry = try f.expcards(["fetch", "--dry-run"], timeout: 60)
        #expect(dry.status == 0, "\(dry.status)\n\(dry.stderr.prefix(2000))")
        #expect(dry.stdout.contains("10000 files would fetch"), "\(dry.stdout.suffix(500))")
    }

    /// 10,000 entries in ONE SSH_FXP_NAME reply (about 1.5 MB): libssh2 1.10 refuses SFTP packets
    /// over 256 KiB. It must fail loudly (exit 69, no partial listing), within the timeout.
    @Test(
        .enabled(if: hasParamiko, "/usr/bin/python3 has no paramiko (apt-get install python3-paramiko)"),
        .enabled(
            if: !LinkedLibSSH2.isAtLeast(1, 11),
            "libssh2 1.11 takes this reply: aListingInOneHugeReplyIsListedWholeUnderLibSSH2_1_11 tests that"),
        .timeLimit(.minutes(2)))
    func aListingInOneHugeReplyFailsLoudlyNotTruncated() throws {
        let f = try HostileFixture(scenario: "huge-batch")
        let started = Date()
        let r = try f.expcards(["list", "--format", "json"], timeout: 60)
        let took = Date().timeIntervalSince(started)
        #expect(r.status == 69, "\(r)")
        #expect(r.stdout.isEmpty, "no partial listing: \(r.stdout.prefix(500))")
        #expect(r.stderr.contains("listing /ROOT/expired"), "\(r)")
        #expect(took < 5 + 10, "took \(took) s")
        let fetch = try f.expcards(["fetch", "--retries", "0"], timeout: 60)
        #expect(fetch.status == 69, "\(fetch)")
        #expect(
            !FileManager.default.fileExists(atPath: f.archive + "/ROOT"), "nothing fetched from a listing that failed")
    }

    /// The error for that huge reply names the limit it hit, not libssh2's misleading
    /// "Timeout waiting for status message" for LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED.
    @Test(
        .enabled(if: hasParamiko, "/usr/bin/python3 has no paramiko"),
        .enabled(if: !LinkedLibSSH2.isAtLeast(1, 11), "libssh2 1.11 has no such limit for this reply"),
        .timeLimit(.minutes(2)))
    func aListingInOneHugeReplyNamesTheLimit() throws {
        let f = try HostileFixture(scenario: "huge-batch")
        let r = try f.expcards(["list"], timeout: 60)
        #expect(r.status == 69, "\(r)")
        #expect(r.stderr.contains("256 KiB") || r.stderr.contains("too large"), "\(r)")
        #expect(!r.stderr.contains("Timeout"), "nothing timed out: \(r)")
    }

    // MARK: Fault proxy in front of the real sshd

    /// A config and known_hosts that reach the fixture's sshd through `proxy`.
    static func configThrough(_ proxy: Helper, _ f: FetchTests.Fixture) throws -> String {
        let knownHosts = f.dir + "/known_hosts.proxy"
        let entries = try f.server.knownHostsEntries()
            .replacingOccurrences(of: "[127.0.0.1]:\(f.server.port) ", with: "[127.0.0.1]:\(proxy.port) ")
        try entries.write(toFile: knownHosts, atomically: true, encoding: .utf8)
        let config = f.dir + "/config.proxy.yaml"
        let yaml = try String(contentsOfFile: f.config, encoding: .utf8)
            .replacingOccurrences(of: "port: \(f.server.port)\n", with: "port: \(proxy.port)\n")
            .replacingOccurrences(
                of: "knownHostsFile: \(f.server.knownHostsPath)\n", with: "knownHostsFile: \(knownHosts)\n")
        #expect(yaml.contains("port: \(proxy.port)\n") && yaml.contains(knownHosts))
        try yaml.write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    static let bigName = "202611.87654321.EXP_CARDS.BIG.P.csv"
    static let bigRemote = "/87654321/expired/" + bigName
    static let bigArchived = "87654321/expired/" + bigName

    /// A random 24 MiB shop file on the server (archived and flagged damaged: exit 65); its local path.
    ///
    /// Big because libssh2 1.10 asks for 4 read buffers (about 8 MB) ahead and hands back nothing
    /// until they are all requested: a cut in the first 8 MB leaves no byte on disk to resume from.
    static func writeBig(_ f: FetchTests.Fixture) throws -> String {
        try f.server.writeRandomFile(bigRemote, size: 24 << 20)
    }

    /// A valid company file of about `aliases` × 53 bytes, on the server; returns its local path.
    static func writeValid(_ f: FetchTests.Fixture, aliases: Int) throws -> String {
        let text = Samples.company(month: "202611", aliases: (0..<aliases).map { ("alias-\($0)", "20261231") })
        return try f.server.write("/ROOT/expired/202611.EXP_CARDS.BIG.P.csv", text)
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.intValue ?? -1
    }

    @Test(.enabled(if: hasPython, "no /usr/bin/python3"), .timeLimit(.minutes(3)))
    func aProxyCutMidDownloadIsRetriedResumedAndByteIdentical() throws {
        let f = try FetchTests.Fixture()
        let remote = try Self.writeBig(f)
        // Only the first connection is cut, after 12 MB from the server: well past the handshake, the
        // listing and libssh2's 8 MB read-ahead, so some data is on disk at the cut.
        let proxy = try Helper(
            "fault_proxy.py",
            [
                "--target-port", String(f.server.port), "--cut-connections", "1", "--lifetime", "150", "cut-after",
                "12000000",
            ])
        defer { proxy.stop() }
        let config = try Self.configThrough(proxy, f)
        let r = try CLI.run(
            ["fetch", "--config", config, "--retries", "3", "--timeout", "5", "--verbose"], timeout: 120)
        // 65: the file is random bytes, archived and flagged as damaged.
        #expect(r.status == 65, "\(r)\n\(proxy.log)")
        #expect(proxy.log.contains("connection 1: cut after 12000000 bytes"), "\(proxy.log)")
        #expect(r.stderr.contains("retry 1 of 3"), "\(r)")
        #expect(r.stderr.contains("resuming"), "\(r)")
        let final = f.archived(Self.bigArchived)
        #expect(try sha256Hex(ofFile: final) == (try sha256Hex(ofFile: remote)))
        #expect(try Manifest.load(root: f.archive).files[Self.bigArchived]?.sha256 == (try sha256Hex(ofFile: remote)))
        #expect(
            !(try FileManager.default.contentsOfDirectory(atPath: f.archived("87654321/expired"))).contains {
                $0.hasSuffix(".part")
            })
        #expect(try f.expcards(["verify"]).status == 0)
    }

    @Test(.enabled(if: hasPython, "no /usr/bin/python3"), .timeLimit(.minutes(2)))
    func aProxyCutWithNoRetryLeft69KeepsThePartialDataForTheNextRun() throws {
        let f = try FetchTests.Fixture()
        let remote = try Self.writeBig(f)
        let proxy = try Helper(
            "fault_proxy.py", ["--target-port", String(f.server.port), "--lifetime", "100", "cut-after", "12000000"])
        defer { proxy.stop() }
        let config = try Self.configThrough(proxy, f)
        let r = try CLI.run(["fetch", "--config", config, "--retries", "0", "--timeout", "5"], timeout: 90)
        #expect(r.status == 69, "\(r)\n\(proxy.log)")
        #expect(r.stdout.contains("FAILED"), "\(r)")
        let dir = f.archived("87654321/expired")
        #expect(!FileManager.default.fileExists(atPath: dir + "/" + Self.bigName), "nothing under the final name")
        let parts = (try FileManager.default.contentsOfDirectory(atPath: dir)).filter {
            $0.hasPrefix("." + Self.bigName) && $0.hasSuffix(".part")
        }
        #expect(parts.count == 1 && Self.size(dir + "/" + parts[0]) > 0, "the partial data is kept: \(parts)")
        #expect(try Manifest.load(root: f.archive).files[Self.bigArchived] == nil)
        // Straight to the server, the next run completes it (65: random bytes, flagged).
        let again = try f.expcards(["fetch", "--verbose"])
        #expect(again.status == 65, "\(again)")
        #expect(again.stderr.contains("resuming"), "\(again)")
        #expect(try sha256Hex(ofFile: dir + "/" + Self.bigName) == (try sha256Hex(ofFile: remote)))
    }

    @Test(.enabled(if: hasPython, "no /usr/bin/python3"), .timeLimit(.minutes(2)))
    func aProxyThatRefusesExits69WithinTheTimeoutAndRunStillReports() throws {
        let f = try FetchTests.Fixture()
        // Something archived earlier, for `run` to report from.
        #expect(try f.expcards(["fetch"]).status == 0)
        let proxy = try Helper(
            "fault_proxy.py", ["--target-port", String(f.server.port), "--lifetime", "100", "refuse"])
        defer { proxy.stop() }
        let config = try Self.configThrough(proxy, f)
        let started = Date()
        let r = try CLI.run(["fetch", "--config", config, "--retries", "1", "--timeout", "5"], timeout: 60)
        let took = Date().timeIntervalSince(started)
        #expect(r.status == 69, "\(r)\n\(proxy.log)")
        #expect(took < 2 * 5 + 1 + 5, "took \(took) s")
        #expect(proxy.log.contains("connection 2: refused"), "retried once: \(proxy.log)")
        let run = try CLI.run(
            ["run", "--config", config, "--retries", "0", "--timeout", "5", "--as-of", "2026-11-27"], timeout: 60)
        #expect(run.status == 69, "\(run)")
        #expect(run.stdout.contains("FETCH FAILED (exit 69)"), "\(run)")
        #expect(run.stdout.contains("alias-a"), "the report is from the archive: \(run)")
    }

    @Test(.enabled(if: hasPython, "no /usr/bin/python3"), .timeLimit(.minutes(2)))
    func aProxyThatStallsIsGivenUpWithinTheTimeout() throws {
        let f = try FetchTests.Fixture()
        _ = try Self.writeBig(f)
        let proxy = try Helper(
            "fault_proxy.py", ["--target-port", String(f.server.port), "--lifetime", "100", "stall-after", "1000000"])
        defer { proxy.stop() }
        let config = try Self.configThrough(proxy, f)
        let timeout = 3
        let started = Date()
        let r = try CLI.run(["fetch", "--config", config, "--retries", "0", "--timeout", String(timeout)], timeout: 60)
        let took = Date().timeIntervalSince(started)
        #expect(r.status == 69, "\(r)\n\(proxy.log)")
        #expect(proxy.log.contains("stalled after 1000000 bytes"), "\(proxy.log)")
        #expect(took < Double(timeout) + 8, "gave up after \(took) s")
        #expect(!FileManager.default.fileExists(atPath: f.archived(Self.bigArchived)))
    }

    @Test(.enabled(if: hasPython, "no /usr/bin/python3"), .timeLimit(.minutes(2)))
    func aThrottledLinkCompletes() throws {
        let f = try FetchTests.Fixture()
        let remote = try Self.writeValid(f, aliases: 20_000)
        let total = Self.size(remote)
        let rate = 1_000_000
        let proxy = try Helper(
            "fault_proxy.py", ["--target-port", String(f.server.port), "--lifetime", "100", "throttle", String(rate)])
        defer { proxy.stop() }
        let config = try Self.configThrough(proxy, f)
        let started = Date()
        let r = try CLI.run(["fetch", "--config", config, "--timeout", "5"], timeout: 90)
        let took = Date().timeIntervalSince(started)
        #expect(r.status == 0, "\(r)\n\(proxy.log)")
        #expect(took > Double(total) / Double(rate) * 0.8, "the link was throttled: \(took) s for \(total) bytes")
        #expect(
            try sha256Hex(ofFile: f.archived("ROOT/expired/202611.EXP_CARDS.BIG.P.csv"))
                == (try sha256Hex(ofFile: remote)))
    }

    /// X.csv and X.csv.gz (the platform compresses files after 7 days) downloaded at the same time
    /// by two connections: neither clears the other's partial file.
    @Test(.enabled(if: hasPython, "no /usr/bin/python3"), .timeLimit(.minutes(3)))
    func parallelDownloadsOfAFileAndItsGzipKeepEachOthersPartialFile() throws {
        let f = try FetchTests.Fixture()
        let dir = "/ROOT/expired/"
        try f.server.write(
            dir + "202609.EXP_CARDS.ACME.P.csv", Samples.company(month: "202609", aliases: [("alias-x", "20261130")]))
        // The biggest goes to one connection, the others to the second, which starts on X.csv
        // while the first is still writing X.csv.gz's partial file through the slow link.
        let gz = try f.server.writeRandomFile(dir + "202610.EXP_CARDS.ACME.P.csv.gz", size: 8 << 20)
        let plain = try f.server.writeRandomFile(dir + "202610.EXP_CARDS.ACME.P.csv", size: 2 << 20)
        let proxy = try Helper(
            "fault_proxy.py", ["--target-port", String(f.server.port), "--lifetime", "150", "throttle", "2000000"])
        defer { proxy.stop() }
        let config = try Self.configThrough(proxy, f)
        let r = try CLI.run(["fetch", "--config", config, "--parallel", "2", "--timeout", "10"], timeout: 140)
        // Random bytes are not EXP_CARDS data: archived and flagged (65), not a local I/O error (74).
        #expect(r.status == 65, "\(r)\n\(proxy.log)")
        #expect(r.stdout.contains("6 files fetched, 0 already archived, 0 failed"), "\(r)")
        #expect(
            try sha256Hex(ofFile: f.archived("ROOT/expired/202610.EXP_CARDS.ACME.P.csv.gz"))
                == (try sha256Hex(ofFile: gz)))
        #expect(
            try sha256Hex(ofFile: f.archived("ROOT/expired/202610.EXP_CARDS.ACME.P.csv"))
                == (try sha256Hex(ofFile: plain)))
    }

    /// A long run saves its manifest as it goes (every 5 s), not only at the end, also while one
    /// long file downloads: what a kill leaves is recorded.
    @Test(.enabled(if: hasPython, "no /usr/bin/python3"), .timeLimit(.minutes(3)))
    func aLongRunSavesItsManifestAsItGoes() throws {
        let f = try FetchTests.Fixture()
        // At 1 MB/s: the first file is in place after ~1 s, before a save is due (5 s after the
        // start); the second then takes ~20 s, during which the save falls due.
        let short = "202606.EXP_CARDS.ACME.P.csv"
        let long = "202607.EXP_CARDS.ACME.P.csv"
        try f.server.writeRandomFile("/ROOT/expired/" + short, size: 1 << 20)
        try f.server.writeRandomFile("/ROOT/expired/" + long, size: 20 << 20)
        let proxy = try Helper(
            "fault_proxy.py", ["--target-port", String(f.server.port), "--lifetime", "150", "throttle", "1000000"])
        defer { proxy.stop() }
        let config = try Self.configThrough(proxy, f)
        let running = try CLI.spawn(["fetch", "--config", config, "--timeout", "10"])
        defer {
            kill(running.pid, SIGKILL)
            _ = running.wait(timeout: 30)
            _ = f.server.killSessions()
        }
        let first = f.archived("ROOT/expired/" + short)
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: first) && Date() < deadline { usleep(10_000) }
        #expect(FileManager.default.fileExists(atPath: first), "the first file was not archived within 60 s")
        sleep(7)
        #expect(
            !FileManager.default.fileExists(atPath: f.archived("ROOT/expired/" + long)),
            "the long file is still downloading")
        let manifest = try Manifest.load(root: f.archive)
        #expect(
            manifest.files["ROOT/expired/" + short] != nil,
            "7 s after the first file was in place: \(manifest.files.keys.sorted())")
    }

    /// `--parallel`: an extra connection that fails to list its share is not retried inside the
    /// listing's own retries (they would multiply); the first connection lists that share.
    @Test(
        .enabled(
            if: hasPython && TestSSHServer.isRoot, "needs /usr/bin/python3, and root: shops found by listing the chroot"
        ), .timeLimit(.minutes(3)))
    func listingRetriesDoNotMultiplyWithParallelConnections() throws {
        let f = try FetchTests.Fixture()
        let shops = (0..<16).map { String(30_000_000 + $0) }
        for (i, shop) in shops.enumerated() {
            try f.server.write(
                "/\(shop)/expired/202611.\(shop).EXP_CARDS.S.P.csv",
                Samples.shop(month: "202611", shop: shop, aliases: [("alias-\(shop)", "20261130")]))
            // Big listings in the second half: whoever lists them crosses the proxy's cut.
            if i >= 10 {
                for j in 0..<300 {
                    try f.server.write("/\(shop)/expired/junk-\(j)-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.txt", "x")
                }
            }
        }
        let proxy = try Helper(
            "fault_proxy.py", ["--target-port", String(f.server.port), "--lifetime", "150", "cut-after", "60000"])
        defer { proxy.stop() }
        let config = try Self.configThrough(proxy, f)
        let retries = 3
        let r = try CLI.run(
            ["fetch", "--config", config, "--parallel", "2", "--timeout", "5", "--retries", String(retries)],
            timeout: 120)
        #expect(r.status == 69, "\(r)")
        // Every attempt of the listing: the first connection and one extra, at most.
        let connections = proxy.log.split(separator: "\n").filter { $0.hasSuffix(": cut-after") }.count
        #expect(connections <= 2 * (retries + 1), "\(connections) connections\n\(proxy.log)")
        #expect(r.stderr.contains("listed on the first connection"), "\(r)")
    }

    /// `--parallel`: a file the server will not let us read fails alone, named; the other
    /// connection's (throttled) download goes on and is archived; the run exits 69. (An error that
    /// ends the run stopping every connection at once is FetcherTests' business.)
    @Test(.enabled(if: hasPython, "no /usr/bin/python3"), .timeLimit(.minutes(3)))
    func aFileTheServerRefusesFailsAloneWithParallelConnections() throws {
        let f = try FetchTests.Fixture()
        #expect(try f.expcards(["fetch"]).status == 0)
        // 1 MB/s per connection: the 3 MB file takes 3 s, the refusal comes at once.
        try f.server.writeRandomFile("/ROOT/expired/202609.EXP_CARDS.ACME.P.csv", size: 3 << 20)
        let locked = try f.server.write(
            "/ROOT/expired/202610.EXP_CARDS.ACME.P.csv",
            Samples.company(month: "202610", aliases: [("alias-z", "20261130")]))
        chmod(locked, 0)
        let proxy = try Helper(
            "fault_proxy.py", ["--target-port", String(f.server.port), "--lifetime", "150", "throttle", "1000000"])
        defer { proxy.stop() }
        let config = try Self.configThrough(proxy, f)
        let r = try CLI.run(["fetch", "--config", config, "--parallel", "2", "--timeout", "10"], timeout: 90)
        #expect(r.status == 69, "\(r)")
        #expect(
            r.stdout.contains(
                "FAILED /ROOT/expired/202610.EXP_CARDS.ACME.P.csv: /ROOT/expired/202610.EXP_CARDS.ACME.P.csv: permission denied"
            ), "\(r)")
        let names = try FileManager.default.contentsOfDirectory(atPath: f.archived("ROOT/expired"))
        #expect(names.contains("202609.EXP_CARDS.ACME.P.csv"), "the other download completed: \(names)")
        #expect(try Manifest.load(root: f.archive).files["ROOT/expired/202609.EXP_CARDS.ACME.P.csv"] != nil)
    }
}
