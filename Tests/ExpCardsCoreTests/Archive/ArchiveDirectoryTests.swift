import Foundation
import Testing

@testable import ExpCardsCore

#if canImport(Glibc)
import Glibc
#endif

/// The archive's file primitives: nothing followed, nothing planted in advance, nothing that
/// hangs, and the manifest trusted only as far as it is checked.
@Suite struct ArchiveDirectoryTests {
    final class Scratch {
        let dir: String
        let root: String
        init() throws {
            dir = try temporaryDirectory().path
            root = dir + "/archive"
        }
        func archive() throws -> ArchiveDirectory { try archiveDirectory(root) }
        deinit { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// The manifest's temporary file used to be `.manifest.json.tmp-<pid>`: a link planted
    /// under that name redirected the write. Now its name is random and created with O_EXCL.
    @Test func aLinkPlantedAtThePredictableTemporaryNameIsNotWrittenThrough() throws {
        let s = try Scratch()
        let archive = try s.archive()
        try "do not overwrite\n".write(toFile: s.dir + "/victim", atomically: false, encoding: .utf8)
        #expect(symlink(s.dir + "/victim", s.root + "/.manifest.json.tmp-\(getpid())") == 0)
        var manifest = Manifest()
        manifest.version = 1
        try manifest.save(to: archive)
        #expect(try String(contentsOfFile: s.dir + "/victim", encoding: .utf8) == "do not overwrite\n")
        #expect(archive.info(Manifest.fileName)?.kind == .regular)
        #expect(try Manifest.load(from: archive) == manifest)
        // Nothing else left beside it but the planted link.
        #expect(try archive.names() == [".manifest.json.tmp-\(getpid())", "manifest.json"])
    }

    @Test func aLinkedDirectoryComponentIsRefusedAndNamed() throws {
        let s = try Scratch()
        let archive = try s.archive()
        try FileManager.default.createDirectory(atPath: s.dir + "/elsewhere/expired", withIntermediateDirectories: true)
        #expect(symlink(s.dir + "/elsewhere", s.root + "/12345678") == 0)
        #expect(throws: ArchiveError.symlink(path: s.root + "/12345678")) {
            _ = try archive.subdirectory("12345678/expired", create: true)
        }
        #expect(throws: ArchiveError.symlink(path: s.root + "/12345678")) {
            _ = try archive.subdirectory("12345678/expired", create: false)
        }
    }

    @Test func aFIFOIsRefusedWithoutWaitingForAWriter() throws {
        let s = try Scratch()
        let archive = try s.archive()
        #expect(mkfifo(s.root + "/fifo", 0o600) == 0)
        #expect(throws: ArchiveError.notRegular(path: s.root + "/fifo")) { _ = try archive.openForReading("fifo") }
        #expect(throws: ArchiveError.notRegular(path: s.root + "/fifo")) { _ = try archive.sha256Hex(of: "fifo") }
    }

    /// A name that must be known in advance (the lock, a resumed partial file) is used only as
    /// the user's own regular file with one link: a hard link to another file is refused.
    @Test func aHardLinkedFileIsNotOpenedForUpdate() throws {
        let s = try Scratch()
        let archive = try s.archive()
        try "victim\n".write(toFile: s.dir + "/victim", atomically: false, encoding: .utf8)
        #expect(link(s.dir + "/victim", s.root + "/.lock") == 0)
        #expect(throws: ArchiveError.self) { _ = try ArchiveLock(archive: archive) }
        #expect(try String(contentsOfFile: s.dir + "/victim", encoding: .utf8) == "victim\n")
    }

    @Test func namesWithASlashOrDotsAreRefused() throws {
        let archive = try Scratch().archive()
        for bad in ["..", ".", "", "a/b", "../x"] {
            #expect(throws: ArchiveError.self, "\(bad)") { _ = try archive.openForReading(bad) }
        }
    }

    // MARK: The manifest

    static func entry(_ stored: String, replaced: [String]? = nil) -> Manifest.Entry {
        Manifest.Entry(
            remotePath: "/ROOT/expired/" + stored, storedName: stored, size: 1, remoteMtime: 1, sha256: "00",
            fetchedAt: "2026-01-01T00:00:00Z", problems: 0, replaced: replaced)
    }

    @Test(
        arguments: [
            ("ROOT/expired/201001.EXP_CARDS.ACME.P.csv", "201001.EXP_CARDS.ACME.P.csv", nil, true),
            ("ROOT/expired/201001.EXP_CARDS.ACME.P.csv", "201001.EXP_CARDS.ACME.P.csv.gz", nil, true),
            ("expired/201001.EXP_CARDS.ACME.P.csv", "201001.EXP_CARDS.ACME.P.csv", nil, true),
            (
                "ROOT/expired/201001.EXP_CARDS.ACME.P.csv", "201001.EXP_CARDS.ACME.P.csv",
                ["201001.EXP_CARDS.ACME.P.csv.replaced-20260101T000000Z"], true
            ),
            ("ROOT/expired/201001.EXP_CARDS.ACME.P.csv", "../../../../etc/shadow", nil, false),
            ("ROOT/expired/201001.EXP_CARDS.ACME.P.csv", "/dev/zero", nil, false),
            ("ROOT/expired/201001.EXP_CARDS.ACME.P.csv", "201002.EXP_CARDS.ACME.P.csv", nil, false),
            ("../expired/201001.EXP_CARDS.ACME.P.csv", "201001.EXP_CARDS.ACME.P.csv", nil, false),
            ("/ROOT/expired/201001.EXP_CARDS.ACME.P.csv", "201001.EXP_CARDS.ACME.P.csv", nil, false),
            ("a/b/c/201001.EXP_CARDS.ACME.P.csv", "201001.EXP_CARDS.ACME.P.csv", nil, false),
            ("ROOT/.x/201001.EXP_CARDS.ACME.P.csv", "201001.EXP_CARDS.ACME.P.csv", nil, false),
            ("ROOT/expired/201001.EXP_CARDS.ACME.P.csv", "201001.EXP_CARDS.ACME.P.csv", ["../../x.replaced-1"], false),
            ("ROOT/expired/201001.EXP_CARDS.ACME.P.csv", "201001.EXP_CARDS.ACME.P.csv", ["manifest.json"], false),
        ] as [(String, String, [String]?, Bool)])
    func manifestEntriesMustNameFilesOfTheLayout(key: String, stored: String, replaced: [String]?, valid: Bool) {
        var m = Manifest()
        m.files[key] = Self.entry(stored, replaced: replaced)
        #expect((m.validate() == nil) == valid, "\(m.validate() ?? "valid")")
    }

    // MARK: Retention

    /// After each deletion the manifest on disk is already true: the deleted file is no longer
    /// listed, the files still to delete (and those kept) still are.
    @Test func pruneSavesTheManifestAtEachDeletion() throws {
        let s = try Scratch()
        let archive = try s.archive()
        let dir = try #require(try archive.subdirectory("ROOT/expired", create: true))
        let names = ["201001.EXP_CARDS.ACME.P.csv", "201002.EXP_CARDS.ACME.P.csv", "203001.EXP_CARDS.ACME.P.csv"]
        var manifest = Manifest()
        for n in names {
            try "x\n".write(toFile: dir.pathOf(n), atomically: false, encoding: .utf8)
            manifest.files["ROOT/expired/" + n] = Self.entry(n)
        }
        try manifest.save(to: archive)
        var seen: [[String]] = []
        let pruner = Pruner(archive: archive, cutoff: YearMonth(year: 2026, month: 1)!, now: 1_800_000_000)
        let count = try pruner.run { _ in
            seen.append((try? Manifest.load(from: archive).files.keys.sorted()) ?? ["unreadable"])
        }
        #expect(count == 2)
        #expect(seen == [names.dropFirst().map { "ROOT/expired/" + $0 }, ["ROOT/expired/" + names[2]]])
        #expect(try dir.names() == [names[2]])
    }
}
