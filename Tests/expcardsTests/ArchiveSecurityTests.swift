import ExpCardsCore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The archive as a trust boundary, end to end: links planted in it, its owner and mode, a
/// manifest that lies, retention that must be complete and atomic. Without a server (the fetch
/// cases are in `ArchiveFetchSecurityTests`). Link cases run as root and as `nobody`.
@Suite(.serialized) struct ArchiveSecurityTests {
    static let nobody: uid_t = 65534
    static let oldCompany = "201001.EXP_CARDS.ACME.P.csv"

    /// A scratch directory with an archive in it (0700), removed at the end.
    final class Scratch {
        let dir: String
        let archive: String
        init() throws {
            dir = try scratchDirectory()
            archive = dir + "/archive"
            try FileManager.default.createDirectory(
                atPath: archive + "/ROOT/expired", withIntermediateDirectories: true)
            for d in [archive, archive + "/ROOT", archive + "/ROOT/expired"] { chmod(d, 0o700) }
            chmod(dir, 0o755)
        }

        func write(_ relative: String, _ text: String, owner: uid_t? = nil) throws {
            let path = relative.hasPrefix("/") ? relative : archive + "/" + relative
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            if let owner { chown(path, owner, owner) }
        }

        func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

        /// Archives `name` in `ROOT/expired` with a manifest entry that matches it.
        func store(_ name: String, _ text: String = "x\n", in directory: String = "ROOT/expired") throws {
            try write(directory + "/" + name, text)
            var manifest = try Manifest.load(root: archive)
            let file = try #require(ExpCardsFileName(name))
            manifest.files[Manifest.key(directory: directory, name: file)] = Manifest.Entry(
                remotePath: "/" + directory + "/" + name, storedName: name, size: UInt64(text.utf8.count),
                remoteMtime: 1,
                sha256: try sha256Hex(ofFile: archive + "/" + directory + "/" + name),
                fetchedAt: "2026-01-01T00:00:00Z", problems: 0)
            try manifest.save(root: archive)
        }

        /// Gives the archive to `owner`, with everything in it.
        func chownAll(_ owner: uid_t) throws {
            let all = [archive] + (FileManager.default.subpaths(atPath: archive) ?? []).map { archive + "/" + $0 }
            for path in all { lchown(path, owner, owner) }
        }

        /// Runs expcards on this archive, as `user` (nil: this process's user).
        func expcards(_ args: [String], as user: uid_t? = nil, timeout: TimeInterval = 60) throws -> CLI.Result {
            let full = args + ["--archive", archive]
            guard let user else { return try CLI.run(full, timeout: timeout) }
            return try CLI.spawn(
                ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", CLI.binary] + full, program: "/usr/bin/setpriv"
            ).wait(timeout: timeout)
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// The users each link case runs as: root, and `nobody` when this process may become it.
    static var users: [uid_t?] { geteuid() == 0 ? [nil, nobody] : [nil] }

    // MARK: Links

    @Test(arguments: users)
    func aLockThatIsASymlinkIsRefusedAndItsTargetUntouched(user: uid_t?) throws {
        let s = try Scratch()
        try s.write(s.dir + "/victim", "do not overwrite\n", owner: user)
        #expect(symlink(s.dir + "/victim", s.archive + "/.lock") == 0)
        if let user { try s.chownAll(user) }
        for args in [["prune", "--older-than", "1", "--dry-run"], ["prune", "--older-than", "1"]] {
            let r = try s.expcards(args, as: user)
            #expect(r.status == 74, "\(r)")
            #expect(r.stderr.contains("\(s.archive)/.lock is a symbolic link"), "\(r)")
        }
        #expect(s.read(s.dir + "/victim") == "do not overwrite\n")
    }

    /// The manifest's temporary file was `.manifest.json.tmp-<pid>`, and pids come in order:
    /// links planted under the next pids' names redirected the manifest's write.
    @Test(arguments: users)
    func linksAtPredictableTemporaryNamesAreNotWrittenThrough(user: uid_t?) throws {
        let s = try Scratch()
        try s.store(Self.oldCompany)
        try s.write(s.dir + "/victim", "do not overwrite\n", owner: user)
        let last =
            Int(
                (try? String(contentsOfFile: "/proc/sys/kernel/ns_last_pid", encoding: .utf8))?.trimmingCharacters(
                    in: .whitespacesAndNewlines) ?? "") ?? 0
        for pid in (last + 1)...(last + 300) { symlink(s.dir + "/victim", s.archive + "/.manifest.json.tmp-\(pid)") }
        if let user { try s.chownAll(user) }
        let r = try s.expcards(["prune", "--older-than", "1"], as: user)
        #expect(s.read(s.dir + "/victim") == "do not overwrite\n", "\(r)")
        #expect(r.status == 74, "\(r)")
        #expect(r.stderr.contains("/.manifest.json.tmp-") && r.stderr.contains("is a symbolic link"), "\(r)")
    }

    /// `ARCH/<shopId>` linked to another directory: prune deletes nothing there, and says why.
    @Test(arguments: users)
    func pruneDoesNotFollowALinkedShopDirectory(user: uid_t?) throws {
        let s = try Scratch()
        let elsewhere = s.dir + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere + "/expired", withIntermediateDirectories: true)
        let victim = elsewhere + "/expired/201001.12345678.EXP_CARDS.Shop.P.csv"
        try s.write(victim, "someone else's\n", owner: user)
        if let user { for d in [elsewhere, elsewhere + "/expired"] { chown(d, user, user) } }
        #expect(symlink(elsewhere, s.archive + "/12345678") == 0)
        try s.store(Self.oldCompany)
        if let user { try s.chownAll(user) }
        let r = try s.expcards(["prune", "--older-than", "1"], as: user)
        #expect(r.status == 74, "\(r)")
        #expect(r.stderr.contains("\(s.archive)/12345678 is a symbolic link"), "\(r)")
        #expect(s.read(victim) == "someone else's\n")
        let v = try s.expcards(["verify"], as: user)
        #expect(v.status == 65, "\(v)")
        #expect(v.stdout.contains("REFUSED \(s.archive)/12345678: a symbolic link"), "\(v)")
    }

    /// A manifest entry stored as a link to a file outside: verify refuses it, never hashes it.
    @Test(arguments: users)
    func verifyRefusesAnArchivedFileThatIsALink(user: uid_t?) throws {
        let s = try Scratch()
        try s.store(Self.oldCompany)
        let secret = try sha256Hex(ofFile: "/etc/passwd")
        unlink(s.archive + "/ROOT/expired/" + Self.oldCompany)
        #expect(symlink("/etc/passwd", s.archive + "/ROOT/expired/" + Self.oldCompany) == 0)
        if let user { try s.chownAll(user) }
        let r = try s.expcards(["verify"], as: user)
        #expect(r.status == 65, "\(r)")
        #expect(r.stdout.contains("REFUSED \(s.archive)/ROOT/expired/\(Self.oldCompany): a symbolic link"), "\(r)")
        #expect(!r.stdout.contains(secret) && !r.stderr.contains(secret), "\(r)")
    }

    /// `report` reads the archive only through it: a directory or a file linked in from outside
    /// is refused, not read.
    @Test(arguments: users)
    func reportRefusesAnArchiveHoldingALink(user: uid_t?) throws {
        let s = try Scratch()
        try s.store("202001.EXP_CARDS.ACME.P.csv", Samples.company(month: "202001", aliases: [("alias-a", "20200131")]))
        let outside = s.dir + "/outside"
        try FileManager.default.createDirectory(atPath: outside + "/expired", withIntermediateDirectories: true)
        let leak = Samples.company(month: "202002", aliases: [("leaked-alias", "20200229")])
        try s.write(outside + "/expired/202002.EXP_CARDS.ACME.P.csv", leak, owner: user)
        try s.write(outside + "/file.csv", leak, owner: user)
        #expect(symlink(outside, s.archive + "/common") == 0)
        if let user { try s.chownAll(user) }
        let r = try s.expcards(["report", "--month", "2020-02"], as: user)
        #expect(r.status == 74, "\(r)")
        #expect(r.stderr.contains("\(s.archive)/common is a symbolic link"), "\(r)")
        #expect(!r.stdout.contains("leaked-alias"), "\(r)")
        unlink(s.archive + "/common")
        #expect(symlink(outside + "/file.csv", s.archive + "/ROOT/expired/202002.EXP_CARDS.ACME.P.csv") == 0)
        let file = try s.expcards(["report", "--month", "2020-02"], as: user)
        #expect(file.status == 74, "\(file)")
        #expect(file.stderr.contains("/ROOT/expired/202002.EXP_CARDS.ACME.P.csv is a symbolic link"), "\(file)")
        unlink(s.archive + "/ROOT/expired/202002.EXP_CARDS.ACME.P.csv")
        let clean = try s.expcards(["report", "--month", "2020-01"], as: user)
        #expect(clean.status == 0, "\(clean)")
        #expect(clean.stdout.contains("alias-a"), "\(clean)")
    }

    // MARK: Owner and mode

    @Test func anArchiveOthersMayWriteToExits78NamingTheFix() throws {
        let s = try Scratch()
        chmod(s.archive, 0o777)
        for args in [["verify"], ["prune", "--older-than", "1"], ["report"]] {
            let r = try s.expcards(args)
            #expect(r.status == 78, "\(r)")
            #expect(r.stderr.contains("chmod go-w \(s.archive)"), "\(r)")
        }
        chmod(s.archive, 0o720)
        #expect(try s.expcards(["verify"]).status == 78)
        chmod(s.archive, 0o755)
        #expect(try s.expcards(["verify"]).status == 0)
        // And each directory under it.
        chmod(s.archive + "/ROOT/expired", 0o777)
        let sub = try s.expcards(["verify"])
        #expect(sub.status == 78, "\(sub)")
        #expect(sub.stderr.contains("chmod go-w \(s.archive)/ROOT/expired"), "\(sub)")
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to give the archive away"))
    func anArchiveOfAnotherUserExits78NamingTheFix() throws {
        let s = try Scratch()
        chown(s.archive, Self.nobody, Self.nobody)
        let r = try s.expcards(["verify"])
        #expect(r.status == 78, "\(r)")
        #expect(r.stderr.contains("belongs to nobody") && r.stderr.contains("chown root \(s.archive)"), "\(r)")
        // And the other way round: nobody running over root's archive.
        chown(s.archive, 0, 0)
        let n = try s.expcards(["verify"], as: Self.nobody)
        #expect(n.status == 78, "\(n)")
        #expect(n.stderr.contains("chown nobody \(s.archive)"), "\(n)")
    }

    // MARK: Retention

    /// Partial downloads of pruned months go, and any left for more than a day; a recent one
    /// of a kept month stays (a fetch resumes it).
    @Test func pruneRemovesPartialFilesOfPrunedMonthsAndStaleOnes() throws {
        let s = try Scratch()
        let current = YearMonth(Day.todayUTC())
        let month = String(format: "%04d%02d", current.year, current.month)
        try s.store(Self.oldCompany)
        let oldPart = "ROOT/expired/.\(Self.oldCompany).100-5-0123456789abcdef.part"
        let stalePart = "ROOT/expired/.\(month).EXP_CARDS.ACME.P.csv.100-6.part"
        let freshPart = "ROOT/expired/.\(month).EXP_CARDS.ACME.T.csv.100-7-fedcba9876543210.part"
        let staleTemp = ".manifest.json.tmp-4242"
        for p in [oldPart, stalePart, freshPart, staleTemp] { try s.write(p, "cardholder data\n") }
        let twoDaysAgo = time(nil) - 2 * 86_400
        for p in [stalePart, staleTemp] {
            var times = [timespec(tv_sec: twoDaysAgo, tv_nsec: 0), timespec(tv_sec: twoDaysAgo, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, s.archive + "/" + p, &times, 0) == 0)
        }
        let dry = try s.expcards(["prune", "--older-than", "1", "--dry-run"])
        #expect(dry.status == 0, "\(dry)")
        #expect(dry.stdout.contains("would delete \(s.archive)/\(oldPart) (partial download)"), "\(dry)")
        #expect(FileManager.default.fileExists(atPath: s.archive + "/" + oldPart))
        let r = try s.expcards(["prune", "--older-than", "1"])
        #expect(r.status == 0, "\(r)")
        for p in ["ROOT/expired/" + Self.oldCompany, oldPart, stalePart, staleTemp] {
            #expect(!FileManager.default.fileExists(atPath: s.archive + "/" + p), "\(p)")
            #expect(r.stdout.contains("deleted \(s.archive)/\(p)"), "\(p): \(r)")
        }
        #expect(r.stdout.contains("(partial download left 2 days ago)"), "\(r)")
        #expect(FileManager.default.fileExists(atPath: s.archive + "/" + freshPart))
        #expect(try Manifest.load(root: s.archive).files.isEmpty)
    }

    /// A deletion that fails midway (an immutable file) leaves the manifest true: what was
    /// deleted is no longer listed, what was not still is, and each deletion was printed.
    @Test(.enabled(if: geteuid() == 0, "chattr +i needs root"))
    func pruneFailingMidwayLeavesTheManifestTrue() throws {
        let s = try Scratch()
        let names = ["201001.EXP_CARDS.ACME.P.csv", "201002.EXP_CARDS.ACME.P.csv", "201003.EXP_CARDS.ACME.P.csv"]
        for n in names { try s.store(n) }
        let stuck = s.archive + "/ROOT/expired/" + names[1]
        guard chattr("+i", stuck) else {
            Issue.record("chattr +i is not available here")
            return
        }
        defer { _ = chattr("-i", stuck) }
        let r = try s.expcards(["prune", "--older-than", "1"])
        #expect(r.status == 74, "\(r)")
        #expect(r.stdout.contains("deleted \(s.archive)/ROOT/expired/\(names[0])"), "\(r)")
        #expect(r.stderr.contains(stuck), "\(r)")
        let manifest = try Manifest.load(root: s.archive)
        #expect(
            manifest.files.keys.sorted() == names.dropFirst().map { "ROOT/expired/" + $0 }, "\(manifest.files.keys)")
        #expect(!FileManager.default.fileExists(atPath: s.archive + "/ROOT/expired/" + names[0]))
        #expect(FileManager.default.fileExists(atPath: s.archive + "/ROOT/expired/" + names[2]))
        _ = chattr("-i", stuck)
        let again = try s.expcards(["prune", "--older-than", "1"])
        #expect(again.status == 0, "\(again)")
        #expect(try Manifest.load(root: s.archive).files.isEmpty)
    }

    private func chattr(_ flag: String, _ path: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        p.arguments = [flag, path]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    @Test func verifyListsPartialAndUnknownFiles() throws {
        let s = try Scratch()
        try s.store(Self.oldCompany)
        let part = "ROOT/expired/.\(Self.oldCompany).100-5-0123456789abcdef.part"
        try s.write(part, "half a file\n")
        let clean = try s.expcards(["verify", "-q"])
        #expect(clean.status == 0, "\(clean)")
        #expect(clean.stdout.contains("PARTIAL \(s.archive)/\(part): 12 bytes, modified "), "\(clean)")
        #expect(clean.stdout.contains("1 file in the manifest, 0 differences, 1 partial file"), "\(clean)")
        try s.write("ROOT/expired/.notes", "?\n")
        #expect(mkfifo(s.archive + "/ROOT/expired/fifo", 0o600) == 0)
        let r = try s.expcards(["verify"], timeout: 30)
        #expect(r.status == 65, "\(r)")
        #expect(
            r.stdout.contains("UNKNOWN \(s.archive)/ROOT/expired/.notes: a hidden file expcards did not write"), "\(r)")
        #expect(r.stdout.contains("UNKNOWN \(s.archive)/ROOT/expired/fifo: not a regular file"), "\(r)")
    }

    // MARK: The manifest

    static func manifestJSON(key: String, storedName: String) -> String {
        """
        {"version": 1, "files": {"\(key)": {"remotePath": "/ROOT/expired/x", "storedName": "\(storedName)", "size": 1,
        "remoteMtime": 1, "sha256": "00", "fetchedAt": "2026-01-01T00:00:00Z", "problems": 0}}}

        """
    }

    @Test(arguments: [
        ("ROOT/expired/" + oldCompany, "../../../../../../../../../etc/shadow"),
        ("ROOT/expired/" + oldCompany, "/etc/shadow"),
        ("ROOT/expired/" + oldCompany, "/dev/zero"),
        ("ROOT/expired/" + oldCompany, "../../../../../../../../../dev/zero"),
        ("ROOT/expired/" + oldCompany, "sub/" + oldCompany),
        ("../../../../../../../../../etc/" + oldCompany, oldCompany),
        ("/etc/" + oldCompany, oldCompany),
        ("ROOT/expired/" + oldCompany, ".lock"),
    ])
    func aManifestEntryOutsideTheArchiveExits74(key: String, storedName: String) throws {
        let s = try Scratch()
        try s.write("manifest.json", Self.manifestJSON(key: key, storedName: storedName))
        let secret = try? sha256Hex(ofFile: "/etc/shadow")  // nil: not root, it cannot leak
        let r = try s.expcards(["verify"], timeout: 30)
        #expect(r.status == 74, "\(r)")
        #expect(r.stderr.contains("\(s.archive)/manifest.json: the manifest is not readable (entry "), "\(r)")
        if let secret { #expect(!r.stdout.contains(secret) && !r.stderr.contains(secret), "\(r)") }
    }

    @Test func aManifestOverTheBoundOrNotARegularFileExits74() throws {
        let s = try Scratch()
        let path = s.archive + "/manifest.json"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, off_t(Manifest.maximumSize + 1)) == 0)  // sparse: no disk used
        let big = try s.expcards(["verify"], timeout: 30)
        #expect(big.status == 74, "\(big)")
        #expect(big.stderr.contains("larger than 64 MiB"), "\(big)")
        unlink(path)
        #expect(mkfifo(path, 0o600) == 0)
        let fifo = try s.expcards(["verify"], timeout: 30)
        #expect(fifo.status == 74, "\(fifo)")
        #expect(fifo.stderr.contains("not a regular file"), "\(fifo)")
    }
}
