/// What can go wrong in the archive, sorted by what the caller does about it.
public enum ArchiveError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A local I/O failure (unwritable directory, disk full): exit 74.
    case io(path: String, operation: String, reason: String)
    /// Another run holds the archive's lock: exit 75.
    case locked(path: String, holder: String?)
    /// The manifest cannot be read as JSON: nothing is written over it.
    case corruptManifest(path: String, reason: String)
    /// The downloaded size differs from what the server announced (the file changed meanwhile).
    case sizeMismatch(path: String, expected: UInt64, actual: UInt64)

    public var description: String {
        switch self {
        case .io(let path, let op, let reason): return "\(path): cannot \(op): \(reason)"
        case .locked(let path, let holder):
            return "another expcards run holds the archive lock \(path)" + (holder.map { " (\($0))" } ?? "")
                + "; try again when it has finished"
        case .corruptManifest(let path, let reason):
            return "\(path): the manifest is not readable (\(reason)); fix or move it aside, then run again"
        case .sizeMismatch(let path, let expected, let actual):
            return "\(path): received \(actual) bytes where the server announced \(expected) (the file changed during the download?)"
        }
    }
}
