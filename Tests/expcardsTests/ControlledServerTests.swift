import ExpCardsCore
import Foundation
import SSHTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Standards-following servers that differ from OpenSSH: the paramiko server's `quirks` scenario
/// (Tests/tools/hostile_sftp_server.py) serves a company file and three shop files, and each knob
/// turns on one quirk seen on real servers. Whatever the quirk, every file is archived whole, or
/// the run fails naming what it could not archive: never a silent empty fetch.
@Suite(.serialized) struct ControlledServerTests {
    static let enabled = HostileServerTests.hasParamiko
    static let reason: Comment = "/usr/bin/python3 has no paramiko (apt-get install python3-paramiko)"
    static let company = "ROOT/expired/202611.EXP_CARDS.QUIRK.P.csv"
    static let shops = ["12345678", "23456789", "34567890"]
    static func shopFile(_ shop: String) -> String { "\(shop)/expired/202611.\(shop).EXP_CARDS.SHOP.P.csv" }
    static var all: [String] { [company] + shops.map(shopFile) }

    typealias Fixture = HostileServerTests.HostileFixture

    /// The files the server serves: archive-relative path -> (size, SHA-256), from its `FILE` lines.
    func served(_ f: Fixture) throws -> [String: (size: UInt64, sha256: String)] {
        let text = try String(contentsOfFile: f.server.running.dir + "/stdout", encoding: .utf8)
        var out: [String: (UInt64, String)] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("FILE ") {
            let parts = line.split(separator: " ")
            out[String(parts[1].dropFirst())] = (UInt64(parts[2])!, String(parts[3]))
        }
        return out
    }

    /// Every served file in `expected` is archived byte-identical and recorded; no other is.
    func expectArchived(_ f: Fixture, _ expected: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let served = try served(f)
        #expect(served.count == 4, sourceLocation: sourceLocation)
        let manifest = try Manifest.load(root: f.archive)
        #expect(manifest.files.keys.sorted() == expected.sorted(), sourceLocation: sourceLocation)
        for path in expected {
            let local = f.archive + "/" + path
            #expect(
                try TestSSHServer.sha256(ofFile: local) == served[path]?.sha256, "\(path)",
                sourceLocation: sourceLocation)
        }
    }

    func replacedCopies(_ f: Fixture) -> [String] {
        (FileManager.default.subpaths(atPath: f.archive) ?? []).filter { $0.contains(".replaced-") }
    }

    // MARK: Missing attributes

    /// SFTP v3 makes the permissions attribute optional. The long name (`-rw-r--r-- ...`) tells
    /// the type: every file is fetched, and no extra request is made for it.
    @Test(.enabled(if: enabled, reason), .timeLimit(.minutes(2)))
    func noPermissionsAttributeTheLongNameTellsTheType() throws {
        let f = try Fixture(scenario: "quirks", knobs: ["--omit-permissions"])
        let r = try f.expcards(["fetch"])
        #expect(r.status == 0, "\(r)\n\(f.server.log)")
        #expect(r.stdout.contains("4 files fetched, 0 already archived, 0 failed"), "\(r)")
        try expectArchived(f, Self.all)
        #expect(!f.server.log.contains("lstat"), "the long name was enough: \(f.server.log)")
        let again = try f.expcards(["fetch"])
        #expect(again.status == 0 && again.stdout.contains("0 files fetched, 4 already archived"), "\(again)")
    }

    /// No permissions and long names that say nothing (empty, or just the name): an lstat is
    /// asked, says nothing either, and opening the file decides. Still every file, exit 0.
    @Test(.enabled(if: enabled, reason), .timeLimit(.minutes(2)), arguments: ["empty", "name"])
    func noPermissionsAndNoUsefulLongNameStillFetchesEveryFile(longName: String) throws {
        let f = try Fixture(scenario: "quirks", knobs: ["--omit-permissions", "--long-name", longName])
        let r = try f.expcards(["fetch"])
        #expect(r.status == 0, "\(r)\n\(f.server.log)")
        #expect(r.stdout.contains("4 files fetched, 0 already archived, 0 failed"), "\(r)")
        try expectArchived(f, Self.all)
        #expect(f.server.log.contains("lstat"), "the type was asked for: \(f.server.log)")
        let list = try f.expcards(["list"])
        #expect(list.stdout.contains("the server gives no file type"), "\(list)")
    }

    /// A file of unknown type that then cannot be opened: the run fails and names it; the others are archived.
    @Test(.enabled(if: enabled, reason), .timeLimit(.minutes(2)))
    func anUntypedEntryThatCannotBeOpenedFailsTheRunByName() throws {
        let name = "202611.23456789.EXP_CARDS.SHOP.P.csv"
        let f = try Fixture(
            scenario: "quirks", knobs: ["--omit-permissions", "--long-name", "empty", "--deny-file", name + ":4"])
        let r = try f.expcards(["fetch"])
        #expect(r.status == 69, "\(r)\n\(f.server.log)")
        #expect(r.stdout.contains("FAILED 23456789/expired/\(name)"), "\(r)")
        #expect(r.stdout.contains("3 files fetched, 0 already archived, 1 failed"), "\(r)")
        try expectArchived(f, Self.all.filter { !$0.contains("23456789") })
    }

    // MARK: Refusals

    /// One shop directory denied (status 3), another failing (status 4): both are named, every
    /// other file is fetched and recorded, and the run exits 69.
    @Test(.enabled(if: enabled, reason), .timeLimit(.minutes(2)))
    func aShopDirectoryTheServerRefusesDoesNotStopTheOthers() throws {
        let f = try Fixture(scenario: "quirks", knobs: ["--deny-dir", "23456789:3", "--deny-dir", "34567890:4"])
        let r = try f.expcards(["fetch"])
        #expect(r.status == 69, "\(r)\n\(f.server.log)")
        #expect(
            r.stdout.contains("FAILED 23456789/expired: cannot be listed: 23456789/expired: permission denied"), "\(r)")
        #expect(
            r.stdout.contains(
                "FAILED 34567890/expired: cannot be listed: 34567890/expired: failure reported by the server"), "\(r)")
        #expect(r.stderr.contains("23456789/expired cannot be listed"), "\(r)")
        #expect(r.stdout.contains("2 files fetched"), "\(r)")
        try expectArchived(f, [Self.company, Self.shopFile("12345678")])
        // `run` reports what it has and still says the fetch failed.
        let run = try f.expcards(["run"])
        #expect(run.status == 69, "\(run)")
    }

    /// One file that cannot be read (permission denied on open): named, the rest fetched, exit 69.
    @Test(.enabled(if: enabled, reason), .timeLimit(.minutes(2)))
    func aFileTheServerRefusesDoesNotStopTheOthers() throws {
        let name = "202611.12345678.EXP_CARDS.SHOP.P.csv"
        let f = try Fixture(scenario: "quirks", knobs: ["--deny-file", name + ":3", "--order", "reverse"])
        let r = try f.expcards(["fetch"])
        #expect(r.status == 69, "\(r)\n\(f.server.log)")
        #expect(
            r.stdout.contains("FAILED 12345678/expired/\(name): 12345678/expired/\(name): permission denied"), "\(r)")
        #expect(r.stdout.contains("3 files fetched, 0 already archived, 1 failed"), "\(r)")
        try expectArchived(f, Self.all.filter { !$0.contains("12345678") })
    }

    // MARK: Timestamps

    /// A server that reports mtime = now on every listing: the next run reads the files again,
    /// finds the same bytes, keeps no `.replaced-` copy and reports no new month.
    @Test(.enabled(if: enabled, reason), .timeLimit(.minutes(2)))
    func aNewMtimeWithTheSameBytesKeepsNoCopyAndIsNoNewMonth() throws {
        let f = try Fixture(scenario: "quirks", knobs: ["--mtime-now"])
        let first = try f.expcards(["fetch"])
        #expect(first.status == 0 && first.stdout.contains("4 files fetched"), "\(first)")
        sleep(2)
        let again = try f.expcards(["fetch"])
        #expect(again.status == 0, "\(again)\n\(f.server.log)")
        #expect(again.stdout.contains("0 files fetched, 4 already archived, 0 failed"), "\(again)")
        #expect(again.stdout.contains("unchanged \(Self.company): read again"), "\(again)")
        #expect(replacedCopies(f).isEmpty, "\(replacedCopies(f))")
        try expectArchived(f, Self.all)
        #expect(try Manifest.load(root: f.archive).files.values.allSatisfy { $0.replaced == nil })
        sleep(1)
        let run = try f.expcards(["run", "--if-new"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.isEmpty, "no new month, nothing printed: \(run)")
        #expect(replacedCopies(f).isEmpty, "\(replacedCopies(f))")
    }

    // MARK: Transfers and sessions

    /// Each READ reply capped at 4,000 bytes (servers may send less than asked; libssh2's
    /// read-ahead then fails on the next reply): the 300 kB company file still arrives whole and
    /// byte-identical, read again from where the short reply left it, one request at a time.
    @Test(.enabled(if: enabled, reason), .timeLimit(.minutes(2)), arguments: [4_000, 29_999])
    func shortReadRepliesStillDownloadWholeFiles(cap: Int) throws {
        let f = try Fixture(scenario: "quirks", knobs: ["--read-cap", String(cap)])
        let r = try f.expcards(["fetch", "-v"])
        #expect(r.status == 0, "\(r)\n\(f.server.log.suffix(3000))")
        #expect(r.stderr.contains("reading it one request at a time"), "\(r)")
        try expectArchived(f, Self.all)
        #expect(try expcardsCheck(f).status == 0)
        #expect(try f.expcards(["verify"]).status == 0)
    }

    func expcardsCheck(_ f: Fixture) throws -> CLI.Result {
        try CLI.run(["check", f.archive + "/" + Self.company])
    }

    /// A login banner carrying escape sequences, keyboard-interactive as the only method, and a
    /// shuffled listing order: every file, and no raw control character reaches the terminal.
    @Test(.enabled(if: enabled, reason), .timeLimit(.minutes(2)))
    func bannerKeyboardInteractiveAndShuffledOrder() throws {
        let f = try Fixture(
            scenario: "quirks",
            knobs: [
                "--banner", "Authorised use only\u{1B}]0;pwned\u{07}", "--kbd-interactive", "--password", "s3cret-Kbd",
                "--order", "shuffled",
            ])
        var config = try String(contentsOfFile: f.config, encoding: .utf8)
        config = config.split(separator: "\n").filter { !$0.hasPrefix("identityFile:") }.joined(separator: "\n") + "\n"
        try config.write(toFile: f.config, atomically: true, encoding: .utf8)
        let r = try CLI.run(["fetch", "-v", "--config", f.config], environment: ["EXPCARDS_PASSWORD": "s3cret-Kbd"])
        #expect(r.status == 0, "\(r)\n\(f.server.log)")
        #expect(r.stdout.contains("4 files fetched"), "\(r)")
        #expect(!r.stderr.contains("\u{1B}]") && !r.stdout.contains("\u{1B}]"), "raw escape sequence printed: \(r)")
        #expect(!r.stderr.contains("s3cret-Kbd") && !r.stdout.contains("s3cret-Kbd"), "password printed")
        try expectArchived(f, Self.all)
    }
}
