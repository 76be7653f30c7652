import Glibc

/// An open directory of the archive, and every file operation the archive does, relative to it.
///
/// The archive is a trust boundary: nothing under it is followed out of it. So every name is
/// one component, opened relative to this descriptor with `O_NOFOLLOW` (directories walked one
/// component at a time from the root's descriptor), and a symbolic link, a FIFO or a device
/// anywhere under the archive is refused by name, never opened in a way that could follow or
/// hang. Files are created 0600 and directories 0700 whatever the umask (set with fchmod after
/// creation); temporary files get unpredictable names and `O_EXCL`. The root itself must belong
/// to the running user and not be writable by group or others (as OpenSSH's StrictModes), and so
/// must every directory under it.
///
/// Written against POSIX directly because these guarantees are the point and Foundation's
/// FileManager exposes none of them.
public final class ArchiveDirectory: @unchecked Sendable {  // immutable after init; the fd is only read
    /// The directory's path, for messages only: never opened again.
    public let path: String
    let fd: Int32

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// What `fstatat` says of a name, without following it.
    public struct Info: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case regular, directory, symlink, other }
        public var kind: Kind
        public var size: UInt64
        public var mtime: Int64
    }

    // MARK: The root

    /// Opens the archive root `path` (created 0700, with its missing parents, when `create`), and
    /// checks that the running user owns it and that neither group nor others may write to it.
    /// Nil when it does not exist and `create` is false. The root's path is the user's own
    /// setting and is resolved once, here; everything under it is reached through the descriptor.
    public static func openRoot(_ path: String, create: Bool) throws(ArchiveError) -> ArchiveDirectory? {
        guard !path.isEmpty else { throw .io(path: path, operation: "open the archive", reason: "empty path") }
        if create { try makeParents(path) }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        var st = stat()
        if fd < 0 {
            let e = errno
            if e == ENOENT && !create { return nil }
            // Another user's directory this one may not even open: say whose it is.
            guard e == EACCES, stat(path, &st) == 0, st.st_uid != geteuid() else {
                throw fail(path, "open the archive directory", e)
            }
        } else {
            guard fstat(fd, &st) == 0 else {
                let e = errno
                close(fd)
                throw fail(path, "stat", e)
            }
        }
        if st.st_uid != geteuid() {
            if fd >= 0 { close(fd) }
            let owner = getpwuid(st.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(st.st_uid)"
            let me = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid \(geteuid())"
            throw .insecureArchive(
                path: path, reason: "it belongs to \(owner), not to the user running expcards (\(me))",
                fix: "chown \(me) \(shellQuoted(path))")
        }
        let dir = ArchiveDirectory(fd: fd, path: path)
        if st.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            throw .insecureArchive(
                path: path, reason: "group or others may write to it (mode \(String(st.st_mode & 0o7777, radix: 8)))",
                fix: "chmod go-w \(shellQuoted(path))")
        }
        return dir
    }

    /// `mkdir -p` of the root: each directory this creates is 0700, and its parent is fsynced so
    /// that the new name survives a power cut (the files written under it next depend on it).
    private static func makeParents(_ path: String) throws(ArchiveError) {
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            let parent = built.isEmpty ? "/" : built
            built += "/" + part
            if mkdir(built, 0o700) == 0 {
                _ = chmod(built, 0o700)  // the umask may have taken bits off
                let fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                if fd >= 0 {
                    defer { close(fd) }
                    if fsync(fd) != 0 && errno != EINVAL { throw fail(parent, "fsync directory") }
                }
            } else if errno != EEXIST {
                throw fail(built, "create directory")
            }
        }
    }

    // MARK: Names

    /// `path/name`, for messages.
    public func pathOf(_ name: String) -> String { path.hasSuffix("/") ? path + name : path + "/" + name }

    /// A name this type opens: one component, not `.` or `..`.
    func check(_ name: String) throws(ArchiveError) {
        guard !name.isEmpty, name != ".", name != "..", !name.utf8.contains(UInt8(ascii: "/")), !name.utf8.contains(0)
        else {
            throw .unsafeName(path: pathOf(name), reason: "not a single file name")
        }
    }

    /// The error for a failed call on `name`: a symbolic link is named as such.
    func fail(_ name: String, _ op: String, _ e: Int32 = errno) -> ArchiveError {
        if e == ELOOP || e == ENOTDIR || e == ENXIO || e == EMLINK, let info = info(name) {
            if info.kind == .symlink { return .symlink(path: pathOf(name)) }
            if info.kind == .other { return .notRegular(path: pathOf(name)) }
        }
        return Self.fail(pathOf(name), op, e)
    }

    static func fail(_ path: String, _ op: String, _ e: Int32 = errno) -> ArchiveError {
        .io(path: path, operation: op, reason: String(cString: strerror(e)))
    }

    /// fstatat without following; nil when there is nothing under that name.
    public func info(_ name: String) -> Info? {
        var st = stat()
        guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        let kind: Info.Kind
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = .other
        }
        return Info(kind: kind, size: UInt64(max(0, st.st_size)), mtime: Int64(st.st_mtim.tv_sec))
    }

    /// Names in the directory (not `.`/`..`), sorted.
    public func names() throws(ArchiveError) -> [String] {
        let copy = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard copy >= 0, let dir = fdopendir(copy) else {
            let e = errno
            throw Self.fail(path, "list", e)
        }
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

    // MARK: Directories

    /// The directory `relative` under this one (`a/b`), walked one component at a time without
    /// following any link, each missing one created 0700 when `create`. Nil when a component is
    /// missing and `create` is false.
    public func subdirectory(_ relative: String, create: Bool) throws(ArchiveError) -> ArchiveDirectory? {
        var current = self
        for part in relative.split(separator: "/", omittingEmptySubsequences: true).map(String.init) {
            guard let next = try current.child(part, create: create) else { return nil }
            current = next
        }
        return current
    }

    private func child(_ name: String, create: Bool) throws(ArchiveError) -> ArchiveDirectory? {
        try check(name)
        var created = false
        if create {
            if mkdirat(fd, name, 0o700) == 0 {
                created = true
            } else if errno != EEXIST {
                throw fail(name, "create directory")
            }
        }
        var child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if child < 0 && errno == EACCES && created {
            // A umask that takes the owner's bits off left it unreadable: give it its mode.
            _ = fchmodat(fd, name, 0o700, 0)
            child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        if child < 0 {
            if errno == ENOENT && !create { return nil }
            throw fail(name, "open directory")
        }
        let dir = ArchiveDirectory(fd: child, path: pathOf(name))
        if created {
            _ = fchmod(child, 0o700)
            // The new name is durable before anything is written under it (`dir` closes `child`
            // if this throws).
            try sync()
        }
        // As the root: no one else may add a name under it between a check and a use.
        var st = stat()
        if fstat(child, &st) == 0 && (st.st_uid != geteuid() || st.st_mode & (S_IWGRP | S_IWOTH) != 0) {
            let me = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid \(geteuid())"
            throw st.st_uid != geteuid()
                ? .insecureArchive(
                    path: dir.path, reason: "it belongs to another user", fix: "chown \(me) \(shellQuoted(dir.path))")
                : .insecureArchive(
                    path: dir.path, reason: "group or others may write to it",
                    fix: "chmod go-w \(shellQuoted(dir.path))")
        }
        return dir
    }

    public func sync() throws(ArchiveError) {
        if fsync(fd) != 0 && errno != EINVAL { throw Self.fail(path, "fsync directory") }
    }

    // MARK: Files

    /// Opens a regular file for reading, or nil when there is none by that name. `O_NONBLOCK`
    /// so that a FIFO cannot hang the open; the fstat then refuses anything but a regular file.
    public func openForReading(_ name: String) throws(ArchiveError) -> Int32? {
        try check(name)
        try refuseSpecial(name)
        let f = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        if f < 0 {
            if errno == ENOENT { return nil }
            throw fail(name, "open")
        }
        _ = try regularFileStatus(f, name)
        _ = fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK)
        return f
    }

    /// The status of `f`, just opened as `name`, which must be a regular file; `f` is closed when
    /// the answer is an error.
    private func regularFileStatus(_ f: Int32, _ name: String) throws(ArchiveError) -> stat {
        var st = stat()
        guard fstat(f, &st) == 0 else {
            let e = errno
            close(f)
            throw Self.fail(pathOf(name), "stat", e)
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            close(f)
            throw .notRegular(path: pathOf(name))
        }
        return st
    }

    /// A link or a special file is refused before any open: opening a device can act on it. (The
    /// open that follows checks again, on what it opened.)
    private func refuseSpecial(_ name: String) throws(ArchiveError) {
        switch info(name)?.kind {
        case .symlink: throw .symlink(path: pathOf(name))
        case .other, .directory: throw .notRegular(path: pathOf(name))
        case .regular, nil: return
        }
    }

    /// Opens (creating it 0600 if needed) a regular file for reading and writing, for files whose
    /// name must be known in advance (the lock, a resumable partial download). Refused unless it
    /// is a regular file of the running user with no other hard link: nothing written through it
    /// can land in another file.
    public func openForUpdate(_ name: String) throws(ArchiveError) -> Int32 {
        try check(name)
        try refuseSpecial(name)
        let f = openat(fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0o600)
        guard f >= 0 else { throw fail(name, "open") }
        let st = try regularFileStatus(f, name)
        guard st.st_uid == geteuid(), st.st_nlink == 1 else {
            close(f)
            throw .unsafeName(
                path: pathOf(name), reason: st.st_nlink != 1 ? "has other hard links" : "belongs to another user")
        }
        _ = fchmod(f, 0o600)
        _ = fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK)
        return f
    }

    /// Creates a new file `<prefix><random><suffix>` with `O_EXCL`, 0600: no name an attacker
    /// could have guessed and planted in advance.
    public func createUnique(prefix: String, suffix: String) throws(ArchiveError) -> (fd: Int32, name: String) {
        for _ in 0..<16 {
            let name = prefix + Self.randomToken() + suffix
            try check(name)
            let f = openat(fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if f >= 0 {
                _ = fchmod(f, 0o600)
                return (f, name)
            }
            if errno != EEXIST { throw fail(name, "create") }
        }
        throw Self.fail(pathOf(prefix + "…" + suffix), "create", EEXIST)
    }

    /// 16 hex digits from the system's random generator.
    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        let v = g.next() as UInt64
        let hex = String(v, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// renameat within this directory; `to` is replaced if it exists (a link itself, never its target).
    public func rename(_ from: String, to: String) throws(ArchiveError) {
        try check(from)
        try check(to)
        if renameat(fd, from, fd, to) != 0 { throw Self.fail(pathOf(to), "rename \(pathOf(from)) to") }
    }

    /// unlinkat: removes the name itself (a link, never its target).
    public func remove(_ name: String) throws(ArchiveError) {
        try check(name)
        if unlinkat(fd, name, 0) != 0 { throw Self.fail(pathOf(name), "delete") }
    }
}
