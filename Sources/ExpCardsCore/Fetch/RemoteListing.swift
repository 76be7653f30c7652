/// What the server holds: the company and shop directories and their files, each compared with
/// the archive. Built by `Fetcher.discover()`; shown by `expcards list`, acted on by `fetch`.
public struct RemoteListing: Sendable {
    public enum State: String, Sendable, Hashable, Encodable {
        /// In the archive, same size and mtime (or the same file under its other compression name).
        case archived
        /// Not in the archive yet.
        case new
        /// In the archive, but the server's size or mtime changed since.
        case changed
        /// Not an EXP_CARDS file, or another environment than asked: listed, not fetched.
        case ignored
        /// A name that could escape the archive, a symlink, or not a regular file.
        case refused
    }

    public struct File: Sendable, Hashable {
        public var remoteDirectory: String
        /// In the archive: `ROOT/expired`, `12345678/expired`.
        public var archiveDirectory: String
        public var entry: RemoteEntry
        public var name: ExpCardsFileName?
        public var state: State
        public var note: String?
        /// Days before the platform deletes it (from the month in its name); nil for other files.
        public var daysLeft: Int?

        public var remotePath: String { remoteDirectory + "/" + entry.name }
    }

    /// The company directory found (`/ROOT/expired` or `/common/expired`); nil when neither exists.
    public var companyDirectory: String?
    public var shopDirectories: [String] = []
    public var files: [File] = []
    public var warnings: [String] = []
    /// The month whose company file should be published by now but is not on the server.
    public var missingCurrentMonth: YearMonth?
    /// Directories the server refused to list (permission denied, failure): skipped, the rest
    /// fetched, and the run fails.
    public var unlisted: [(directory: String, error: String)] = []
    /// Archived files missing from the archive whose remote copy is gone too (manifest keys).
    public var lost: [String] = []

    public init() {}

    public var toFetch: [File] { files.filter { $0.state == .new || $0.state == .changed } }

    /// Entries named like EXP_CARDS files that cannot be archived (a symbolic link, not a regular
    /// file, an unsafe name): the platform published them and we do not hold them, so the run fails.
    public var unfetchable: [File] { files.filter { $0.state == .refused && $0.name != nil } }

}
