#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file operations the archive needs to be crash-safe and private: 0700
/// directories, 0600 files, fsync of files and of directories after a rename.
/// Written against POSIX directly because the guarantees (O_EXCL, fsync of a directory, flock)
/// are the point, and Foundation's FileManager exposes none of them.
enum FileSystem {
    static func fail(_ path: String, _ op: String, _ e: Int32 = errno) -> ArchiveError {
        .io(path: path, operation: op, reason: String(cString: strerror(e)))
    }

    /// mkdir -p, each created directory 0700. Existing directories are left as they are, except
    /// that the archive's own are tightened to 0700.
    static func makeDirectories(_ path: String) throws(ArchiveError) {
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            built += "/" + part
            if mkdir(built, 0o700) != 0 && errno != EEXIST { throw fail(built, "create directory") }
        }
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { throw fail(path, "use as a directory", ENOTDIR) }
    }

    static func tighten(_ path: String, mode: mode_t) {
        _ = chmod(path, mode)
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    static func size(_ path: String) -> UInt64? {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return UInt64(st.st_size)
    }

    /// Size and mtime (seconds) of a regular file, not following a symbolic link.
    static func sizeAndMtime(_ path: String) -> (size: UInt64, mtime: Int64)? {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return (UInt64(st.st_size), Int64(st.st_mtim.tv_sec))
    }

    static func fsyncDirectory(_ path: String) throws(ArchiveError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw fail(path, "open directory") }
        defer { close(fd) }
        if fsync(fd) != 0 && errno != EINVAL { throw fail(path, "fsync directory") }
    }

    static func rename(_ from: String, _ to: String) throws(ArchiveError) {
        if Glibc.rename(from, to) != 0 { throw fail(to, "rename \(from) to") }
    }

    /// Names in a directory (not `.`/`..`); empty when it does not exist.
    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Writes a whole small file atomically: temp file 0600, fsync, rename, fsync the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ArchiveError) {
        let dir = directory(of: path)
        let temp = dir + "/." + base(of: path) + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail(temp, "create") }
        var ok = true
        var e: Int32 = 0
        bytes.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    ok = false
                    e = errno
                    return
                }
                off += n
            }
        }
        if ok && fsync(fd) != 0 { ok = false; e = errno }
        close(fd)
        guard ok else {
            unlink(temp)
            throw fail(path, "write", e)
        }
        do throws(ArchiveError) {
            try rename(temp, path)
        } catch {
            unlink(temp)
            throw error
        }
        try fsyncDirectory(dir)
    }

    static func readAll(_ path: String) throws(ArchiveError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw fail(path, "open")
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail(path, "read")
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func base(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }
}
