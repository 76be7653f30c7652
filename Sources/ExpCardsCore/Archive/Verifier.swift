/// `verify`: re-hashes every file the manifest lists and accounts for everything else on disk.
/// Files are opened through `ArchiveDirectory` only (no link followed, a FIFO never waited on),
/// and the manifest is validated when it is loaded, so no entry can make it read a file outside
/// the archive.
public enum Verifier {
    public struct Finding: Sendable, Equatable {
        public enum Status: String, Sendable {
            case ok = "OK"
            case changed = "CHANGED"
            case missing = "MISSING"
            case unlisted = "UNLISTED"
            /// Refused: a link or a file that is not regular, never opened.
            case refused = "REFUSED"
            /// A partial download or temporary file: not a difference, but cardholder data.
            case partial = "PARTIAL"
            /// Something expcards did not write.
            case unknown = "UNKNOWN"
        }
        public var status: Status
        /// Full path.
        public var path: String
        public var detail: String?

        /// Whether it makes `verify` fail.
        public var isDifference: Bool { status != .ok && status != .partial }

        /// One line: the status padded to a column, the path, the detail.
        public var line: String {
            status.rawValue + String(repeating: " ", count: max(1, 8 - status.rawValue.count)) + path
                + (detail.map { ": " + $0 } ?? "")
        }
    }

    public struct Summary: Sendable, Equatable {
        public var listed = 0
        public var differences = 0
        public var partials = 0
    }

    /// Calls `onFinding` for each file, in order: the manifest's entries, then what is on disk
    /// that it does not list.
    public static func verify(_ archive: ArchiveDirectory, onFinding: (Finding) -> Void) throws(ArchiveError) -> Summary
    {
        let manifest = try Manifest.load(from: archive)
        var summary = Summary()
        summary.listed = manifest.files.count
        var listed = Set<String>()
        var refused = Set<String>()
        func report(_ finding: Finding) {
            if finding.status == .refused { refused.insert(finding.path) }
            if finding.isDifference { summary.differences += 1 }
            if finding.status == .partial { summary.partials += 1 }
            onFinding(finding)
        }
        for (key, entry) in manifest.files.sorted(by: { $0.key < $1.key }) {
            let dir = String(key[..<(key.lastIndex(of: "/") ?? key.startIndex)])
            let relative = dir + "/" + entry.storedName
            let path = archive.pathOf(relative)
            listed.insert(relative)
            for old in entry.replaced ?? [] { listed.insert(dir + "/" + old) }
            do throws(ArchiveError) {
                guard let directory = try archive.subdirectory(dir, create: false),
                    let digest = try directory.sha256Hex(of: entry.storedName)
                else {
                    report(Finding(status: .missing, path: path))
                    continue
                }
                if digest != entry.sha256 {
                    report(Finding(status: .changed, path: path, detail: "SHA-256 \(digest), manifest \(entry.sha256)"))
                } else {
                    report(Finding(status: .ok, path: path))
                }
            } catch {
                switch error {
                case .symlink(let p), .notRegular(let p):
                    report(Finding(status: .refused, path: p, detail: refusal(error)))
                default: throw error
                }
            }
        }
        for entry in try ArchiveContents.scan(archive) where !listed.contains(entry.relativePath) {
            let path = archive.pathOf(entry.relativePath)
            if refused.contains(path) { continue }  // already said for the entry that names it
            switch entry.kind {
            case .own: break
            case .file: report(Finding(status: .unlisted, path: path))
            case .symlink:
                report(Finding(status: .refused, path: path, detail: "a symbolic link: not followed; remove it"))
            case .unknown(let why): report(Finding(status: .unknown, path: path, detail: why))
            case .partial:
                report(
                    Finding(
                        status: .partial, path: path,
                        detail: "\(entry.size) bytes, modified \(iso8601UTC(epochSeconds: entry.mtime))"))
            }
        }
        try verifyNotifications(archive, report)
        return summary
    }

    /// The notification store: every line a valid record whose id matches its content.
    private static func verifyNotifications(
        _ archive: ArchiveDirectory, _ report: (Finding) -> Void
    )
        throws(ArchiveError)
    {
        guard let store = try NotificationStore.open(archive: archive, create: false) else { return }
        var count = 0
        var problems: [NotificationStore.Problem] = []
        let tail = try store.read { result in
            switch result {
            case .success: count += 1
            case .failure(let p): problems.append(p)
            }
        }
        for p in problems { report(Finding(status: .changed, path: store.path, detail: "line \(p.line): \(p.reason)")) }
        if tail > 0 {
            report(
                Finding(
                    status: .partial, path: store.path,
                    detail: "an unfinished last line of \(tail) bytes (a write cut short, never acknowledged)"))
        }
        if problems.isEmpty { report(Finding(status: .ok, path: store.path, detail: "\(count) notifications")) }
    }

    private static func refusal(_ error: ArchiveError) -> String {
        if case .symlink = error { return "a symbolic link: not followed; remove it" }
        return "not a regular file: not opened; remove it"
    }
}
