import Crypto
import Glibc

/// One file being downloaded into the archive, crash-safely.
///
/// The bytes go to a hidden partial file in the final directory, named after the remote size and
/// mtime plus a random part (`.<name>.<size>-<mtime>-<random>.part`, created with `O_EXCL`), so
/// an interrupted download resumes on the next try only when the remote file is unchanged, and
/// no one can plant the file it will write to. `commit` checks the size, gives the file the
/// remote mtime, fsyncs, keeps any earlier version as `<name>.replaced-<UTC>`, renames into place
/// and fsyncs the directory: a file is never visible under its final name until it is complete.
/// The remote mtime on a complete file is what lets a later run recognise a file renamed into
/// place just before a crash, before the manifest recorded it. Every operation is relative to the
/// directory's descriptor and follows no link (`ArchiveDirectory`).
public final class ArchiveDownload {
    public let directory: ArchiveDirectory
    public let name: String
    public let expectedSize: UInt64
    public let partName: String
    /// For messages.
    public var partPath: String { directory.pathOf(partName) }
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
    ///   - directory: the final directory, open.
    ///   - name: the remote file name (already checked safe).
    public init(
        in directory: ArchiveDirectory, name: String, remoteSize: UInt64, remoteMtime: Int64
    )
        throws(ArchiveError)
    {
        self.directory = directory
        self.name = name
        self.expectedSize = remoteSize
        self.remoteMtime = remoteMtime
        let version = ".\(name).\(remoteSize)-\(remoteMtime)"
        // Partial data of another version of the file is useless: restart. Only this name's
        // (`.<name>.<version>.part`, no dot in the version): `.X.csv.gz.<…>.part` is another
        // file's, maybe being written by another connection.
        var resumable: String?
        for entry in try directory.names() where Self.isPartial(entry, of: name) {
            if resumable == nil && Self.isPartial(entry, version: version) && directory.info(entry)?.kind == .regular {
                resumable = entry
            } else {
                unlinkat(directory.fd, entry, 0)
            }
        }
        let fd: Int32
        if let resumable {
            fd = try directory.openForUpdate(resumable)
            partName = resumable
        } else {
            (fd, partName) = try directory.createUnique(prefix: version + "-", suffix: ".part")
        }
        self.fd = fd
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
                let n = buf.withUnsafeMutableBytes {
                    pread(fd, $0.baseAddress, min($0.count, Int(existing - done)), off_t(done))
                }
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

    /// A new descriptor of the partial file for reading from its start (its own offset), or -1.
    func openPartForReading() -> Int32 {
        openat(directory.fd, partName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Whether `entry` is a partial file of `name`, of any version.
    static func isPartial(_ entry: String, of name: String) -> Bool {
        let prefix = ".\(name)."
        let suffix = ".part"
        guard entry.hasPrefix(prefix), entry.hasSuffix(suffix), entry.utf8.count > prefix.utf8.count + suffix.utf8.count
        else { return false }
        let version = entry.utf8.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
        return !version.contains(UInt8(ascii: "."))
    }

    /// Whether `entry` is a partial file of exactly `version` (`.<name>.<size>-<mtime>`): with a
    /// random part (`-<16 hex>`), or without (as earlier versions named them).
    static func isPartial(_ entry: String, version: String) -> Bool {
        guard entry.hasPrefix(version), entry.hasSuffix(".part") else { return false }
        let rest = Array(entry.utf8.dropFirst(version.utf8.count).dropLast(5))
        if rest.isEmpty { return true }
        return rest.count == 17 && rest[0] == UInt8(ascii: "-") && rest.dropFirst().allSatisfy { isHexDigit($0) }
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)
    }

    /// Appends bytes (the SFTP layer's sink).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ArchiveDirectory.fail(partPath, "write")
            }
            done += n
        }
        hasher.update(bufferPointer: bytes)
        offset += UInt64(bytes.count)
        #if os(Linux)
        // Start the writeback of each 8 MiB as it is written, without waiting: the fsync at the
        // end of a big file then has little left to do.
        if offset - flushedUpTo >= 8 << 20 {
            _ = startWriteback(fd, off_t(flushedUpTo), off_t(offset - flushedUpTo), syncFileRangeWrite)
            flushedUpTo = offset
        }
        #endif
    }

    /// Removes the partial data (after a local write failure: on a full disk, keeping it helps no one).
    public func discard() {
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        unlinkat(directory.fd, partName, 0)
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
            throw .sizeMismatch(path: directory.pathOf(name), expected: expectedSize, actual: offset)
        }
        var times = [timespec(tv_sec: Int(remoteMtime), tv_nsec: 0), timespec(tv_sec: Int(remoteMtime), tv_nsec: 0)]
        if futimens(fd, &times) != 0 { throw ArchiveDirectory.fail(partPath, "set the time of") }
        if fsync(fd) != 0 { throw ArchiveDirectory.fail(partPath, "fsync") }
        close(fd)
        fd = -1
        let digest = hexDigest(hasher.finalize())
        var replaced: String?
        var identical = false
        if let existing = directory.info(name) {
            guard existing.kind == .regular else {
                throw existing.kind == .symlink
                    ? .symlink(path: directory.pathOf(name)) : .notRegular(path: directory.pathOf(name))
            }
            identical = (try? directory.sha256Hex(of: name)) == digest
            if !identical {
                // Nothing is ever overwritten: the earlier version stays beside the new one.
                var n = 1
                var candidate = ArchivePath.replacedName(of: name, at: now)
                while directory.info(candidate) != nil {
                    n += 1
                    candidate = ArchivePath.replacedName(of: name, at: now, attempt: n)
                }
                try directory.rename(name, to: candidate)
                replaced = candidate
            }
        }
        try directory.rename(partName, to: name)
        if syncDirectory { try directory.sync() }
        return Committed(sha256: digest, replaced: replaced, identical: identical)
    }
}

#if os(Linux)
/// glibc's `sync_file_range(2)`, which the Glibc module does not export.
@_silgen_name("sync_file_range")
private func startWriteback(_ fd: Int32, _ offset: off_t, _ count: off_t, _ flags: UInt32) -> Int32
/// `SYNC_FILE_RANGE_WRITE`: start the writeback, do not wait for it.
private let syncFileRangeWrite: UInt32 = 2
#endif

/// SHA-256 of a file, hex, following the path as given (for files outside the archive, and tests).
public func sha256Hex(ofFile path: String) throws(ArchiveError) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ArchiveDirectory.fail(path, "open") }
    defer { close(fd) }
    return try ArchiveDirectory.sha256Hex(fd: fd, path: path)
}
