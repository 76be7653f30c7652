/// What the archive holds on disk, walked through `ArchiveDirectory` (no link followed), for
/// `report`, `prune` and `verify`.
///
/// The layout: `<root>/manifest.json`, `<root>/.lock`, the notification store
/// `<root>/itn/{notifications.jsonl,.lock}` (`NotificationStore`), and the files under `<root>/<dir>/` or
/// `<root>/<dir>/<dir>/` (`ArchivePath.relativeDirectory`: `ROOT/expired/<file>`); hidden files
/// beside them are partial downloads (`.<name>.<version>.part`) or the manifest's temporary file.
public enum ArchiveContents {
    public struct Entry: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// A visible regular file in an archive directory.
            case file
            /// A partial download or a temporary file, left by a run that did not finish.
            case partial
            /// The archive's own file (`manifest.json`, `.lock`).
            case own
            /// A symbolic link: never followed.
            case symlink
            /// Anything else: a FIFO, a device, a directory or hidden file out of the layout.
            case unknown(String)
        }
        /// Relative to the root: `ROOT/expired`, or "" for the root itself.
        public var directory: String
        public var name: String
        public var kind: Kind
        public var size: UInt64
        public var mtime: Int64

        public var relativePath: String { directory.isEmpty ? name : directory + "/" + name }
    }

    /// Every entry of the archive, sorted by path. Directories are entered only when they are
    /// real directories (never through a link) and at most two levels deep.
    public static func scan(_ archive: ArchiveDirectory) throws(ArchiveError) -> [Entry] {
        var out: [Entry] = []
        try scan(archive, relative: "", depth: 0, into: &out)
        return out.sorted { $0.relativePath < $1.relativePath }
    }

    private static func scan(
        _ dir: ArchiveDirectory, relative: String, depth: Int, into out: inout [Entry]
    )
        throws(ArchiveError)
    {
        for name in try dir.names() {
            guard let info = dir.info(name) else { continue }  // gone meanwhile
            var entry = Entry(directory: relative, name: name, kind: .file, size: info.size, mtime: info.mtime)
            switch info.kind {
            case .symlink:
                entry.kind = .symlink
            case .other:
                entry.kind = .unknown("not a regular file (a FIFO, device or socket)")
            case .directory:
                // The file system's own, when the archive is a mount point.
                if depth == 0 && name == "lost+found" { continue }
                if depth < 2 && ArchivePath.isSafeComponent(name) {
                    guard let sub = try dir.subdirectory(name, create: false) else { continue }
                    try scan(
                        sub, relative: relative.isEmpty ? name : relative + "/" + name, depth: depth + 1, into: &out)
                    continue
                }
                entry.kind = .unknown("a directory outside the archive's layout")
            case .regular:
                if depth == 0 {
                    if name == Manifest.fileName || name == ArchiveLock.fileName {
                        entry.kind = .own
                    } else if name.hasPrefix("." + Manifest.fileName + ".tmp-") {
                        entry.kind = .partial
                    } else {
                        entry.kind = .unknown("a file outside the archive's directories")
                    }
                } else if relative == NotificationStore.directoryName {
                    if name == NotificationStore.fileName || name == NotificationStore.lockName {
                        entry.kind = .own
                    } else if name.hasPrefix("." + NotificationStore.fileName + ".tmp-") {
                        entry.kind = .partial
                    } else {
                        entry.kind = .unknown("a file expcards did not write in the notification store")
                    }
                } else if name.hasPrefix(".") {
                    entry.kind =
                        partialFileName(name) != nil ? .partial : .unknown("a hidden file expcards did not write")
                } else {
                    entry.kind = .file
                }
            }
            out.append(entry)
        }
    }

    /// The file a partial download is of (`.X.csv.<version>.part` → `X.csv`), or nil.
    public static func partialFileName(_ entry: String) -> String? {
        guard entry.hasPrefix("."), entry.hasSuffix(".part") else { return nil }
        let inner = entry.dropFirst().dropLast(5)
        guard let dot = inner.lastIndex(of: "."), dot != inner.startIndex else { return nil }
        let name = String(inner[..<dot])
        return ArchiveDownload.isPartial(entry, of: name) ? name : nil
    }

    /// The file an archived file is a version of: itself, or the file a kept earlier version
    /// is of (`X.csv.replaced-<UTC>` → `X.csv`).
    public static func originalName(_ name: String) -> String {
        ArchivePath.originalName(ofReplaced: name) ?? name
    }

    /// Every file in `<root>/<dir>/expired/` that a report may read: not hidden (partial
    /// downloads, the lock, temporary files) and not a kept earlier version (`.replaced-`).
    /// Absolute paths, sorted; none when there is no archive. A link anywhere in the archive is
    /// refused (`.symlink`), as is a FIFO or device: nothing is read through one.
    public static func reportableFiles(root: String) throws(ArchiveError) -> [String] {
        guard let archive = try ArchiveDirectory.openRoot(root, create: false) else { return [] }
        return try reportableFiles(in: archive)
    }

    /// `reportableFiles(root:)` of an open archive.
    public static func reportableFiles(in archive: ArchiveDirectory) throws(ArchiveError) -> [String] {
        var out: [String] = []
        for entry in try scan(archive) {
            switch entry.kind {
            case .symlink: throw .symlink(path: archive.pathOf(entry.relativePath))
            case .unknown where entry.directory.hasSuffix("/expired"):
                throw .notRegular(path: archive.pathOf(entry.relativePath))
            case .file:
                let parts = entry.directory.split(separator: "/")
                if parts.count == 2 && parts[1] == "expired" && ArchivePath.originalName(ofReplaced: entry.name) == nil
                {
                    out.append(archive.pathOf(entry.relativePath))
                }
            default: break
            }
        }
        return out
    }

    /// The parser's opener for paths relative to the archive (`ROOT/expired/<file>`): walked
    /// from the root's descriptor one component at a time, no link followed, a FIFO never
    /// waited on. The path given is the one the parser names in its messages.
    public static func opener(_ archive: ArchiveDirectory) -> FileSource.Opener {
        { path throws(SourceError) in
            let parts = path.split(separator: "/").map(String.init)
            do throws(ArchiveError) {
                guard let name = parts.last, !path.hasPrefix("/"),
                    let dir = try archive.subdirectory(parts.dropLast().joined(separator: "/"), create: false),
                    let fd = try dir.openForReading(name)
                else { throw .io(path: archive.pathOf(path), operation: "open", reason: "No such file or directory") }
                return FileSource(descriptor: fd, path: path)
            } catch {
                throw .unreadable(path: path, reason: error.description)
            }
        }
    }
}
