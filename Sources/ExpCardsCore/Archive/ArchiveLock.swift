import Glibc

/// One run at a time: an flock(2) on `<archive>/.lock`, released by the kernel when the process
/// ends however it ends (a `kill -9` leaves no stale lock). The file holds the holder's pid. It
/// is opened without following a link and only when it is the user's own regular file with no
/// other hard link, so writing the pid cannot land anywhere else.
public final class ArchiveLock {
    public static let fileName = ".lock"
    private let fd: Int32
    public let path: String

    /// Takes the lock at once or throws `.locked` naming the process that holds it; never waits.
    public init(archive: ArchiveDirectory) throws(ArchiveError) {
        path = archive.pathOf(Self.fileName)
        let fd = try archive.openForUpdate(Self.fileName)
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            var buf = [UInt8](repeating: 0, count: 64)
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            close(fd)
            guard e == EWOULDBLOCK else { throw ArchiveDirectory.fail(path, "lock", e) }
            let holder = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).trimmingSpaces : nil
            throw .locked(path: path, holder: holder.map { "pid \($0)" })
        }
        self.fd = fd
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Opens (creating it) the archive at `root`, then takes its lock.
    public convenience init(root: String) throws(ArchiveError) {
        try self.init(archive: try ArchiveDirectory.openRoot(root, create: true)!)
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\n" { s.removeLast() }
        return String(s)
    }
}
