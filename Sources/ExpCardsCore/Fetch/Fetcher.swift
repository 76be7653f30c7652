import Foundation
import Glibc
import Synchronization

/// Lists the platform's directories and downloads into the archive every EXP_CARDS file it does
/// not hold yet, over one connection (or `parallel` ones, each with its own files), resuming and
/// retrying transient faults within a bound. It never writes, renames or deletes anything on the
/// server.
///
/// Each file is checked by the parser while it arrives and committed (fsync, rename) on the
/// check's thread while the next file downloads. The manifest is saved at the end, every few
/// seconds, and before an error ends the run; a file renamed into place by a run killed before
/// its manifest was saved is recognised by its size and mtime (set to the server's) and recorded
/// by the next run, without downloading it again.
public final class Fetcher: Sendable {
    public struct Options: Sendable {
        public var archiveRoot: String
        /// Tried in order; the first that exists is used. The default is the platform's
        /// directory, then the one some brands use instead.
        public var companyDirectories = ["/ROOT/expired", "/common/expired"]
        /// Shop ids; nil: every 8-digit directory of the login directory that has `expired`.
        public var shops: [String]?
        /// `%s` stands for the shop id.
        public var shopDirectoryPattern = "%s/expired"
        /// nil: both environments.
        public var mode: Environment?
        public var retries = 3
        /// Seconds; only for the announced bound (the SFTP layer enforces it).
        public var timeout = 30
        /// First backoff in seconds, doubled at each retry.
        public var backoff = 1.0
        public var dryRun = false
        /// SFTP connections downloading at the same time, each its own share of the files.
        public var parallel = 1
        /// Seconds between manifest saves during a long run (and always at the end).
        public var manifestInterval: Int64 = 5
        /// The archive root, already opened (the one whose lock the caller holds); nil: opened
        /// from `archiveRoot` on first use.
        public var archive: ArchiveDirectory?

        public init(archiveRoot: String) { self.archiveRoot = archiveRoot }
    }

    /// What happened, for the log and the progress line.
    public enum Event: Sendable {
        case companyDirectory(String)
        case warning(String)
        case willFetch(count: Int, bytes: UInt64, bound: Int)
        case started(RemoteListing.File, resumeFrom: UInt64)
        case progress(RemoteListing.File, bytes: UInt64)
        case retrying(RemoteListing.File?, attempt: Int, of: Int, after: Double, error: String)
        case fetched(RemoteListing.File, sha256: String, replaced: String?, problems: Int)
        case failed(RemoteListing.File, error: String)
    }

    public struct Outcome: Sendable {
        public var listing = RemoteListing()
        public var fetched: [RemoteListing.File] = []
        public var failed: [(file: RemoteListing.File, error: String)] = []
        /// Months of newly fetched files.
        public var newMonths: Set<YearMonth> = []
        /// Read again because the server's mtime changed, and found byte-identical to the
        /// archived copy: the manifest takes the new mtime, nothing else changes.
        public var unchanged: [RemoteListing.File] = []
        /// Fetched files (among `fetched`) in which the check found problems: kept, and flagged
        /// in the manifest.
        public var fetchedWithProblems: [RemoteListing.File] = []
        public var warnings: [String] = []
    }

    public let options: Options
    let connect: @Sendable () throws -> RemoteStore
    let onEvent: @Sendable (Event) -> Void
    let now: @Sendable () -> Int64
    /// The listing's connection, also the first downloader's.
    let main: Connection
    /// Serialises `onEvent` (called from several threads), and nothing else: the downloaders'
    /// state has its own lock (`Shared`), never held while an event is handled.
    private let eventOrder = Mutex(())
    /// The archive, opened once, relative to which every file is reached.
    let archive: ArchiveHandle

    /// - Parameters:
    ///   - connect: opens a new connection (called again after a transient fault, and once
    ///     per extra connection with `parallel`, possibly from another thread).
    public init(
        options: Options, connect: @escaping @Sendable () throws -> RemoteStore, now: @escaping @Sendable () -> Int64,
        onEvent: @escaping @Sendable (Event) -> Void
    ) {
        self.options = options
        self.connect = connect
        self.now = now
        self.onEvent = onEvent
        main = Connection(connect)
        archive = ArchiveHandle(root: options.archiveRoot, opened: options.archive)
    }

    /// One connection, reopened after a fault. Used by one thread at a time; the lock only
    /// makes that hand-over between threads safe.
    final class Connection: Sendable {
        let connect: @Sendable () throws -> RemoteStore
        private let store = Mutex<RemoteStore?>(nil)

        init(_ connect: @escaping @Sendable () throws -> RemoteStore) { self.connect = connect }
        deinit { drop() }

        func remote() throws -> RemoteStore {
            try store.withLock { store in
                if let store { return store }
                let s = try connect()
                store = s
                return s
            }
        }

        func drop() {
            store.withLock { store in
                store?.close()
                store = nil
            }
        }
    }

    func emit(_ event: Event) {
        eventOrder.withLock { _ in onEvent(event) }
    }

    func warn(_ text: String, into list: inout [String]) {
        list.append(text)
        emit(.warning(text))
    }

    // MARK: Fetching

    /// The longest one file may take to fail: every attempt waiting the full timeout, plus backoff.
    public var boundPerFile: Int {
        var backoff = 0.0
        var b = options.backoff
        for _ in 0..<options.retries {
            backoff += b
            b *= 2
        }
        return (options.retries + 1) * options.timeout + Int(backoff.rounded(.up))
    }

    /// Lists, then downloads what the archive lacks. Throws archive errors (local I/O: stop at
    /// once) and non-transient remote errors; transient ones are retried, then recorded per file.
    public func run() throws -> Outcome {
        var outcome = Outcome()
        let manifest = try Manifest.load(from: archive.get())
        // Extra connections (`parallel`) list their share of the directories, then download
        // their share of the files.
        let helpers = (1..<max(1, options.parallel)).map { _ in Connection(connect) }
        defer { for helper in helpers { helper.drop() } }
        outcome.listing = try withRetries(main, file: nil) { try discover(manifest: manifest, helpers: helpers) }
        outcome.warnings = outcome.listing.warnings
        let todo = outcome.listing.toFetch
        emit(.willFetch(count: todo.count, bytes: todo.reduce(0) { $0 + $1.entry.size }, bound: boundPerFile))
        if options.dryRun { return outcome }
        let shared = Shared(manifest: manifest, outcome: outcome, now: now())
        try recordUnrecorded(shared)

        let shares = Self.split(todo, into: max(1, min(options.parallel, todo.count)))
        if shares.count <= 1 {
            fetchShare(todo, on: main, shared: shared)
        } else {
            // One thread per extra connection; this thread downloads the first share on the
            // listing's connection.
            let extra = zip(shares.dropFirst(), helpers).map { share, connection in
                { @Sendable [self] in
                    // A connection that cannot be opened (a server that takes fewer) leaves its
                    // share to the first, rather than failing each of its files.
                    do {
                        _ = try withRetries(connection, file: nil) { try connection.remote() }
                        fetchShare(share, on: connection, shared: shared)
                    } catch {
                        emit(
                            .warning(
                                "an extra connection could not be opened (\(error)): its \(share.count) file\(share.count == 1 ? "" : "s") go to the first connection"
                            ))
                        shared.state.withLock { $0.orphans += share }
                    }
                    connection.drop()
                }
            }
            WorkerThreads.run(extra) { fetchShare(shares[0], on: main, shared: shared) }
            let orphans = shared.state.withLock { $0.orphans }
            if !orphans.isEmpty { fetchShare(orphans, on: main, shared: shared) }
        }
        // Save what was fetched even when an error ends the run, then report the error.
        let saved = Result { () throws(ArchiveError) in try save(shared, force: true) }
        let (stop, final) = shared.state.withLock { ($0.stop, $0) }
        if let stop { throw stop }
        try saved.get()
        outcome = final.outcome
        // Commits finish on their own threads, in any order: report in the listing's.
        let order = Dictionary(
            outcome.listing.files.enumerated().map { ($1.remotePath, $0) }, uniquingKeysWith: { a, _ in a })
        outcome.fetched.sort { order[$0.remotePath, default: 0] < order[$1.remotePath, default: 0] }
        outcome.failed.sort { order[$0.file.remotePath, default: 0] < order[$1.file.remotePath, default: 0] }
        outcome.unchanged.sort { order[$0.remotePath, default: 0] < order[$1.remotePath, default: 0] }

        // Months missing between the oldest and the newest archived: purged before anyone fetched them.
        for env in Environment.allCases {
            let months = Set(
                final.manifest.files.keys.compactMap { key -> YearMonth? in
                    guard let name = ExpCardsFileName(String(key.split(separator: "/").last ?? "")),
                        name.environment == env
                    else { return nil }
                    return name.month
                })
            let gaps = PurgeSchedule.gaps(in: months)
            if !gaps.isEmpty {
                warn(
                    "the archive has no \(env.rawValue) file of \(gaps.map(\.description).joined(separator: ", ")): purged from the server before anyone fetched them",
                    into: &outcome.warnings)
            }
        }
        return outcome
    }

    /// Splits the files into `count` shares of about the same bytes (biggest first to the
    /// least loaded), each share in listing order.
    static func split(_ files: [RemoteListing.File], into count: Int) -> [[RemoteListing.File]] {
        guard count > 1 else { return [files] }
        var loads = [UInt64](repeating: 0, count: count)
        var owner = [Int](repeating: 0, count: files.count)
        for i in files.indices.sorted(by: { files[$0].entry.size > files[$1].entry.size }) {
            let least = loads.indices.min { loads[$0] < loads[$1] }!
            owner[i] = least
            loads[least] += max(files[i].entry.size, 1)
        }
        return (0..<count).map { share in files.indices.filter { owner[$0] == share }.map { files[$0] } }
    }

}
