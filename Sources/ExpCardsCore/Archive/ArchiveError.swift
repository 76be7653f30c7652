/// What can go wrong in the archive, sorted by what the caller does about it.
public enum ArchiveError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A local I/O failure (unwritable directory, disk full): exit 74.
    case io(path: String, operation: String, reason: String)
    /// Another run holds the archive's lock: exit 75.
    case locked(path: String, holder: String?)
    /// The manifest cannot be read as JSON, or says something it may not: nothing is written over it.
    case corruptManifest(path: String, reason: String)
    /// A line of the network's notification store cannot be read: a rewrite (prune) would lose
    /// it, so the store is left as it is (exit 74).
    case corruptStore(path: String, line: Int, reason: String)
    /// The downloaded size differs from what the server announced (the file changed meanwhile).
    case sizeMismatch(path: String, expected: UInt64, actual: UInt64)
    /// A symbolic link under the archive: never followed (exit 74).
    case symlink(path: String)
    /// A directory, FIFO, device or socket where the archive expects a regular file (exit 74).
    case notRegular(path: String)
    /// A name or file the archive refuses to use (exit 74).
    case unsafeName(path: String, reason: String)
    /// A file larger than the archive reads whole (exit 74).
    case tooLarge(path: String, limit: Int)
    /// The archive directory's owner or mode lets someone else change it (exit 78, as OpenSSH's
    /// StrictModes): `fix` is the command that makes it safe.
    case insecureArchive(path: String, reason: String, fix: String)

    public var description: String {
        switch self {
        case .io(let path, let op, let reason): return "\(path): cannot \(op): \(reason)"
        case .locked(let path, let holder):
            return "another expcards run holds the archive lock \(path)" + (holder.map { " (\($0))" } ?? "")
                + "; try again when it has finished"
        case .corruptManifest(let path, let reason):
            return "\(path): the manifest is not readable (\(reason)); fix or move it aside, then run again"
        case .corruptStore(let path, let line, let reason):
            return "\(path):\(line): not a notification the store wrote (\(reason)); nothing was changed: "
                + "run 'expcards verify' to see every such line"
        case .sizeMismatch(let path, let expected, let actual):
            return
                "\(path): received \(actual) bytes where the server announced \(expected) (the file changed during the download?)"
        case .symlink(let path):
            return
                "\(path) is a symbolic link: refused, not followed (nothing under the archive may point out of it); remove it"
        case .notRegular(let path):
            return "\(path) is not a regular file (a directory, FIFO, device or socket): refused, not opened; remove it"
        case .unsafeName(let path, let reason): return "\(path): refused: \(reason)"
        case .tooLarge(let path, let limit): return "\(path) is larger than \(limit >> 20) MiB: refused, not read"
        case .insecureArchive(let path, let reason, let fix):
            return "the archive directory \(path) is not safe: \(reason); fix it with '\(fix)'"
        }
    }
}
