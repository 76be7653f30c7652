import Foundation
import Glibc
import Testing

@testable import ExpCardsCore

private func temporaryArchive() -> String {
    let path = NSTemporaryDirectory() + "expcards-itn-\(UUID().uuidString)"
    mkdir(path, 0o700)
    return path
}

private func incoming(
    _ alias: String = "6af9d54d49794395bafb8a41941399e2", token: String = "ACTIVE", expiryYear: String = "2028",
    serverDate: String? = nil, at ms: Int64 = 1_000
) throws -> NotificationStore.Incoming {
    var changes: [String: Any?] = [
        "paymentMethodToken": alias, "meansOfPayment.status": token,
        "card.expiryYear": expiryYear,
    ]
    if let serverDate { changes["serverDate"] = serverDate }
    return NotificationStore.Incoming(
        envelope: try envelope(guide(changes)), receivedAt: Timestamp(milliseconds: ms), via: .import)
}

private func records(_ store: NotificationStore) throws -> [NotificationRecord] {
    var out: [NotificationRecord] = []
    try store.read { if case .success(let r) = $0 { out.append(r) } }
    return out
}

@Suite struct NotificationStoreTests {
    @Test func appendedRecordsReadBackWithTheirTimesAndPermissions() throws {
        let root = temporaryArchive()
        let store = try #require(try NotificationStore.open(archiveRoot: root, create: true))
        let outcomes = try store.append([try incoming(at: 5_000), try incoming("other", token: "SUSPENDED", at: 6_000)])
        #expect(outcomes.allSatisfy { if case .stored = $0 { true } else { false } })
        let back = try records(store)
        #expect(back.map(\.notification.alias) == ["6af9d54d49794395bafb8a41941399e2", "other"])
        #expect(back[1].notification.tokenStatus == .suspended)
        #expect(back[0].receivedAt.milliseconds == 5_000 && back[0].notifiedAt.milliseconds == 5_000)
        var st = stat()
        stat(root + "/itn", &st)
        #expect(st.st_mode & 0o777 == 0o700)
        stat(root + "/itn/notifications.jsonl", &st)
        #expect(st.st_mode & 0o777 == 0o600)
        // Every line is one JSON object ending in a newline.
        let text = try String(contentsOfFile: root + "/itn/notifications.jsonl", encoding: .utf8)
        #expect(text.split(separator: "\n").count == 2 && text.hasSuffix("}\n"))
    }

    @Test func duplicatesAreRecognisedButAStateThatComesBackIsKept() throws {
        let root = temporaryArchive()
        let store = try #require(try NotificationStore.open(archiveRoot: root, create: true))
        let first = try store.append([try incoming(token: "SUSPENDED", at: 1)])
        // The same notification again, even received later: a duplicate.
        let again = try store.append([try incoming(token: "SUSPENDED", at: 2)])
        #expect(again == [.duplicate(id: { if case .stored(let id) = first[0] { id } else { "" } }())])
        // Reactivated, then suspended again: both kept, in order.
        _ = try store.append([try incoming(token: "ACTIVE", at: 3), try incoming(token: "SUSPENDED", at: 4)])
        #expect(try records(store).map(\.notification.tokenStatus) == [.suspended, .active, .suspended])
        // With their own time, the same notification imported twice is a duplicate, whatever came between.
        let dated = try incoming("dated", serverDate: "2026-11-03T10:00:00Z")
        let other = try incoming("dated", token: "DELETED", serverDate: "2026-11-04T10:00:00Z")
        #expect(try store.append([dated, other]).count { if case .stored = $0 { true } else { false } } == 2)
        #expect(try store.append([dated, other]).allSatisfy { if case .duplicate = $0 { true } else { false } })
        // A second store object (another process) sees what the first wrote.
        let second = try #require(try NotificationStore.open(archiveRoot: root, create: false))
        #expect(
            try second.append([try incoming(token: "SUSPENDED", at: 9)]).first.map {
                if case .duplicate = $0 { true } else { false }
            } == true)
    }

    @Test func theLatestIsByTheNotificationsTimeNotTheLineOrder() throws {
        let root = temporaryArchive()
        let store = try #require(try NotificationStore.open(archiveRoot: root, create: true))
        _ = try store.append([
            try incoming("a", token: "SUSPENDED", serverDate: "2026-11-05T00:00:00Z"),
            try incoming("a", token: "ACTIVE", serverDate: "2026-11-04T00:00:00Z"),
        ])
        let (latest, problems, lastReceived) = try store.latest(for: .production)
        #expect(problems.isEmpty)
        #expect(lastReceived == Timestamp(milliseconds: 1_000), "the received time, whatever the notification's own")
        #expect(latest["a"]?.notification.tokenStatus == .suspended)
        #expect(try store.latest(for: .test).latest.isEmpty)
    }

    @Test func anUnterminatedLastLineIsCutOffBeforeTheNextAppendAndChangedLinesAreProblems() throws {
        let root = temporaryArchive()
        let store = try #require(try NotificationStore.open(archiveRoot: root, create: true))
        _ = try store.append([try incoming("a")])
        let path = root + "/itn/notifications.jsonl"
        let fd = open(path, O_WRONLY | O_APPEND)
        _ = "{\"alias\": \"half".withCString { write(fd, $0, strlen($0)) }
        close(fd)
        #expect(try store.read { _ in } == 15)
        _ = try NotificationStore.open(archiveRoot: root, create: false)!.append([try incoming("b")])
        #expect(try records(store).map(\.notification.alias) == ["a", "b"])
        // A line edited by hand no longer matches its id.
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"lastFour\": \"0114\"", with: "\"lastFour\": \"9999\"")
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        var problems: [NotificationStore.Problem] = []
        try store.read { if case .failure(let p) = $0 { problems.append(p) } }
        #expect(problems.map(\.line) == [1, 2])
        #expect(problems.first?.reason.contains("does not match") == true)
    }

    @Test func aLinkInPlaceOfTheStoreIsRefused() throws {
        let root = temporaryArchive()
        mkdir(root + "/itn", 0o700)
        symlink("/etc/passwd", root + "/itn/notifications.jsonl")
        let store = try #require(try NotificationStore.open(archiveRoot: root, create: true))
        #expect(throws: ArchiveError.symlink(path: root + "/itn/notifications.jsonl")) {
            try store.append([try incoming()])
        }
        unlink(root + "/itn/.lock")
        unlink(root + "/itn/notifications.jsonl")
        rmdir(root + "/itn")
        symlink("/tmp", root + "/itn")
        #expect(throws: ArchiveError.self) { try NotificationStore.open(archiveRoot: root, create: true) }
    }

    @Test func concurrentWritersFromSeveralStoreObjectsLoseNothing() throws {
        let root = temporaryArchive()
        _ = try NotificationStore.open(archiveRoot: root, create: true)
        let threads = 8
        let perThread = 50
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let store = try! NotificationStore.open(archiveRoot: root, create: false)!
            for i in 0..<perThread {
                _ = try! store.append([try! incoming("t\(t)-\(i)")])
            }
        }
        let store = try #require(try NotificationStore.open(archiveRoot: root, create: false))
        let aliases = Set(try records(store).map(\.notification.alias))
        #expect(aliases.count == threads * perThread)
    }

    /// The store's own layout is read by the fast path; any other packaging of the same object
    /// (keys in another order, an escape, extra spaces) by JSONSerialization, to the same record.
    @Test func theFastReadingAndJSONReadingAgree() throws {
        let n = TokenNotification(
            merchantLegalId: "45251785700028", alias: #"al"ias\é"#, mode: .test, aliasStatus: .cancelled,
            cancellationDate: Timestamp(rfc3339: "2026-10-02T08:00:00+02:00"), tokenStatus: .suspended, method: .cb,
            lastFour: "1117", cardExpiry: YearMonth(year: 2029, month: 3), source: .gateway)
        let plain = NotificationRecord(
            notification: TokenNotification(
                alias: "ABC123", mode: .production, aliasStatus: .active, tokenStatus: .active),
            receivedAt: Timestamp(milliseconds: 1_800_000_000_000), explicitTime: nil, via: .serve, signed: true)
        let line = plain.line.dropLast()
        #expect(NotificationRecord.lineValuesFast(line) != nil)
        #expect(try NotificationRecord(line: line) == plain)
        // Reordered keys and spacing: only JSON reads it, to the same record.
        let object = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
        let reordered = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        let pretty = Array(reordered).filter { $0 != 0x0A }[...]
        #expect(NotificationRecord.lineValuesFast(pretty) == nil)
        #expect(try NotificationRecord(line: pretty) == plain)
        // An escaped quote and backslash in the alias: the fast path hands over.
        let escaped = NotificationRecord(
            notification: n, receivedAt: Timestamp(milliseconds: 1), explicitTime: Timestamp(milliseconds: 2),
            via: .import, signed: false)
        #expect(NotificationRecord.lineValuesFast(escaped.line.dropLast()) == nil)
        #expect(try NotificationRecord(line: escaped.line.dropLast()) == escaped)
        // A changed value is caught whichever path reads it.
        let changed = String(decoding: plain.line.dropLast(), as: UTF8.self).replacingOccurrences(
            of: "ABC123", with: "ABC124")
        #expect(throws: ITNError.self) { try NotificationRecord(line: Array(changed.utf8)[...]) }
    }

    /// Prune drops what is dated before the cutoff but keeps each alias's latest notification
    /// (per environment), however old; a dry run counts without writing.
    @Test func pruneKeepsEachAliassLatestNotification() throws {
        let root = temporaryArchive()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try #require(try NotificationStore.open(archiveRoot: root, create: true))
        _ = try store.append([
            try incoming("OLDTWICE", token: "SUSPENDED", serverDate: "2020-01-01T10:00:00Z"),
            try incoming("OLDTWICE", serverDate: "2020-02-01T10:00:00Z"),
            try incoming("OLDONCE", token: "DELETED", serverDate: "2020-03-01T10:00:00Z"),
            try incoming("RECENT", token: "SUSPENDED", serverDate: "2020-01-01T10:00:00Z"),
            try incoming("RECENT", serverDate: "2026-11-02T10:00:00Z"),
        ])
        let cutoff = Timestamp(rfc3339: "2026-11-01T00:00:00Z")!
        #expect(try store.prune(before: cutoff, dryRun: true) == 2)
        #expect(try records(store).count == 5)
        #expect(try store.prune(before: cutoff, dryRun: false) == 2)
        let left = try records(store).map { "\($0.notification.alias) \($0.notification.tokenStatus.rawValue)" }
        #expect(left == ["OLDTWICE ACTIVE", "OLDONCE DELETED", "RECENT ACTIVE"], "\(left)")
        #expect(try store.prune(before: cutoff, dryRun: false) == 0)
    }

    /// What `GET /health` asks: on a real tmpfs of 2 MiB (root only), healthy, then full, then
    /// healthy again; and a batch the full disk refused is stored when retried.
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func healthSaysWhenTheStoreCannotTakeANotification() throws {
        let root = temporaryArchive()
        defer { rmdir(root) }
        let mount = { (args: [String]) throws -> Int32 in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/mount")
            p.arguments = args
            try p.run()
            p.waitUntilExit()
            return p.terminationStatus
        }
        try #require(try mount(["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", root]) == 0)
        defer {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/umount")
            p.arguments = [root]
            try? p.run()
            p.waitUntilExit()
        }
        let store = try #require(try NotificationStore.open(archiveRoot: root, create: true))
        #expect(store.unhealthy() == nil)
        _ = try store.append([try incoming(at: 1)])
        // Fill it to under 1 MiB free.
        try Data(count: 1_200_000).write(to: URL(fileURLWithPath: root + "/filler"))
        #expect(store.unhealthy() == "the store's file system is full")
        unlink(root + "/filler")
        #expect(store.unhealthy() == nil)

        // Full to the last byte: a batch that needs new pages fails, and leaves nothing behind;
        // once there is room again, the same batch is stored, not taken for a duplicate.
        let fd = open(root + "/filler", O_WRONLY | O_CREAT, 0o600)
        let chunk = [UInt8](repeating: 0, count: 4096)
        while write(fd, chunk, chunk.count) > 0 {}
        close(fd)
        let batch = try (0..<200).map { try incoming(String(format: "FULL%04d", $0), at: 2_000) }
        #expect(throws: ArchiveError.self) { try store.append(batch) }
        #expect(try records(store).count == 1)
        unlink(root + "/filler")
        let retried = try store.append(batch)
        #expect(retried.allSatisfy { if case .stored = $0 { true } else { false } }, "\(retried.prefix(3))")
        #expect(try records(store).count == 201)
        // (Read-only is not reproduced: a file system with files open for writing, as the
        // store's are, cannot be remounted read-only by hand; the kernel does it on errors.)
    }
}
