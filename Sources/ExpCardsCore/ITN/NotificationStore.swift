import Glibc
import Synchronization

/// The notifications received: `<archive>/itn/notifications.jsonl`, one `NotificationRecord`
/// per line, append-only.
///
/// Under the archive's rules: the directory and the file are reached through `ArchiveDirectory`
/// (no link followed, 0700 and 0600). Writers (`itn serve`, `itn import`, `prune`) and readers
/// (`report`, `verify`) take `itn/.lock` with flock(2) — exclusive to write, shared to read —
/// so any number of processes may use the store at once. A write that a crash cut short leaves an
/// unterminated last line; it was never acknowledged (`append` returns after the fsync), and the
/// next writer cuts it off before appending.
public final class NotificationStore: Sendable {
    public enum Via: String, Sendable { case serve, `import` }

    public struct Incoming: Sendable {
        public var envelope: ITNEnvelope
        public var receivedAt: Timestamp
        public var via: Via
        /// Whether its signature was checked against the configured key and matched.
        public var signed: Bool

        public init(envelope: ITNEnvelope, receivedAt: Timestamp, via: Via, signed: Bool = false) {
            self.envelope = envelope
            self.receivedAt = receivedAt
            self.via = via
            self.signed = signed
        }
    }

    public enum Outcome: Sendable, Equatable {
        case stored(id: String)
        /// Already in the store, or the alias's latest notification says the same.
        case duplicate(id: String)
    }

    public static let directoryName = "itn"
    public static let fileName = "notifications.jsonl"
    public static let lockName = ".lock"
    /// A line longer than this is not one the store wrote.
    static let maximumLine = 4096

    let directory: ArchiveDirectory
    private let lockFD: Int32
    private let state = Mutex(State())

    private struct State {
        var fd: Int32 = -1
        var inode: ino_t = 0
        /// Bytes of the file already read into `index`.
        var offset = 0
        var index = DuplicateIndex()
    }

    private init(directory: ArchiveDirectory, lockFD: Int32) {
        self.directory = directory
        self.lockFD = lockFD
    }

    deinit {
        state.withLock { if $0.fd >= 0 { close($0.fd) } }
        close(lockFD)
    }

    public var path: String { directory.pathOf(Self.fileName) }

    /// Opens the store of the archive at `archiveRoot` (creating `itn/` when `create`); nil when
    /// there is none and `create` is false.
    public static func open(archiveRoot: String, create: Bool) throws(ArchiveError) -> NotificationStore? {
        guard let root = try ArchiveDirectory.openRoot(archiveRoot, create: create) else { return nil }
        return try open(archive: root, create: create)
    }

    public static func open(archive root: ArchiveDirectory, create: Bool) throws(ArchiveError) -> NotificationStore? {
        guard let dir = try root.subdirectory(directoryName, create: create) else { return nil }
        return NotificationStore(directory: dir, lockFD: try dir.openForUpdate(lockName))
    }

    /// Why the store could not take a notification now, or nil: its directory is on a read-only
    /// file system, or the file system has less than 1 MiB free. For `GET /health`: cheap (one
    /// fstatvfs), no lock, nothing written.
    public func unhealthy() -> String? {
        var fs = statvfs()
        guard fstatvfs(directory.fd, &fs) == 0 else { return "cannot stat the store's file system" }
        if fs.f_flag & UInt(ST_RDONLY) != 0 { return "the store's file system is read-only" }
        if UInt64(fs.f_bavail) * UInt64(fs.f_frsize) < 1 << 20 { return "the store's file system is full" }
        return nil
    }

    /// Runs `body` holding the store's file lock (shared or exclusive), waiting for it: writers
    /// hold it for one batch's write and fsync.
    func withFileLock<T>(exclusive: Bool, _ body: () throws(ArchiveError) -> T) throws(ArchiveError) -> T {
        while flock(lockFD, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            guard errno == EINTR else { throw ArchiveDirectory.fail(directory.pathOf(Self.lockName), "lock") }
        }
        defer { flock(lockFD, LOCK_UN) }
        return try body()
    }

    /// Appends the batch under the file lock and fsyncs before returning: when it returns, every
    /// `.stored` is durable. Blocking I/O; thread-safe.
    public func append(_ batch: [Incoming]) throws(ArchiveError) -> [Outcome] {
        try state.withLock { (s: inout State) throws(ArchiveError) -> [Outcome] in
            try withFileLock(exclusive: true) { () throws(ArchiveError) -> [Outcome] in
                let created = try attach(&s)
                try catchUp(&s)
                var bytes: [UInt8] = []
                let w = JSONWriter(flushAt: Int.max / 2) { bytes += $0 }
                var outcomes: [Outcome] = []
                outcomes.reserveCapacity(batch.count)
                for incoming in batch {
                    let record = NotificationRecord(
                        notification: incoming.envelope.notification, receivedAt: incoming.receivedAt,
                        explicitTime: incoming.envelope.explicitTime, via: incoming.via, signed: incoming.signed)
                    if s.index.isDuplicate(record) {
                        outcomes.append(.duplicate(id: record.id))
                    } else {
                        s.index.add(record)
                        record.write(to: w)
                        outcomes.append(.stored(id: record.id))
                    }
                }
                w.finish()
                do throws(ArchiveError) {
                    if !bytes.isEmpty {
                        try writeAll(bytes, at: s.offset, fd: s.fd)
                        guard fsync(s.fd) == 0 else {
                            let e = errno
                            _ = ftruncate(s.fd, off_t(s.offset))
                            throw ArchiveDirectory.fail(path, "fsync", e)
                        }
                        s.offset += bytes.count
                    }
                    if created { try directory.sync() }
                } catch {
                    // The index already holds the batch, which was not stored: forget it all, so
                    // the next append reads the file again (a retry must not be a "duplicate").
                    close(s.fd)
                    s = State()
                    throw error
                }
                return outcomes
            }
        }
    }

    /// Opens the file, again when `prune` replaced it; returns whether it was created.
    private func attach(_ s: inout State) throws(ArchiveError) -> Bool {
        var named = stat()
        let exists = fstatat(directory.fd, Self.fileName, &named, AT_SYMLINK_NOFOLLOW) == 0
        if s.fd >= 0 && exists && named.st_ino == s.inode { return false }
        if s.fd >= 0 { close(s.fd) }
        s = State()
        s.fd = try directory.openForUpdate(Self.fileName)
        var st = stat()
        fstat(s.fd, &st)
        s.inode = st.st_ino
        return !exists
    }

    /// Reads what other writers appended since, and cuts off an unterminated last line.
    private func catchUp(_ s: inout State) throws(ArchiveError) {
        var st = stat()
        guard fstat(s.fd, &st) == 0 else { throw ArchiveDirectory.fail(path, "stat") }
        let size = Int(st.st_size)
        if size < s.offset {
            s.offset = 0
            s.index = DuplicateIndex()
        }
        guard size > s.offset else { return }
        let complete = try Self.readLines(fd: s.fd, from: s.offset, path: path) { _, result in
            if case .success(let record) = result { s.index.add(record) }
        }
        if s.offset + complete < size {
            guard ftruncate(s.fd, off_t(s.offset + complete)) == 0 else {
                throw ArchiveDirectory.fail(path, "truncate")
            }
        }
        s.offset += complete
    }

    private func writeAll(_ bytes: [UInt8], at offset: Int, fd: Int32) throws(ArchiveError) {
        var done = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { raw in
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                done += n
            }
        }
        if failure != 0 {
            // Nothing of a failed batch may stay: it was not acknowledged.
            _ = ftruncate(fd, off_t(offset))
            throw ArchiveDirectory.fail(path, "write", failure)
        }
    }
}

/// What makes a notification a duplicate: the same notification with the same own time already
/// stored, or the same content as the alias's latest notification (a repeat changes nothing;
/// the same state after a different one is a change and is kept).
///
/// Compact, as it holds every alias of the store (a million for the benchmark): an id is kept
/// as its first 128 bits (SHA-256: no collision to fear), and the latest notification of an
/// alias as its time and a 64-bit hash of its content, compared only with that alias's next
/// notification (a false "duplicate" would need a 2^-64 collision).
struct DuplicateIndex {
    struct Key: Hashable {
        var alias: String
        var mode: Environment
    }
    struct ID: Hashable {
        var high: UInt64
        var low: UInt64
        init?(hex: String) {
            let bytes = Array(hex.utf8.prefix(32))
            guard bytes.count == 32, let decoded = Hex.decode(bytes) else { return nil }
            high = decoded[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
            low = decoded[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
        }
    }
    private var explicitIDs = Set<ID>()
    private var latest: [Key: (at: Timestamp, content: Int)] = [:]

    func isDuplicate(_ r: NotificationRecord) -> Bool {
        if r.timeIsExplicit, let id = ID(hex: r.id), explicitIDs.contains(id) { return true }
        return latest[Key(alias: r.notification.alias, mode: r.notification.mode)]?.content
            == r.notification.hashValue
    }

    mutating func add(_ r: NotificationRecord) {
        if r.timeIsExplicit, let id = ID(hex: r.id) { explicitIDs.insert(id) }
        let key = Key(alias: r.notification.alias, mode: r.notification.mode)
        if let current = latest[key], current.at > r.notifiedAt { return }
        latest[key] = (r.notifiedAt, r.notification.hashValue)
    }
}
