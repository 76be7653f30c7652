#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

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
public final class Fetcher {
    public struct Options: Sendable {
        public var archiveRoot: String
        /// Tried in order; the first that exists is used.
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

        public init(archiveRoot: String) { self.archiveRoot = archiveRoot }
    }

    /// What happened, for the log and the progress line.
    public enum Event {
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
        public var warnings: [String] = []
    }

    public let options: Options
    private let connect: () throws -> RemoteStore
    private let onEvent: (Event) -> Void
    private let now: () -> Int64
    /// The listing's connection, also the first downloader's.
    private let main: Connection
    /// Serialises `onEvent` and the shared state of parallel downloads.
    private let lock = NSLock()

    /// - Parameters:
    ///   - connect: opens a new connection (called again after a transient fault, and once
    ///     per extra connection with `parallel`, possibly from another thread).
    public init(
        options: Options, connect: @escaping () throws -> RemoteStore, now: @escaping () -> Int64,
        onEvent: @escaping (Event) -> Void
    ) {
        self.options = options
        self.connect = connect
        self.now = now
        self.onEvent = onEvent
        main = Connection(connect)
    }

    /// One connection, reopened after a fault.
    private final class Connection {
        private let connect: () throws -> RemoteStore
        private var store: RemoteStore?

        init(_ connect: @escaping () throws -> RemoteStore) { self.connect = connect }
        deinit { store?.close() }

        func remote() throws -> RemoteStore {
            if let store { return store }
            let s = try connect()
            store = s
            return s
        }

        func drop() {
            store?.close()
            store = nil
        }
    }

    private func emit(_ event: Event) {
        lock.lock()
        defer { lock.unlock() }
        onEvent(event)
    }

    private func warn(_ text: String, into list: inout [String]) {
        list.append(text)
        emit(.warning(text))
    }

    // MARK: Listing

    /// Lists the company directory and the shop directories and compares with the manifest.
    public func discover(manifest: Manifest) throws -> RemoteListing {
        try discover(manifest: manifest, helpers: [])
    }

    /// `helpers`: extra connections (`parallel`) that list their share of the shop directories.
    private func discover(manifest: Manifest, helpers: [Connection]) throws -> RemoteListing {
        var listing = RemoteListing()
        let store = try main.remote()
        for dir in options.companyDirectories {
            do {
                let entries = try store.list(dir)
                listing.companyDirectory = dir
                emit(.companyDirectory(dir))
                add(entries, in: dir, to: &listing, manifest: manifest)
                break
            } catch let e as any RemoteFailure where e.isNotFound {
                continue
            } catch let e as any RemoteFailure where e.concernsThisPathOnly {
                unlisted(dir, e.description, into: &listing)
                break
            }
        }
        if listing.companyDirectory == nil && listing.unlisted.isEmpty {
            warn("no company directory on the server (tried \(options.companyDirectories.joined(separator: ", ")))", into: &listing.warnings)
        }
        var shops = options.shops
        if shops == nil {
            do {
                shops = try store.list(".").filter { entry in
                    // A server that gives no type: a name of 8 digits is tried as a shop (a
                    // file of that name answers "no such file" for `<shop>/expired`).
                    (entry.kind == .directory || entry.kind == .unknown) && entry.name.utf8.count == 8 && entry.name.utf8.allSatisfy(isDigit)
                }.map(\.name).sorted()
            } catch let e as any RemoteFailure where e.concernsThisPathOnly {
                unlisted(".", e.description, into: &listing)
            }
        }
        let shopDirs = (shops ?? []).map { options.shopDirectoryPattern.replacingOccurrences(of: "%s", with: $0) }
        for (shop, (dir, result)) in zip(shops ?? [], try listAll(shopDirs, on: [main] + helpers)) {
            switch result {
            case .entries(let entries):
                add(entries, in: dir, to: &listing, manifest: manifest)
                listing.shopDirectories.append(dir)
            case .missing:
                if options.shops != nil { warn("shop \(shop): no directory \(dir) on the server", into: &listing.warnings) }
            case .refused(let error):
                unlisted(dir, error, into: &listing)
            }
        }
        findLost(in: listing, manifest: manifest, into: &listing)
        // Files about to be purged that the archive does not hold yet.
        let t = now()
        for f in listing.files where f.state == .new || f.state == .changed {
            if let days = f.daysLeft, days <= PurgeSchedule.urgentDays {
                let when = days < 0 ? "its purge was due \(-days) day\(days == -1 ? "" : "s") ago: it may disappear at any moment" : "the platform deletes it in \(days) day\(days == 1 ? "" : "s")"
                warn("\(f.remotePath) is not archived yet and \(when)", into: &listing.warnings)
            }
        }
        // The current month's company file, once it should be there.
        let current = PurgeSchedule.currentPublishedMonth(now: t)
        let hasCurrent = listing.files.contains { $0.name?.kind == .company && $0.name?.month == current && (options.mode == nil || $0.name?.environment == options.mode) }
        if listing.companyDirectory != nil && !hasCurrent {
            listing.missingCurrentMonth = current
            warn("the company file of \(current) is not on the server yet (published on the 1st at 04:00 UTC)", into: &listing.warnings)
        }
        return listing
    }

    /// A directory the server refused to list: the others are still fetched, the run fails.
    private func unlisted(_ dir: String, _ error: String, into listing: inout RemoteListing) {
        listing.unlisted.append((dir, error.description))
        warn("\(dir) cannot be listed (\(error)): skipped; every other directory is fetched, and the run fails", into: &listing.warnings)
    }

    /// Files the manifest records in a listed directory that are neither in the archive any more
    /// nor on the server: lost (the archive heals only while the server still has a file).
    private func findLost(in current: RemoteListing, manifest: Manifest, into listing: inout RemoteListing) {
        let listedDirectories = Set(([current.companyDirectory].compactMap { $0 } + current.shopDirectories)
            .compactMap { ArchivePath.relativeDirectory(forRemote: $0) })
        let onServer = Set(current.files.compactMap { f in f.name.map { Manifest.key(directory: f.archiveDirectory, name: $0) } })
        for (key, entry) in manifest.files.sorted(by: { $0.key < $1.key }) where !onServer.contains(key) {
            let directory = String(key.split(separator: "/").dropLast().joined(separator: "/"))
            guard listedDirectories.contains(directory) else { continue }
            let path = options.archiveRoot + "/" + directory + "/" + entry.storedName
            if !FileSystem.exists(path) {
                listing.lost.append(key)
                warn("\(directory)/\(entry.storedName) is recorded in the manifest but missing from the archive, and the server no longer has it: lost", into: &listing.warnings)
            }
        }
    }

    /// Lists `dirs` (nil: not found; a failure: the server refused that one), in order; with several connections (at least 8
    /// directories each), each lists a contiguous share on its own thread, the first on this one.
    /// An extra connection gets one attempt: the share of one that fails is listed on the first
    /// connection, whose faults the caller retries (so retries do not multiply, and a server that
    /// takes fewer connections is still listed whole).
    private func listAll(_ dirs: [String], on connections: [Connection]) throws -> [(String, Listed)] {
        let count = max(1, min(connections.count, dirs.count / 8))
        guard count > 1 else { return try listShare(dirs[...], on: connections[0]) }
        let size = (dirs.count + count - 1) / count
        let shares = stride(from: 0, to: dirs.count, by: size).map { dirs[$0..<min(dirs.count, $0 + size)] }
        let results = UncheckedBox(ResultsBox(count: shares.count))
        let done = DispatchGroup()
        for (k, share) in shares.enumerated().dropFirst() {
            let box = UncheckedBox((self, share, connections[k]))
            done.enter()
            let thread = Thread {
                let (fetcher, share, connection) = box.value
                let r = Result { try fetcher.listShare(share, on: connection) }
                if case .failure = r { connection.drop() }
                fetcher.lock.lock()
                results.value.slots[k] = r
                fetcher.lock.unlock()
                done.leave()
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        let first = Result { try listShare(shares[0], on: connections[0]) }
        done.wait()
        lock.lock()
        results.value.slots[0] = first
        let slots = results.value.slots
        lock.unlock()
        var out: [(String, Listed)] = []
        for (share, slot) in zip(shares, slots) {
            switch slot! {
            case .success(let listed): out += listed
            case .failure(let error) where share.startIndex == 0: throw error
            case .failure(let error):
                emit(.warning("an extra connection could not list its share of the shop directories (\(error)): listed on the first connection"))
                out += try listShare(share, on: connections[0])
            }
        }
        return out
    }

    /// One directory's listing.
    enum Listed {
        case entries([RemoteEntry])
        case missing
        /// The server refused to list it (its status, as text).
        case refused(String)
    }

    private func listShare(_ share: ArraySlice<String>, on connection: Connection) throws -> [(String, Listed)] {
        let store = try connection.remote()
        var out: [(String, Listed)] = []
        for (i, dir) in zip(share.indices, share) {
            // Its reply travels while this one is read: one round trip less per directory.
            if i + 1 < share.endIndex { store.openAhead(share[i + 1], directory: true) }
            do {
                out.append((dir, .entries(try store.list(dir))))
            } catch let e as any RemoteFailure where e.isNotFound {
                out.append((dir, .missing))
            } catch let e as any RemoteFailure where e.concernsThisPathOnly {
                out.append((dir, .refused(e.description)))
            }
        }
        return out
    }

    private final class ResultsBox {
        var slots: [Result<[(String, Listed)], any Error>?]
        init(count: Int) { slots = Array(repeating: nil, count: count) }
    }

    static let unrecordedNote = "in the archive, not yet in its manifest (an interrupted run)"

    private func add(_ entries: [RemoteEntry], in dir: String, to listing: inout RemoteListing, manifest: Manifest) {
        let t = now()
        guard let archiveDir = ArchivePath.relativeDirectory(forRemote: dir) else {
            warn("remote directory \(dir) cannot be mirrored safely: skipped", into: &listing.warnings)
            return
        }
        for entry in entries.sorted(by: { $0.name < $1.name }) {
            var file = RemoteListing.File(
                remoteDirectory: dir, archiveDirectory: archiveDir, entry: entry, name: nil, state: .ignored, note: nil, daysLeft: nil)
            if let refusal = ArchivePath.refusal(entry.name) {
                file.state = .refused
                file.note = refusal
                warn("\(dir): \(refusal)", into: &listing.warnings)
                listing.files.append(file)
                continue
            }
            file.name = ExpCardsFileName(entry.name)
            if let name = file.name { file.daysLeft = PurgeSchedule.daysLeft(for: name.month, now: t) }
            var kind = entry.kind
            if kind == .unknown && file.name != nil {
                // Neither the listing, nor its long name, nor an lstat gave a type: opening it
                // as a file decides (the download fails, and so the run, if it is not one).
                kind = .file
                file.note = "the server gives no file type: read as a regular file"
            }
            if kind == .file && file.name != nil && !entry.sizeKnown {
                file.state = .refused
                file.note = "the server gives no size for it: it cannot be downloaded safely"
                warn("\(file.remotePath): \(file.note!)", into: &listing.warnings)
                listing.files.append(file)
                continue
            }
            switch kind {
            case .directory:
                file.note = "directory"
            case .symlink, .other, .unknown:
                if file.name != nil {
                    file.state = .refused
                    file.note = entry.kind == .symlink ? "a symbolic link: not followed" : "not a regular file"
                    warn("\(file.remotePath): \(file.note!)", into: &listing.warnings)
                } else {
                    file.note = "not a regular file"
                }
            case .file:
                guard let name = file.name else {
                    file.note = "not an EXP_CARDS file"
                    break
                }
                if let mode = options.mode, name.environment != mode {
                    file.note = "\(name.environment.rawValue) environment"
                    break
                }
                if let shop = name.shopId, !dir.contains(shop) {
                    file.note = "shop file \(shop) outside its shop's directory"
                }
                // Committed (complete, fsynced, given the server's mtime) by a run that ended
                // before saving the manifest: recorded by `run`, not downloaded again. A new
                // version of a changed file, too: the manifest still describes the old one.
                // (A stat only where the manifest does not settle it: not for every archived file.)
                func inPlace() -> Bool {
                    let local = FileSystem.sizeAndMtime(options.archiveRoot + "/" + archiveDir + "/" + entry.name)
                    return local.map { $0.size == entry.size && $0.mtime == entry.mtime } ?? false
                }
                if let old = manifest.files[Manifest.key(directory: archiveDir, name: name)],
                    !FileSystem.exists(options.archiveRoot + "/" + archiveDir + "/" + old.storedName)
                {
                    // Recorded, then deleted from the archive (by hand?): the archive heals while
                    // the server still has the file.
                    file.state = .new
                    file.note = "recorded in the manifest but missing from the archive: fetched again"
                    warn("\(archiveDir)/\(old.storedName) \(file.note!)", into: &listing.warnings)
                } else if let old = manifest.files[Manifest.key(directory: archiveDir, name: name)] {
                    if old.storedName != entry.name {
                        // X.csv and X.csv.gz are the same file: compression changes size and mtime.
                        file.state = .archived
                        file.note = "archived as \(old.storedName)"
                    } else if old.size == entry.size && old.remoteMtime == entry.mtime {
                        file.state = .archived
                    } else if inPlace() {
                        file.state = .archived
                        file.note = Self.unrecordedNote
                    } else {
                        file.state = .changed
                        file.note = "changed on the server since it was archived (\(old.size) bytes, mtime \(old.remoteMtime))"
                    }
                } else if inPlace() {
                    file.state = .archived
                    file.note = Self.unrecordedNote
                } else {
                    file.state = .new
                }
            }
            listing.files.append(file)
        }
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

    /// What the downloaders share, under `lock`: the manifest, the outcome, the directories whose
    /// renames are not fsynced yet, and the first error that stops everyone.
    private final class Shared {
        var manifest: Manifest
        var outcome: Outcome
        var unsyncedDirectories: Set<String> = []
        var dirty = false
        var lastSave: Int64
        var stop: (any Error)?
        /// The shares of extra connections that could not be opened.
        var orphans: [RemoteListing.File] = []

        init(manifest: Manifest, outcome: Outcome, now: Int64) {
            self.manifest = manifest
            self.outcome = outcome
            lastSave = now
        }
    }

    /// Lists, then downloads what the archive lacks. Throws archive errors (local I/O: stop at
    /// once) and non-transient remote errors; transient ones are retried, then recorded per file.
    public func run() throws -> Outcome {
        var outcome = Outcome()
        let manifest = try Manifest.load(root: options.archiveRoot)
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
            let done = DispatchGroup()
            for (k, share) in shares.enumerated().dropFirst() {
                let box = UncheckedBox((self, share, shared, helpers[k - 1]))
                done.enter()
                let thread = Thread {
                    let (fetcher, share, shared, connection) = box.value
                    // A connection that cannot be opened (a server that takes fewer) leaves its
                    // share to the first, rather than failing each of its files.
                    do {
                        _ = try fetcher.withRetries(connection, file: nil) { try connection.remote() }
                        fetcher.fetchShare(share, on: connection, shared: shared)
                    } catch {
                        fetcher.emit(.warning("an extra connection could not be opened (\(error)): its \(share.count) file\(share.count == 1 ? "" : "s") go to the first connection"))
                        fetcher.lock.withLock { shared.orphans += share }
                    }
                    connection.drop()
                    done.leave()
                }
                thread.stackSize = 4 << 20
                thread.start()
            }
            fetchShare(shares[0], on: main, shared: shared)
            done.wait()
            let orphans = lock.withLock { shared.orphans }
            if !orphans.isEmpty { fetchShare(orphans, on: main, shared: shared) }
        }
        // Save what was fetched even when an error ends the run, then report the error.
        let saved = Result { () throws(ArchiveError) in try save(shared, force: true) }
        if let error = shared.stop { throw error }
        try saved.get()
        outcome = shared.outcome
        // Commits finish on their own threads, in any order: report in the listing's.
        let order = Dictionary(outcome.listing.files.enumerated().map { ($1.remotePath, $0) }, uniquingKeysWith: { a, _ in a })
        outcome.fetched.sort { order[$0.remotePath, default: 0] < order[$1.remotePath, default: 0] }
        outcome.failed.sort { order[$0.file.remotePath, default: 0] < order[$1.file.remotePath, default: 0] }
        outcome.unchanged.sort { order[$0.remotePath, default: 0] < order[$1.remotePath, default: 0] }

        // Months missing between the oldest and the newest archived: purged before anyone fetched them.
        for env in Environment.allCases {
            let months = Set(shared.manifest.files.keys.compactMap { key -> YearMonth? in
                guard let name = ExpCardsFileName(String(key.split(separator: "/").last ?? "")), name.environment == env else { return nil }
                return name.month
            })
            let gaps = PurgeSchedule.gaps(in: months)
            if !gaps.isEmpty {
                warn("the archive has no \(env.rawValue) file of \(gaps.map(\.description).joined(separator: ", ")): purged from the server before anyone fetched them", into: &outcome.warnings)
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

    /// Files renamed into place by a run that ended before saving the manifest: hashed, checked
    /// and recorded as fetched, without downloading them again. When the manifest had an earlier
    /// version, the copy that run kept of it (`<name>.replaced-<UTC>`) is recorded too.
    private func recordUnrecorded(_ shared: Shared) throws {
        for file in shared.outcome.listing.files where file.note == Self.unrecordedNote {
            guard let name = file.name else { continue }
            let directory = options.archiveRoot + "/" + file.archiveDirectory
            let path = directory + "/" + file.entry.name
            let sha = try sha256Hex(ofFile: path)
            let problems = ExpCardsParser.parse(path: path).problems.count
            let key = Manifest.key(directory: file.archiveDirectory, name: name)
            var entry = Manifest.Entry(
                remotePath: file.remotePath, storedName: file.entry.name, size: file.entry.size, remoteMtime: file.entry.mtime,
                sha256: sha, fetchedAt: iso8601UTC(epochSeconds: now()), problems: problems)
            if let old = shared.manifest.files[key] {
                lock.withLock { entry.replaced = replacedCopies(of: file, known: old.replaced, shared: shared) }
            }
            shared.manifest.files[key] = entry
            shared.unsyncedDirectories.insert(directory)
            shared.dirty = true
            shared.outcome.fetched.append(file)
            shared.outcome.newMonths.insert(name.month)
            emit(.fetched(file, sha256: sha, replaced: nil, problems: problems))
        }
    }

    /// fsyncs the directories of the files committed since the last save (their renames become
    /// durable), then writes the manifest atomically: it never names a file a crash could lose.
    private func save(_ shared: Shared, force: Bool) throws(ArchiveError) {
        lock.lock()
        defer { lock.unlock() }
        let t = now()
        guard shared.dirty, force || t - shared.lastSave >= options.manifestInterval else { return }
        for dir in shared.unsyncedDirectories.sorted() { try FileSystem.fsyncDirectory(dir) }
        shared.unsyncedDirectories = []
        try shared.manifest.save(root: options.archiveRoot)
        shared.dirty = false
        shared.lastSave = t
    }

    /// Downloads one share of the files over one connection. Each file's check and commit (with
    /// its two fsyncs, of the file and of its directory) run on their own thread while the next
    /// files download, and that thread records the file in the manifest; at most `maxCommitting`
    /// wait at a time. (fsyncs on a journalling file system take milliseconds each but share the
    /// journal's commits when they run together.)
    private func fetchShare(_ files: [RemoteListing.File], on connection: Connection, shared: Shared) {
        let maxCommitting = 8
        var committing: [StreamingCheck] = []
        for (i, file) in files.enumerated() {
            if stopped(shared) { break }
            do {
                let check = try download(file, next: i + 1 < files.count ? files[i + 1] : nil, on: connection, shared: shared)
                committing.append(check)
            } catch let e as ArchiveError {
                if case .sizeMismatch = e {
                    failed(file, e.description, shared: shared)
                    continue
                }
                stop(e, shared: shared)
            } catch let e as any RemoteFailure where e.concernsThisPathOnly || e.isNotFound {
                // This file only: the session is fine and the other files are still fetched.
                failed(file, e.description, shared: shared)
            } catch let e as any RemoteFailure where !e.isTransient {
                stop(e, shared: shared)
            } catch is Stopped {
                break
            } catch {
                connection.drop()
                failed(file, "\(error)", shared: shared)
            }
            while committing.count > maxCommitting || (!committing.isEmpty && stopped(shared)) {
                committing.removeFirst().waitForCommit()
            }
        }
        for check in committing { check.waitForCommit() }
    }

    /// What the check's thread does once a file's commit is done: records it, and saves the
    /// manifest when that is due. Weak: a cancelled check's thread may outlive the run, and the
    /// fetcher (with its SSH sessions) must not be freed there, racing the process's exit and
    /// OpenSSL's cleanup (`run` waits for every committed check, so none is left unrecorded).
    private func committed(_ file: RemoteListing.File, shared: Shared) -> (Result<StreamingCheck.Verdict, ArchiveError>) -> Void {
        { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let verdict):
                record(file, verdict, shared: shared)
                saveIfDue(shared)
            case .failure(let error):
                if case .sizeMismatch = error { failed(file, error.description, shared: shared) } else { stop(error, shared: shared) }
            }
        }
    }

    /// Another downloader's error ended the run: this download stops too, its partial file
    /// kept for the next run.
    private struct Stopped: Error {}

    private func stopped(_ shared: Shared) -> Bool {
        lock.withLock { shared.stop != nil }
    }

    /// The first error stops every downloader (at its next chunk).
    private func stop(_ error: any Error, shared: Shared) {
        lock.withLock { if shared.stop == nil { shared.stop = error } }
    }

    /// Saves the manifest if it changed and the last save is `manifestInterval` old; a failure
    /// stops the run (the final save reports it).
    private func saveIfDue(_ shared: Shared) {
        do { try save(shared, force: false) } catch { stop(error, shared: shared) }
    }

    private func record(_ file: RemoteListing.File, _ verdict: StreamingCheck.Verdict, shared: Shared) {
        lock.lock()
        defer { lock.unlock() }
        let key = Manifest.key(directory: file.archiveDirectory, name: file.name!)
        var entry = Manifest.Entry(
            remotePath: file.remotePath, storedName: file.entry.name, size: file.entry.size, remoteMtime: file.entry.mtime,
            sha256: verdict.sha256, fetchedAt: iso8601UTC(epochSeconds: now()), problems: verdict.problems)
        let earlier = shared.manifest.files[key]
        if verdict.replaced != nil {
            entry.replaced = replacedCopies(of: file, known: earlier?.replaced, shared: shared)
        } else {
            entry.replaced = earlier?.replaced
        }
        shared.manifest.files[key] = entry
        shared.dirty = true
        if verdict.identical {
            // Same bytes under a new server mtime: not a new file, not a new month.
            shared.outcome.unchanged.append(file)
            return
        }
        shared.outcome.fetched.append(file)
        shared.outcome.newMonths.insert(file.name!.month)
        onEvent(.fetched(file, sha256: verdict.sha256, replaced: verdict.replaced, problems: verdict.problems))
    }

    /// The earlier versions kept beside `file` (`<name>.replaced-<UTC>`, oldest first): the
    /// manifest's, then those on disk it does not list yet, each said in a warning. A run killed
    /// before its save may have kept one the manifest never heard of. Under `lock`.
    private func replacedCopies(of file: RemoteListing.File, known: [String]?, shared: Shared) -> [String]? {
        let known = known ?? []
        let directory = options.archiveRoot + "/" + file.archiveDirectory
        let kept = FileSystem.list(directory).filter { $0.hasPrefix(file.entry.name + ".replaced-") && !known.contains($0) }
        for replaced in kept {
            let text = "\(file.remotePath) changed on the server: the new version is archived, the earlier one kept as \(replaced)"
            shared.outcome.warnings.append(text)
            onEvent(.warning(text))
        }
        let all = known + kept
        return all.isEmpty ? nil : all
    }

    private func failed(_ file: RemoteListing.File, _ error: String, shared: Shared) {
        lock.lock()
        defer { lock.unlock() }
        shared.outcome.failed.append((file, error))
        onEvent(.failed(file, error: error))
    }

    /// Runs `body`, reconnecting and retrying transient remote faults with exponential backoff.
    private func withRetries<T>(_ connection: Connection, file: RemoteListing.File?, _ body: () throws -> T) throws -> T {
        var attempt = 0
        var delay = options.backoff
        while true {
            do {
                return try body()
            } catch let e as any RemoteFailure where e.isTransient && attempt < options.retries {
                attempt += 1
                connection.drop()
                emit(.retrying(file, attempt: attempt, of: options.retries, after: delay, error: e.description))
                if delay > 0 { usleep(useconds_t(delay * 1_000_000)) }
                delay *= 2
            }
        }
    }

    /// Downloads one file into its partial file while the parser checks it, then hands it to the
    /// check's thread for the commit. `next` is opened ahead on the server.
    private func download(_ file: RemoteListing.File, next: RemoteListing.File?, on connection: Connection, shared: Shared) throws -> StreamingCheck {
        let directory = options.archiveRoot + "/" + file.archiveDirectory
        return try withRetries(connection, file: file) {
            let download = try ArchiveDownload(
                directory: directory, name: file.entry.name, remoteSize: file.entry.size, remoteMtime: file.entry.mtime)
            emit(.started(file, resumeFrom: download.offset))
            let check = StreamingCheck(
                name: file.name!, path: directory + "/" + file.entry.name, partPath: download.partPath, resumedFrom: download.offset,
                queueLimit: 8 << 20, onCommit: committed(file, shared: shared))
            do {
                if download.offset < file.entry.size {
                    let store = try connection.remote()
                    if let next { store.openAhead(next.remotePath, directory: false) }
                    try store.download(file.remotePath, from: download.offset, size: file.entry.size) { bytes in
                        if download.offset + UInt64(bytes.count) > file.entry.size {
                            // The file grew during the download: stop rather than archive a mix.
                            throw ArchiveError.sizeMismatch(
                                path: directory + "/" + file.entry.name, expected: file.entry.size,
                                actual: download.offset + UInt64(bytes.count))
                        }
                        try download.write(bytes)
                        check.feed(bytes)
                        emit(.progress(file, bytes: download.offset))
                        // Files committed while a long one downloads are saved on time too.
                        saveIfDue(shared)
                        if stopped(shared) { throw Stopped() }
                    }
                }
                check.commit(download, now: now())
                return check
            } catch {
                check.cancel()
                if let e = error as? ArchiveError {
                    if case .io = e { download.discard() }
                    if case .sizeMismatch = e { download.discard() }
                }
                throw error
            }
        }
    }
}

/// Hands a non-Sendable value to a thread that alone uses it from then on (or under a lock).
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
