#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lists the platform's directories and downloads into the archive every EXP_CARDS file it does
/// not hold yet, over one connection, resuming and retrying transient faults within a bound.
/// It never writes, renames or deletes anything on the server.
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
        public var warnings: [String] = []
    }

    public let options: Options
    private let connect: () throws -> RemoteStore
    private let onEvent: (Event) -> Void
    private let now: () -> Int64
    private let checkFile: (String) -> Int
    private var store: RemoteStore?

    /// - Parameters:
    ///   - connect: opens a new connection (called again after a transient fault).
    ///   - checkFile: parses an archived file and returns its problem count.
    public init(
        options: Options, connect: @escaping () throws -> RemoteStore, now: @escaping () -> Int64,
        checkFile: @escaping (String) -> Int, onEvent: @escaping (Event) -> Void
    ) {
        self.options = options
        self.connect = connect
        self.now = now
        self.checkFile = checkFile
        self.onEvent = onEvent
    }

    deinit { store?.close() }

    private func remote() throws -> RemoteStore {
        if let store { return store }
        let s = try connect()
        store = s
        return s
    }

    private func dropConnection() {
        store?.close()
        store = nil
    }

    private func warn(_ text: String, into list: inout [String]) {
        list.append(text)
        onEvent(.warning(text))
    }

    // MARK: Listing

    /// Lists the company directory and the shop directories and compares with the manifest.
    public func discover(manifest: Manifest) throws -> RemoteListing {
        var listing = RemoteListing()
        let store = try remote()
        for dir in options.companyDirectories {
            do {
                let entries = try store.list(dir)
                listing.companyDirectory = dir
                onEvent(.companyDirectory(dir))
                add(entries, in: dir, to: &listing, manifest: manifest)
                break
            } catch let e as any RemoteFailure where e.isNotFound {
                continue
            }
        }
        if listing.companyDirectory == nil {
            warn("no company directory on the server (tried \(options.companyDirectories.joined(separator: ", ")))", into: &listing.warnings)
        }
        var shops = options.shops
        if shops == nil {
            shops = try store.list(".").filter { entry in
                entry.kind == .directory && entry.name.utf8.count == 8 && entry.name.utf8.allSatisfy(isDigit)
            }.map(\.name).sorted()
        }
        for shop in shops ?? [] {
            let dir = options.shopDirectoryPattern.replacingOccurrences(of: "%s", with: shop)
            do {
                add(try store.list(dir), in: dir, to: &listing, manifest: manifest)
                listing.shopDirectories.append(dir)
            } catch let e as any RemoteFailure where e.isNotFound {
                if options.shops != nil { warn("shop \(shop): no directory \(dir) on the server", into: &listing.warnings) }
            }
        }
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
            switch entry.kind {
            case .directory:
                file.note = "directory"
            case .symlink, .other:
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
                if let old = manifest.files[Manifest.key(directory: archiveDir, name: name)] {
                    if old.storedName != entry.name {
                        // X.csv and X.csv.gz are the same file: compression changes size and mtime.
                        file.state = .archived
                        file.note = "archived as \(old.storedName)"
                    } else if old.size == entry.size && old.remoteMtime == entry.mtime {
                        file.state = .archived
                    } else {
                        file.state = .changed
                        file.note = "changed on the server since it was archived (\(old.size) bytes, mtime \(old.remoteMtime))"
                    }
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

    /// Lists, then downloads what the archive lacks. Throws archive errors (local I/O: stop at
    /// once) and non-transient remote errors; transient ones are retried, then recorded per file.
    public func run() throws -> Outcome {
        var outcome = Outcome()
        var manifest = try Manifest.load(root: options.archiveRoot)
        outcome.listing = try withRetries(file: nil) { try discover(manifest: manifest) }
        outcome.warnings = outcome.listing.warnings
        let todo = outcome.listing.toFetch
        onEvent(.willFetch(count: todo.count, bytes: todo.reduce(0) { $0 + $1.entry.size }, bound: boundPerFile))
        if options.dryRun { return outcome }
        for file in todo {
            do {
                let (entry, replaced) = try fetch(file)
                let key = Manifest.key(directory: file.archiveDirectory, name: file.name!)
                var stored = entry
                if let replaced {
                    stored.replaced = (manifest.files[key]?.replaced ?? []) + [replaced]
                    warn("\(file.remotePath) changed on the server: the new version is archived, the earlier one kept as \(replaced)", into: &outcome.warnings)
                }
                manifest.files[key] = stored
                try manifest.save(root: options.archiveRoot)
                outcome.fetched.append(file)
                outcome.newMonths.insert(file.name!.month)
                onEvent(.fetched(file, sha256: entry.sha256, replaced: replaced, problems: entry.problems))
            } catch let e as ArchiveError {
                if case .sizeMismatch = e {
                    outcome.failed.append((file, e.description))
                    onEvent(.failed(file, error: e.description))
                    continue
                }
                throw e
            } catch let e as any RemoteFailure where !e.isTransient && !e.isNotFound {
                throw e
            } catch {
                dropConnection()
                outcome.failed.append((file, "\(error)"))
                onEvent(.failed(file, error: "\(error)"))
            }
        }
        // Months missing between the oldest and the newest archived: purged before anyone fetched them.
        for env in Environment.allCases {
            let months = Set(manifest.files.keys.compactMap { key -> YearMonth? in
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

    /// Runs `body`, reconnecting and retrying transient remote faults with exponential backoff.
    private func withRetries<T>(file: RemoteListing.File?, _ body: () throws -> T) throws -> T {
        var attempt = 0
        var delay = options.backoff
        while true {
            do {
                return try body()
            } catch let e as any RemoteFailure where e.isTransient && attempt < options.retries {
                attempt += 1
                dropConnection()
                onEvent(.retrying(file, attempt: attempt, of: options.retries, after: delay, error: e.description))
                if delay > 0 { usleep(useconds_t(delay * 1_000_000)) }
                delay *= 2
            }
        }
    }

    private func fetch(_ file: RemoteListing.File) throws -> (Manifest.Entry, String?) {
        let directory = options.archiveRoot + "/" + file.archiveDirectory
        let commit: (sha256: String, replaced: String?) = try withRetries(file: file) {
            let download = try ArchiveDownload(
                directory: directory, name: file.entry.name, remoteSize: file.entry.size, remoteMtime: file.entry.mtime)
            onEvent(.started(file, resumeFrom: download.offset))
            do {
                if download.offset < file.entry.size {
                    try remote().download(file.remotePath, from: download.offset) { bytes in
                        if download.offset + UInt64(bytes.count) > file.entry.size {
                            // The file grew during the download: stop rather than archive a mix.
                            throw ArchiveError.sizeMismatch(
                                path: directory + "/" + file.entry.name, expected: file.entry.size,
                                actual: download.offset + UInt64(bytes.count))
                        }
                        try download.write(bytes)
                        onEvent(.progress(file, bytes: download.offset))
                    }
                }
                return try download.commit(now: now())
            } catch let e as ArchiveError {
                if case .io = e { download.discard() }
                if case .sizeMismatch = e { download.discard() }
                throw e
            }
        }
        let problems = checkFile(directory + "/" + file.entry.name)
        let entry = Manifest.Entry(
            remotePath: file.remotePath, storedName: file.entry.name, size: file.entry.size, remoteMtime: file.entry.mtime,
            sha256: commit.sha256, fetchedAt: iso8601UTC(epochSeconds: now()), problems: problems)
        return (entry, commit.replaced)
    }
}
