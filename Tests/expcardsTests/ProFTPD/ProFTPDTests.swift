import ExpCardsCore
import Foundation
import SSHTestSupport
import Testing

/// `fetch`, `list` and `report` against ProFTPD's mod_sftp: a second SFTP server implementation
/// (its own listing, algorithms and authentication), next to OpenSSH's internal-sftp.
@Suite(
    .serialized,
    .enabled(
        if: TestProFTPDServer.isAvailable,
        "proftpd or its mod_sftp is not installed (make deps installs proftpd-core and proftpd-mod-crypto)")
)
struct ProFTPDTests {
    static let shopA = "12345678"
    static let shopB = "87654321"
    static let companyNov = "202611.EXP_CARDS.ACME.P.csv"
    /// Gzipped on the server, as the platform does after seven days.
    static let companyOctGz = "202610.EXP_CARDS.ACME.P.csv.gz"
    /// Several SFTP reads long (5,000 details).
    static let companyBig = "202611.EXP_CARDS.BIG.P.csv"
    static let shopANov = "202611.12345678.EXP_CARDS.Shop-A.P.csv"
    static let shopBOct = "202610.87654321.EXP_CARDS.Shop.B.P.csv"

    /// Remote path (absolute in the server) → archive path, for every EXP_CARDS file served.
    static let files: [(remote: String, archived: String)] = [
        ("/ROOT/expired/" + companyNov, "ROOT/expired/" + companyNov),
        ("/ROOT/expired/" + companyOctGz, "ROOT/expired/" + companyOctGz),
        ("/ROOT/expired/" + companyBig, "ROOT/expired/" + companyBig),
        ("/\(shopA)/expired/" + shopANov, "\(shopA)/expired/" + shopANov),
        ("/\(shopB)/expired/" + shopBOct, "\(shopB)/expired/" + shopBOct),
    ]

    /// A ProFTPD with a company directory, two shop directories, an archive and a configuration.
    final class Fixture {
        let server: TestProFTPDServer
        let dir: String
        let archive: String
        let config: String

        init(serverOptions: TestProFTPDServer.Options = .init()) throws {
            server = try TestProFTPDServer(options: serverOptions)
            dir = try scratchDirectory()
            archive = dir + "/archive"
            config = dir + "/config.yaml"
            try server.write(
                "/ROOT/expired/" + ProFTPDTests.companyNov,
                Samples.company(month: "202611", aliases: [("alias-a", "20261130"), ("alias-b", "20270131")]))
            try server.write("/ROOT/expired/README.txt", "not an EXP_CARDS file\n")
            let plainOct = try server.write(
                "/ROOT/expired/" + String(ProFTPDTests.companyOctGz.dropLast(3)),
                Samples.company(month: "202610", aliases: [("alias-c", "20261031")]))
            try TestSSHServer.run("/bin/gzip", ["-n", plainOct])
            try server.write(
                "/ROOT/expired/" + ProFTPDTests.companyBig,
                Samples.company(month: "202611", aliases: (0..<5000).map { ("alias-\($0)", "20261231") }))
            try server.write(
                "/\(ProFTPDTests.shopA)/expired/" + ProFTPDTests.shopANov,
                Samples.shop(month: "202611", shop: ProFTPDTests.shopA, aliases: [("alias-a", "20261130")]))
            try server.write(
                "/\(ProFTPDTests.shopB)/expired/" + ProFTPDTests.shopBOct,
                Samples.shop(month: "202610", shop: ProFTPDTests.shopB, aliases: [("alias-c", "20261031")]))
            try writeConfig()
        }

        /// Key authentication by default; with `password`, password only (from a 0600 file).
        func writeConfig(password: String? = nil, identityFile: String? = nil, knownHosts: String? = nil) throws {
            var yaml = """
                host: 127.0.0.1
                port: \(server.port)
                user: \(server.username)
                knownHostsFile: \(knownHosts ?? server.knownHostsPath)
                archive: \(archive)
                timeout: 10
                retries: 1

                """
            if let password {
                let file = dir + "/password"
                try password.write(toFile: file, atomically: true, encoding: .utf8)
                chmod(file, 0o600)
                yaml += "passwordFile: \(file)\n"
            } else {
                yaml += "identityFile: \(identityFile ?? server.userPrivateKeyPath)\n"
            }
            if !server.isChrooted {
                yaml += """
                    companyDirectory: \(server.remotePath("/ROOT/expired"))
                    shopDirectory: \(server.root)/%s/expired
                    shops: [\"\(ProFTPDTests.shopA)\", \"\(ProFTPDTests.shopB)\"]

                    """
            }
            try yaml.write(toFile: config, atomically: true, encoding: .utf8)
            chmod(config, 0o600)
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

    @Test func fetchDownloadsEveryFileByteIdenticalAndASecondRunNothing() throws {
        let f = try Fixture()
        let first = try f.expcards(["fetch"])
        #expect(first.status == 0, "\(first)\n\(f.server.log)")
        #expect(
            first.stdout.contains("\(Self.files.count) files fetched, 0 already archived, 0 failed"),
            "\(first)\n\(f.server.log)")
        for file in Self.files {
            let served = try TestSSHServer.sha256(ofFile: f.server.localPath(file.remote))
            let path = f.archived(file.archived)
            #expect(FileManager.default.fileExists(atPath: path), "\(file.archived) not archived\n\(first)")
            guard FileManager.default.fileExists(atPath: path) else { continue }
            #expect(try sha256Hex(ofFile: path) == served, "\(file.archived) differs from the server's copy")
        }
        #expect(!FileManager.default.fileExists(atPath: f.archived("ROOT/expired/README.txt")))
        // The manifest records each file (a .gz under the name without it) with the served SHA-256.
        let manifest = try Manifest.load(root: f.archive)
        #expect(manifest.files.count == Self.files.count, "\(manifest.files.keys.sorted())")
        let gz = try #require(manifest.files["ROOT/expired/" + String(Self.companyOctGz.dropLast(3))])
        #expect(gz.storedName == Self.companyOctGz)
        #expect(
            gz.sha256 == (try TestSSHServer.sha256(ofFile: f.server.localPath("/ROOT/expired/" + Self.companyOctGz))))
        // What the server says was opened: each file once.
        #expect(
            f.server.openedFiles.sorted() == Self.files.map { f.server.remotePath($0.remote) }.sorted(),
            "\(f.server.log)")

        let second = try f.expcards(["fetch"])
        #expect(second.status == 0, "\(second)")
        #expect(second.stdout.contains("0 files fetched, \(Self.files.count) already archived"), "\(second)")
        #expect(
            f.server.openedFiles.count == Self.files.count, "the second run opened files again: \(f.server.openedFiles)"
        )
        #expect(try Manifest.load(root: f.archive) == manifest)
    }

    /// Several connections at once, each a proftpd session: every file once, byte-identical.
    @Test func parallelFetchOpensEachFileOnce() throws {
        let f = try Fixture()
        let r = try f.expcards(["fetch", "--parallel", "3"])
        #expect(r.status == 0, "\(r)\n\(f.server.log)")
        #expect(r.stdout.contains("\(Self.files.count) files fetched, 0 already archived, 0 failed"), "\(r)")
        #expect(f.server.logins == 3, "\(f.server.log)")
        #expect(
            f.server.openedFiles.sorted() == Self.files.map { f.server.remotePath($0.remote) }.sorted(),
            "\(f.server.log)")
        for file in Self.files {
            let path = f.archived(file.archived)
            guard FileManager.default.fileExists(atPath: path) else {
                Issue.record("\(file.archived) not archived\n\(r)")
                continue
            }
            #expect(
                try sha256Hex(ofFile: path) == (try TestSSHServer.sha256(ofFile: f.server.localPath(file.remote))),
                "\(file.archived)")
        }
        #expect(try f.expcards(["verify"]).status == 0)
    }

    /// A server that allows one session per user refuses the extra connections after their
    /// login: the first connection fetches their files, and the run succeeds.
    @Test func parallelFetchFromAOneSessionServerFetchesEverything() throws {
        let f = try Fixture(serverOptions: .init(maxSessionsPerUser: 1))
        let r = try f.expcards(["fetch", "--parallel", "3"])
        #expect(r.status == 0, "\(r)\n\(f.server.log)")
        #expect(r.stdout.contains("\(Self.files.count) files fetched, 0 already archived, 0 failed"), "\(r)")
        #expect(
            f.server.openedFiles.sorted() == Self.files.map { f.server.remotePath($0.remote) }.sorted(),
            "\(f.server.log)")
        #expect(try f.expcards(["verify"]).status == 0)
        // The premise: the server did refuse the extra sessions, and expcards said so.
        #expect(f.server.log.contains("Connection refused (MaxClientsPerUser 1)"), "\(f.server.log)")
        #expect(r.stderr.contains("an extra connection could not be opened"), "\(r)")
    }

    @Test func listShowsEveryFileAndReportReadsTheArchive() throws {
        let f = try Fixture()
        let before = try f.expcards(["list", "--format", "json"])
        #expect(before.status == 0, "\(before)\n\(f.server.log)")
        let rows = try #require(
            try JSONSerialization.jsonObject(with: Data(before.stdout.utf8)) as? [[String: Any]], "\(before)")
        for file in Self.files {
            // Shop paths are relative (`<shop>/expired/...`), resolved from the login directory.
            let row = rows.first { ($0["path"] as? String).map { ("/" + $0).hasSuffix(file.remote) } == true }
            #expect(row?["state"] as? String == "new", "\(file.remote): \(String(describing: row))\n\(before.stdout)")
        }
        #expect(
            rows.contains {
                ($0["path"] as? String)?.hasSuffix("README.txt") == true && $0["state"] as? String == "ignored"
            }, "\(before.stdout)")
        #expect(rows.first { ($0["path"] as? String)?.hasSuffix(Self.shopANov) == true }?["kind"] as? String == "shop")

        #expect(try f.expcards(["fetch"]).status == 0)
        let after = try f.expcards(["list"])
        #expect(after.status == 0, "\(after)")
        #expect(
            after.stdout.split(separator: "\n").filter { $0.hasPrefix("archived") }.count == Self.files.count,
            "\(after)")

        let november = try f.expcards(["report", "--as-of", "2026-11-27"])
        #expect(november.status == 0, "\(november)")
        #expect(november.stdout.contains("alias-a"), "\(november)")
        // October's company file is only on the server gzipped: the report reads the archived .gz.
        let october = try f.expcards(["report", "--as-of", "2026-10-27", "--month", "2026-10"])
        #expect(october.status == 0, "\(october)")
        #expect(october.stdout.contains("alias-c"), "\(october)")
        #expect(!october.stdout.contains("PROBLEMS"), "\(october)")
    }

    /// mod_sftp answers READDIR about 26 entries (5 KiB) at a time: 4,000 names take some 150
    /// replies, and every one must be listed.
    @Test func aLargeDirectoryIsListedCompletely() throws {
        let f = try Fixture()
        let names = (0..<4000).map { String(format: "202611.EXP_CARDS.COMPANY-WITH-A-LONG-NAME-%04d.P.csv", $0) }
        for name in names {
            let path = f.server.localPath("/ROOT/expired/" + name)
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CLI.CLIError(description: "cannot write \(path)")
            }
        }
        let r = try f.expcards(["list", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)\n\(f.server.log.suffix(2000))")
        let rows = try #require(
            try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]], "\(r.stderr)")
        let listed = Set(rows.compactMap { ($0["path"] as? String).map { ($0 as NSString).lastPathComponent } })
        #expect(
            listed.isSuperset(of: names),
            "\(names.count - listed.intersection(names).count) of \(names.count) names missing")
        #expect(rows.count == names.count + Self.files.count + 1, "\(rows.count) rows")
        #expect(f.server.requestCount("READDIR") > 100, "the listing came in many replies")
    }

    /// A login banner (many hardened servers send one) neither stops the run nor reaches stdout.
    @Test func aLoginBannerIsNoObstacle() throws {
        let banner = "AUTHORIZED USE ONLY \(TestSSHServer.randomToken(6))\n"
        let f = try Fixture(serverOptions: .init(banner: banner))
        let r = try f.expcards(["fetch"])
        #expect(r.status == 0, "\(r)\n\(f.server.log)")
        #expect(r.stdout.contains("\(Self.files.count) files fetched"), "\(r)")
        #expect(!r.stdout.contains(banner.trimmingCharacters(in: .newlines)), "\(r)")
        // The premise: OpenSSH's client shows the banner this server sends.
        let sftp = try CLI.spawn(
            [
                "-b", "/dev/null", "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=\(f.server.knownHostsPath)", "-i",
                f.server.userPrivateKeyPath,
                "-P", String(f.server.port), "\(f.server.username)@127.0.0.1",
            ], program: "/usr/bin/sftp"
        ).wait(timeout: 30)
        #expect(sftp.stderr.contains(banner.trimmingCharacters(in: .newlines)), "\(sftp)\n\(f.server.log)")
    }

    @Test func passwordAuthentication() throws {
        let f = try Fixture()
        try f.writeConfig(password: f.server.password)
        let r = try f.expcards(["fetch"])
        #expect(r.status == 0, "\(r)\n\(f.server.log)")
        #expect(r.stdout.contains("\(Self.files.count) files fetched"), "\(r)")
        #expect(f.server.acceptedAuthenticationMethods == ["password"], "\(f.server.log)")

        let wrong = "not-the-password-" + TestSSHServer.randomToken(6)
        try f.writeConfig(password: wrong)
        let denied = try f.expcards(["fetch"])
        #expect(denied.status == 77, "\(denied)\n\(f.server.log)")
        #expect(!denied.stderr.contains(wrong) && !denied.stdout.contains(wrong), "the password is never printed")
        #expect(f.server.acceptedAuthenticationMethods == ["password"])
    }

    @Test func publicKeyAuthentication() throws {
        let f = try Fixture()
        let r = try f.expcards(["fetch"])
        #expect(r.status == 0, "\(r)\n\(f.server.log)")
        #expect(f.server.acceptedAuthenticationMethods == ["publickey"], "\(f.server.log)")
        // An ECDSA key works too (both from RFC 4716 blocks in SFTPAuthorizedUserKeys).
        let ecdsa = try f.server.makeUserKey(type: "ecdsa")
        try f.writeConfig(identityFile: ecdsa)
        let second = try f.expcards(["list"])
        #expect(second.status == 0, "\(second)\n\(f.server.log)")
        #expect(f.server.acceptedAuthenticationMethods == ["publickey", "publickey"], "\(f.server.log)")
        // An RSA key: libssh2 1.10 signs only ssh-rsa (SHA-1), which OpenSSH ≥ 8.8 refuses and
        // mod_sftp accepts; libssh2 1.11 signs rsa-sha2, which both accept.
        let rsa = try f.server.makeUserKey(type: "rsa")
        try f.writeConfig(identityFile: rsa)
        let third = try f.expcards(["list"])
        #expect(third.status == 0, "\(third)\n\(f.server.log)")
        #expect(f.server.acceptedAuthenticationMethods.count == 3, "\(f.server.log)")
        // A key the server does not know: refused, exit 77, nothing fetched.
        let stranger = try f.server.makeUserKey(authorize: false)
        try FileManager.default.removeItem(atPath: f.archive)
        try f.writeConfig(identityFile: stranger)
        let denied = try f.expcards(["fetch"])
        #expect(denied.status == 77, "\(denied)\n\(f.server.log)")
        #expect(!FileManager.default.fileExists(atPath: f.archived("ROOT/expired/" + Self.companyNov)))
    }

    /// Each host key type alone in known_hosts is found and matched (the server offers all three;
    /// an RSA key is proved with rsa-sha2 under libssh2 1.11, and under 1.10 only with ssh-rsa,
    /// a weak algorithm); a changed key and an unknown host are refused with exit 76 before
    /// anything is read.
    @Test func hostKeyIsCheckedAgainstKnownHosts() throws {
        let f = try Fixture()
        let rsaSHA2 =
            try #require(try CLI.libssh2Version(), "expcards --version names no libssh2 version")
            .lexicographicallyPrecedes([1, 11]) == false
        for type in TestProFTPDServer.HostKeyType.allCases {
            let knownHosts = try f.server.writeScratchFile(
                "known_hosts_\(type.rawValue)", try f.server.knownHostsEntries(types: [type]))
            try f.writeConfig(knownHosts: knownHosts)
            let r = try f.expcards(["list", "--verbose"])
            if type == .rsa && !rsaSHA2 {
                #expect(r.status == 76, "known_hosts with only the RSA key, libssh2 1.10: \(r)")
                #expect(
                    r.stderr.contains("known_hosts holds only ssh-rsa keys for 127.0.0.1, which libssh2 1.10"), "\(r)")
                let weak = try f.expcards(["list", "--verbose", "--insecure-allow-weak-algorithms"])
                #expect(weak.status == 0, "\(weak)\n\(f.server.log)")
                #expect(weak.stderr.contains(", host key ssh-rsa, "), "\(weak)")
                continue
            }
            #expect(r.status == 0, "known_hosts with only the \(type.algorithm) key: \(r)\n\(f.server.log)")
            if type == .rsa { #expect(r.stderr.contains(", host key rsa-sha2-512, "), "\(r)") }
        }
        let port = f.server.port
        for type in TestProFTPDServer.HostKeyType.allCases {
            let changed = try f.server.writeScratchFile(
                "changed_\(type.rawValue)", "[127.0.0.1]:\(port) \(try f.server.unrelatedPublicKey(type))\n")
            try f.writeConfig(knownHosts: changed)
            let mismatch = try f.expcards(["fetch"])
            #expect(mismatch.status == 76, "a changed \(type.algorithm) key: \(mismatch)")
        }
        let empty = try f.server.writeScratchFile("empty_known_hosts", "")
        try f.writeConfig(knownHosts: empty)
        let unknown = try f.expcards(["fetch"])
        #expect(unknown.status == 76, "\(unknown)")
        #expect(unknown.stderr.contains("SHA256:"), "the refusal shows the server's fingerprint: \(unknown)")
        #expect(
            f.server.openedFiles.isEmpty, "nothing read from a server that was not trusted: \(f.server.openedFiles)")
        #expect(!FileManager.default.fileExists(atPath: f.archived("ROOT/expired/" + Self.companyNov)))
    }
}
