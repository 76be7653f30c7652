import Foundation

/// The archive's record of what it holds: for each file its remote path, size, remote mtime,
/// SHA-256 and fetch time. A file is identified by its relative directory and its name without
/// `.gz` (`X.csv` and `X.csv.gz` are the same file). Written atomically after each file.
public struct Manifest: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Hashable {
        /// The path on the server, as listed.
        public var remotePath: String
        /// The name it is stored under (`.csv` or `.csv.gz`, byte for byte as fetched).
        public var storedName: String
        public var size: UInt64
        /// The server's mtime, seconds since the epoch.
        public var remoteMtime: Int64
        /// Lowercase hex.
        public var sha256: String
        /// UTC, ISO 8601.
        public var fetchedAt: String
        /// Problems the parser found when it was fetched (0: clean).
        public var problems: Int
        /// Earlier versions kept beside it (`<name>.replaced-<UTC>`), oldest first.
        public var replaced: [String]?

        public init(
            remotePath: String, storedName: String, size: UInt64, remoteMtime: Int64, sha256: String, fetchedAt: String,
            problems: Int, replaced: [String]? = nil
        ) {
            self.remotePath = remotePath
            self.storedName = storedName
            self.size = size
            self.remoteMtime = remoteMtime
            self.sha256 = sha256
            self.fetchedAt = fetchedAt
            self.problems = problems
            self.replaced = replaced
        }
    }

    public var version = 1
    /// Keyed by `<relative dir>/<name without .gz>`.
    public var files: [String: Entry] = [:]

    public init() {}

    public static let fileName = "manifest.json"

    public static func key(directory: String, name: ExpCardsFileName) -> String {
        directory + "/" + name.canonicalName
    }

    /// The largest manifest read: 64 MiB, about 150,000 entries, decades of a large merchant's
    /// files. Anything bigger is not this program's and is refused rather than loaded whole.
    public static let maximumSize = 64 << 20

    /// Reads `<archive>/manifest.json`; an empty manifest when there is none yet. Every entry is
    /// checked to name regular files inside the archive's layout (`validate`).
    public static func load(from archive: ArchiveDirectory) throws(ArchiveError) -> Manifest {
        let path = archive.pathOf(fileName)
        let bytes: [UInt8]
        do throws(ArchiveError) {
            guard let read = try archive.readAll(fileName, limit: maximumSize) else { return Manifest() }
            bytes = read
        } catch {
            if case .io = error { throw error }
            throw .corruptManifest(path: path, reason: error.description)
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: Data(bytes))
        } catch {
            throw .corruptManifest(path: path, reason: String(describing: error).prefix(200).description)
        }
        if let problem = manifest.validate() { throw .corruptManifest(path: path, reason: problem) }
        return manifest
    }

    /// `load(from:)` of the archive at `root` (checked as `ArchiveDirectory.openRoot` does); an
    /// empty manifest when there is no archive yet.
    public static func load(root: String) throws(ArchiveError) -> Manifest {
        guard let archive = try ArchiveDirectory.openRoot(root, create: false) else { return Manifest() }
        return try load(from: archive)
    }

    /// Why the manifest cannot be trusted, or nil. Each key is `<dir>/<name>` or
    /// `<dir>/<dir>/<name>` (the archive's layout, `ArchivePath.relativeDirectory`), each part a
    /// safe component (no `..`, no `/`, not hidden, no control character); the stored name is an
    /// EXP_CARDS name of that same file, and each kept version a safe name beside it. So no entry
    /// can name a file outside the archive, a device, or the archive's own files.
    public func validate() -> String? {
        for (key, entry) in files.sorted(by: { $0.key < $1.key }) {
            let quoted = abbreviated(Array(key.utf8), limit: 80)
            let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard (2...3).contains(parts.count), parts.allSatisfy(ArchivePath.isSafeComponent) else {
                return "entry \(quoted) is not a path of the archive's layout (<dir>/expired/<file>)"
            }
            let stored = abbreviated(Array(entry.storedName.utf8), limit: 80)
            guard ArchivePath.isSafeComponent(entry.storedName), let name = ExpCardsFileName(entry.storedName),
                Manifest.key(directory: parts.dropLast().joined(separator: "/"), name: name) == key
            else {
                return "entry \(quoted): stored name \(stored) is not the EXP_CARDS file name of this entry"
            }
            for old in entry.replaced ?? []
            where !ArchivePath.isSafeComponent(old) || ArchivePath.originalName(ofReplaced: old) == nil {
                return
                    "entry \(quoted): kept version \(abbreviated(Array(old.utf8), limit: 80)) is not a name of a kept version"
            }
        }
        return nil
    }

    public func save(to archive: ArchiveDirectory) throws(ArchiveError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(self) } catch {
            throw .io(path: archive.pathOf(Manifest.fileName), operation: "encode", reason: "\(error)")
        }
        try archive.writeAtomically(Array(data) + [0x0A], to: Manifest.fileName)
    }

    /// `save(to:)` the archive at `root`, created if needed.
    public func save(root: String) throws(ArchiveError) {
        try save(to: try ArchiveDirectory.openRoot(root, create: true)!)
    }
}

/// `2026-11-01T04:12:09Z`.
public func iso8601UTC(epochSeconds t: Int64) -> String {
    let day = Day(daysSinceEpoch: Int(t >= 0 ? t / 86_400 : (t - 86_399) / 86_400))
    let s = Int(t - Int64(day.daysSinceEpoch) * 86_400)
    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(day)T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))Z"
}

/// `20261101T041209Z`, for file names.
public func compactUTC(epochSeconds t: Int64) -> String {
    iso8601UTC(epochSeconds: t).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
}
