import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A test server's fixture tree: the files it serves under `root`, and its scratch directory.
/// OpenSSH's and ProFTPD's test servers fill theirs the same way.
public protocol ServedTree {
    /// The served tree on this machine.
    var root: String { get }
    /// Whether the server confines the user to `root` (then `/X` in the server is `root/X`).
    var isChrooted: Bool { get }
    /// The server's own files (config, keys, logs); not served.
    var workDirectory: String { get }
}

extension ServedTree {
    /// The path a client uses for an absolute path of the served tree ("/ROOT/expired").
    public func remotePath(_ absolute: String) -> String {
        isChrooted ? absolute : root + absolute
    }

    /// The local file behind a remote path (absolute within the tree, or relative to it).
    public func localPath(_ path: String) -> String {
        path.hasPrefix("/") ? root + path : root + "/" + path
    }

    /// Writes a fixture file (parent directories created 0755) and returns its local path.
    @discardableResult
    public func write(_ path: String, _ contents: Data, mode: mode_t = 0o644) throws -> String {
        let local = localPath(path)
        let parent = (local as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        guard FileManager.default.createFile(atPath: local, contents: contents) else {
            throw TestSSHServerError("cannot write \(local)")
        }
        chmod(local, mode)
        return local
    }

    @discardableResult
    public func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws -> String {
        try write(path, Data(text.utf8), mode: mode)
    }

    /// Writes `size` random bytes at `path` (from /dev/urandom: fast even in debug builds).
    @discardableResult
    public func writeRandomFile(_ path: String, size: Int) throws -> String {
        let local = try write(path, Data())
        let fd = open(local, O_WRONLY | O_TRUNC)
        guard fd >= 0 else { throw TestSSHServerError("cannot open \(local)") }
        defer { close(fd) }
        let pid = try Subprocess.spawn("/usr/bin/head", ["-c", String(size), "/dev/urandom"], stdout: fd)
        guard Subprocess.wait(pid) == 0 else { throw TestSSHServerError("head -c \(size) /dev/urandom failed") }
        return local
    }

    /// Writes a file in the scratch directory (not served), e.g. an alternative known_hosts.
    @discardableResult
    public func writeScratchFile(_ name: String, _ text: String, mode: mode_t = 0o600) throws -> String {
        let path = workDirectory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode)
        return path
    }
}
