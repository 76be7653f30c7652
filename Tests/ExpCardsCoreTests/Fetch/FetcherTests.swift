import Foundation
import Testing

@testable import ExpCardsCore

struct DeniedFailure: RemoteFailure {
    var description: String
    var isNotFound: Bool { false }
    var isTransient: Bool { false }
}

/// A remote store in memory: the core's fetch logic without a network (the real sshd is the
/// integration tests' business). `failing` fails with a non-transient error after its first chunk.
final class MemoryStore: RemoteStore, @unchecked Sendable {
    let files: [String: [UInt8]]
    let failing: String?
    let mtime: Int64
    init(files: [String: [UInt8]], failing: String?, mtime: Int64) {
        self.files = files
        self.failing = failing
        self.mtime = mtime
    }
    func list(_ path: String) throws -> [RemoteEntry] {
        guard path == "/ROOT/expired" else { throw NotFoundFailure() }
        return files.map { RemoteEntry(name: $0.key, kind: .file, size: UInt64($0.value.count), mtime: mtime) }
    }
    func download(
        _ path: String, from offset: UInt64, size: UInt64, to sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let name = String(path.split(separator: "/").last!)
        let bytes = files[name]!
        var i = Int(offset)
        var chunks = 0
        while i < bytes.count {
            let j = min(bytes.count, i + 2000)
            try bytes[i..<j].withUnsafeBytes { try sink($0) }
            i = j
            chunks += 1
            if name == failing && chunks == 1 { throw DeniedFailure(description: "denied \(name)") }
            usleep(UInt32.random(in: 0...300))
        }
    }
    func close() {}
}
struct NotFoundFailure: RemoteFailure {
    var description: String { "not found" }
    var isNotFound: Bool { true }
    var isTransient: Bool { false }
}

/// Recording, ordering and recovery of `Fetcher.run` with one or several connections.
@Suite struct FetcherTests {
    func files(_ n: Int) -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        var k = 0
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        while out.count < n {
            let brand = "B" + String(letters[k % 26]) + String(letters[(k / 26) % 26])
            k += 1
            let name = "202610.EXP_CARDS.\(brand).P.csv"
            guard ExpCardsFileName(name) != nil else { continue }
            let details = (0..<Int.random(in: 1...400)).map { _ in "02;abc;Ann Lee;ann@example.com;20281231;1" }
            let text =
                (["00;EXP_CARDS;P;20261001;040000"] + details + ["01;\(details.count);20261001;040000"]).joined(
                    separator: "\n") + "\n"
            out[name] = Array(text.utf8)
        }
        return out
    }

    func run(root: String, store: MemoryStore, parallel: Int) -> (Result<Fetcher.Outcome, any Error>, [String]) {
        var options = Fetcher.Options(archiveRoot: root)
        options.shops = []
        options.parallel = parallel
        options.manifestInterval = 0
        options.retries = 0
        options.backoff = 0
        let events = UncheckedEvents()
        let fetcher = Fetcher(
            options: options, connect: { store }, now: { Int64(Date().timeIntervalSince1970) },
            onEvent: { e in
                if case .fetched(let f, _, _, _) = e { events.names.append(f.entry.name) }
            })
        return (Result { try fetcher.run() }, events.names)
    }

    final class UncheckedEvents: @unchecked Sendable { var names: [String] = [] }

    /// Every committed file is recorded once, whatever the connections and wherever an error
    /// stops the run; a second run completes the archive without fetching anything twice.
    @Test(.timeLimit(.minutes(1)), arguments: [1, 2, 4, 7])
    func everyCommittedFileIsRecordedOnce(parallel: Int) throws {
        for round in 0..<6 {
            let root = NSTemporaryDirectory() + "fetcher-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let fs = files(40)
            let failing = round % 2 == 0 ? fs.keys.sorted()[round * 5] : nil
            let (r, names) = run(
                root: root, store: MemoryStore(files: fs, failing: failing, mtime: 1_790_000_000), parallel: parallel)
            let onDisk = Set(
                ((try? FileManager.default.contentsOfDirectory(atPath: root + "/ROOT/expired")) ?? []).filter {
                    !$0.hasPrefix(".")
                })
            let manifest = try Manifest.load(root: root)
            let recorded = Set(manifest.files.values.map(\.storedName))
            #expect(
                onDisk == recorded,
                "parallel \(parallel) round \(round): on disk not recorded \(onDisk.subtracting(recorded)), recorded not on disk \(recorded.subtracting(onDisk))"
            )
            #expect(names.count == Set(names).count, "fetched twice: \(names.count) vs \(Set(names).count)")
            #expect(Set(names) == onDisk)
            switch r {
            case .success(let o):
                #expect(failing == nil)
                #expect(o.fetched.count == 40)
                #expect(o.fetched.map(\.entry.name) == o.listing.files.filter { $0.state == .new }.map(\.entry.name))
            case .failure(let e):
                #expect(failing != nil, "\(e)")
                // A second run completes the archive without fetching anything twice.
                let (r2, names2) = run(
                    root: root, store: MemoryStore(files: fs, failing: nil, mtime: 1_790_000_000), parallel: parallel)
                _ = try r2.get()
                #expect(Set(names2).isDisjoint(with: names), "refetched")
                let all = try FileManager.default.contentsOfDirectory(atPath: root + "/ROOT/expired")
                #expect(!all.contains { $0.contains(".replaced-") }, "\(all)")
                #expect(try Manifest.load(root: root).files.count == 40)
            }
        }
    }
}

extension FetcherTests {
    /// v2 committed by a run killed before its save (v1 kept as .replaced-), then v3 on the
    /// server: the manifest lists both kept versions.
    @Test func twoChangesAcrossAKillKeepEveryVersionListed() throws {
        let root = NSTemporaryDirectory() + "fetcher-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let name = "202610.EXP_CARDS.ACME.P.csv"
        func v(_ n: Int) -> [UInt8] {
            let details = (0..<n).map { _ in "02;abc;Ann Lee;ann@example.com;20281231;1" }
            return Array(
                ((["00;EXP_CARDS;P;20261001;040000"] + details + ["01;\(details.count);20261001;040000"]).joined(
                    separator: "\n") + "\n").utf8)
        }
        let p = FetcherTests()
        _ = try p.run(
            root: root, store: MemoryStore(files: [name: v(1)], failing: nil, mtime: 1_790_000_000), parallel: 1
        ).0.get()
        let m1 = try Manifest.load(root: root)
        _ = try p.run(
            root: root, store: MemoryStore(files: [name: v(2)], failing: nil, mtime: 1_790_000_100), parallel: 1
        ).0.get()
        try m1.save(root: root)  // killed before its save
        _ = try p.run(
            root: root, store: MemoryStore(files: [name: v(3)], failing: nil, mtime: 1_790_000_200), parallel: 1
        ).0.get()
        let m3 = try Manifest.load(root: root)
        let kept = try FileManager.default.contentsOfDirectory(atPath: root + "/ROOT/expired").filter {
            $0.contains(".replaced-")
        }.sorted()
        let listed = (m3.files.values.first?.replaced ?? []).sorted()
        #expect(kept.count == 2)
        #expect(kept == listed, "on disk \(kept), in manifest \(listed)")
    }
}

struct TransientFailure: RemoteFailure {
    var description: String { "too many sessions" }
    var isNotFound: Bool { false }
    var isTransient: Bool { true }
}

final class Counter: @unchecked Sendable {
    var n = 0
    let lock = NSLock()
}

extension FetcherTests {
    /// `--parallel 2` against a server that takes one connection: the second cannot be opened,
    /// and its share of the listing and of the files goes to the first.
    @Test func aServerTakingOneConnectionStillGetsEveryFile() throws {
        let root = NSTemporaryDirectory() + "fetcher-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fs = FetcherTests().files(10)
        let store = MemoryStore(files: fs, failing: nil, mtime: 1_790_000_000)
        var options = Fetcher.Options(archiveRoot: root)
        options.shops = (0..<16).map { String(30_000_000 + $0) }
        options.parallel = 2
        options.retries = 1
        options.backoff = 0
        let c = Counter()
        let fetcher = Fetcher(
            options: options,
            connect: {
                c.lock.lock()
                defer { c.lock.unlock() }
                c.n += 1
                if c.n > 1 { throw TransientFailure() }
                return store
            }, now: { Int64(Date().timeIntervalSince1970) },
            onEvent: { _ in })
        let o = try fetcher.run()
        #expect(o.failed.isEmpty, "\(o.failed.map(\.error))")
        #expect(o.fetched.count == 10)
        // The first connection, one try of the second for the listing, one plus its retries for the files.
        #expect(c.n <= 1 + 1 + (options.retries + 1), "\(c.n) connection attempts")
    }
}

extension FetcherTests {
    /// The outcome names the fetched files whose check found problems (what the CLI's exit 65
    /// reports), and only those.
    @Test func theOutcomeNamesTheFetchedFilesWithProblems() throws {
        let root = NSTemporaryDirectory() + "fetcher-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let good = "00;EXP_CARDS;P;20261001;040000\n02;abc;Ann Lee;ann@example.com;20281231;1\n01;1;20261001;040000\n"
        // The trailer counts 5 details: the file is kept and flagged.
        let bad = "00;EXP_CARDS;P;20261001;040000\n02;abc;Ann Lee;ann@example.com;20281231;1\n01;5;20261001;040000\n"
        let files = ["202610.EXP_CARDS.BAA.P.csv": Array(good.utf8), "202610.EXP_CARDS.BAB.P.csv": Array(bad.utf8)]
        let (r, _) = run(root: root, store: MemoryStore(files: files, failing: nil, mtime: 1_790_000_000), parallel: 1)
        let outcome = try r.get()
        #expect(outcome.fetched.count == 2)
        #expect(outcome.fetchedWithProblems.map(\.entry.name) == ["202610.EXP_CARDS.BAB.P.csv"])
        let manifest = try Manifest.load(root: root)
        #expect(manifest.files.values.filter { $0.problems > 0 }.map(\.storedName) == ["202610.EXP_CARDS.BAB.P.csv"])
    }
}
