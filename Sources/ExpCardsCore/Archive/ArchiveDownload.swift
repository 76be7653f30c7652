#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto

/// One file being downloaded into the archive, crash-safely.
///
/// The bytes go to a hidden partial file in the final directory, named after the remote size and
/// mtime (`.<name>.<size>-<mtime>.part`), so an interrupted download resumes on the next try only
/// when the remote file is unchanged. `commit` checks the size, gives the file the remote mtime,
/// fsyncs, keeps any earlier version as `<name>.replaced-<UTC>`, renames into place and fsyncs
/// the directory: a file is never visible under its final name until it is complete. The remote
/// mtime on a complete file is what lets a later run recognise a file renamed into place just
/// before a crash, before the manifest recorded it.
public final class ArchiveDownload {
    public let directory: String
    public let name: String
    public let expectedSize: UInt64
    public let partPath: String
    /// Bytes already on disk (resumed) plus written.
    public private(set) var offset: UInt64 = 0
    /// Bytes this run found already downloaded.
    public let resumedFrom: UInt64
    public let remoteMtime: Int64
    private var fd: Int32
    /// Written bytes up to here are already on their way to the disk (see `write`).
    private var flushedUpTo: UInt64 = 0
    private var hasher = SHA256()

    /// - Parameters:
    ///   - directory: absolute final directory (created 0700).
    ///   - name: the remote file name (already checked safe).
    public init(directory: String, name: String, remoteSize: UInt64, remoteMtime: Int64) throws(ArchiveError) {
        try FileSystem.makeDirectories(directory)
        self.directory = directory
        self.name = name
        self.expectedSize = remoteSize
        self.remoteMtime = remoteMtime
        let partName = ".\(name).\(remoteSize)-\(remoteMtime).part"
        partPath = directory + "/" + partName
        // Partial data of another version of the file is useless: restart. Only this name's
        // (`.<name>.<size>-<mtime>.part`, no dot in the middle): `.X.csv.gz.<…>.part` is another
        // file's, maybe being written by another connection.
        for stale in FileSystem.list(directory) where stale != partName && Self.isPartial(stale, of: name) {
            unlink(directory + "/" + stale)
        }
        let fd = open(partPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw FileSystem.fail(partPath, "create") }
        self.fd = fd
        fchmod(fd, 0o600)
        var st = stat()
        fstat(fd, &st)
        var existing = UInt64(max(0, st.st_size))
        if existing > remoteSize {
            ftruncate(fd, 0)
            existing = 0
        }
        // Hash what is already there, so the manifest's digest covers the whole file.
        var hasher = SHA256()
        if existing > 0 {
            var buf = [UInt8](repeating: 0, count: 1 << 20)
            var done: UInt64 = 0
            while done < existing {
                let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, min($0.count, Int(existing - done)), off_t(done)) }
                if n <= 0 { break }
                buf.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                done += UInt64(n)
            }
            existing = done
            ftruncate(fd, off_t(existing))
        }
        lseek(fd, off_t(existing), SEEK_SET)
        self.hasher = hasher
        offset = existing
        resumedFrom = existing
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Whether `entry` is a partial file of `name`, of any version.
    static func isPartial(_ entry: String, of name: String) -> Bool {
        let prefix = ".\(name).", suffix = ".part"
        guard entry.hasPrefix(prefix), entry.hasSuffix(suffix), entry.utf8.count > prefix.utf8.count + suffix.utf8.count else { return false }
        let version = entry.utf8.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
        return !version.contains(UInt8(ascii: "."))
    }

    /// Appends bytes (the SFTP layer's sink).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystem.fail(partPath, "write")
            }
            done += n
        }
        hasher.update(bufferPointer: bytes)
        offset += UInt64(bytes.count)
        #if os(Linux)
        // Start the writeback of each 8 MiB as it is written, without waiting: the fsync at the
        // end of a big file then has little left to do.
        if offset - flushedUpTo >= 8 << 20 {
            _ = startWriteback(fd, off_t(flushedUpTo), off_t(offset - flushedUpTo), 2 /* SYNC_FILE_RANGE_WRITE */)
            flushedUpTo = offset
        }
        #endif
    }

    /// Removes the partial data (after a local write failure: on a full disk, keeping it helps no one).
    public func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(partPath)
    }

    /// What `commit` did.
    public struct Committed: Sendable {
        public var sha256: String
        /// The name the earlier version was moved to, when it differed from this one.
        public var replaced: String?
        /// The file under the final name already held exactly these bytes: only its mtime changed
        /// (a server that reports a new modification time on each listing).
        public var identical: Bool
    }

    /// Makes the file visible under its final name. An earlier version with other bytes is kept as
    /// `<name>.replaced-<UTC>`; one with the same bytes is simply replaced (a file is identified by
    /// its content, not its timestamp). `syncDirectory` false leaves the fsync of the directory
    /// (which makes the rename durable) to the caller, who may batch it.
    public func commit(now: Int64, syncDirectory: Bool = true) throws(ArchiveError) -> Committed {
        guard offset == expectedSize else {
            throw .sizeMismatch(path: directory + "/" + name, expected: expectedSize, actual: offset)
        }
        var times = [timespec(tv_sec: Int(remoteMtime), tv_nsec: 0), timespec(tv_sec: Int(remoteMtime), tv_nsec: 0)]
        if futimens(fd, &times) != 0 { throw FileSystem.fail(partPath, "set the time of") }
        if fsync(fd) != 0 { throw FileSystem.fail(partPath, "fsync") }
        close(fd)
        fd = -1
        let digest = hasher.finalize().map { byte in
            let h = String(byte, radix: 16)
            return h.count == 1 ? "0" + h : h
        }.joined()
        let final = directory + "/" + name
        var replaced: String?
        var identical = false
        if FileSystem.exists(final) {
            identical = (try? sha256Hex(ofFile: final)) == digest
            if !identical {
                // Nothing is ever overwritten: the earlier version stays beside the new one.
                var candidate = "\(name).replaced-\(compactUTC(epochSeconds: now))"
                var n = 1
                while FileSystem.exists(directory + "/" + candidate) {
                    n += 1
                    candidate = "\(name).replaced-\(compactUTC(epochSeconds: now))-\(n)"
                }
                try FileSystem.rename(final, directory + "/" + candidate)
                replaced = candidate
            }
        }
        try FileSystem.rename(partPath, final)
        if syncDirectory { try FileSystem.fsyncDirectory(directory) }
        return Committed(sha256: digest, replaced: replaced, identical: identical)
    }
}

#if os(Linux)
/// glibc's `sync_file_range(2)`, which the Glibc module does not export.
@_silgen_name("sync_file_range")
private func startWriteback(_ fd: Int32, _ offset: off_t, _ count: off_t, _ flags: UInt32) -> Int32
#endif

/// SHA-256 of a file, hex (for `verify`).
public func sha256Hex(ofFile path: String) throws(ArchiveError) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileSystem.fail(path, "open") }
    defer { close(fd) }
    var hasher = SHA256()
    var buf = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw FileSystem.fail(path, "read")
        }
        if n == 0 { break }
        buf.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
}
