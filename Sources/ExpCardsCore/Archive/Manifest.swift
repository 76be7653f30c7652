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

        public init(remotePath: String, storedName: String, size: UInt64, remoteMtime: Int64, sha256: String, fetchedAt: String, problems: Int, replaced: [String]? = nil) {
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

    /// Reads `<root>/manifest.json`; an empty manifest when there is none yet.
    public static func load(root: String) throws(ArchiveError) -> Manifest {
        let path = root + "/" + fileName
        guard let bytes = try FileSystem.readAll(path) else { return Manifest() }
        do {
            return try JSONDecoder().decode(Manifest.self, from: Data(bytes))
        } catch {
            throw .corruptManifest(path: path, reason: String(describing: error).prefix(200).description)
        }
    }

    public func save(root: String) throws(ArchiveError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(self) } catch {
            throw .io(path: root + "/" + Manifest.fileName, operation: "encode", reason: "\(error)")
        }
        try FileSystem.writeAtomically(Array(data) + [0x0A], to: root + "/" + Manifest.fileName)
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
