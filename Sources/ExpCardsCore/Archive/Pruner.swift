/// Retention: deletes the archived files of months older than a cutoff, with their kept earlier
/// versions and their partial downloads, and every partial download left for more than a day.
///
/// Each deletion is atomic for the manifest: the entry goes first (saved atomically), then the
/// file; a file that cannot be deleted gets its entry back. So whatever stops the run, the
/// manifest never lists a deleted file, and at worst a file it no longer lists is left, which the
/// next prune finds on disk and deletes. Each deletion is reported as it happens. Run under the
/// archive's lock, which every fetch holds while it writes: no partial file is in use meanwhile.
public struct Pruner {
    /// A partial download untouched this long is abandoned: deleted whatever its month.
    public static let stalePartialAge: Int64 = 86_400

    public struct Deletion: Sendable, Equatable {
        /// Full path, for the output.
        public var path: String
        /// Why, when it is not an archived file of a pruned month.
        public var note: String?
    }

    public let archive: ArchiveDirectory
    public let cutoff: YearMonth
    public let now: Int64

    /// - Parameters:
    ///   - cutoff: months before this one are deleted.
    public init(archive: ArchiveDirectory, cutoff: YearMonth, now: Int64) {
        self.archive = archive
        self.cutoff = cutoff
        self.now = now
    }

    /// What would be deleted, deleting nothing.
    public func plan() throws(ArchiveError) -> [Deletion] {
        _ = try Manifest.load(from: archive)  // refused as `run` refuses it
        return try targets().map { Deletion(path: archive.pathOf($0.entry.relativePath), note: $0.note) }
    }

    /// Deletes, calling `onDeletion` after each. Returns the count.
    @discardableResult
    public func run(onDeletion: (Deletion) -> Void) throws(ArchiveError) -> Int {
        var manifest = try Manifest.load(from: archive)
        var count = 0
        for target in try targets() {
            let entry = target.entry
            guard let dir = try archive.subdirectory(entry.directory, create: false) else { continue }
            let before = manifest
            forget(entry, in: &manifest)
            if manifest != before { try manifest.save(to: archive) }
            do throws(ArchiveError) {
                try dir.remove(entry.name)
            } catch {
                if manifest != before {
                    manifest = before
                    try? manifest.save(to: archive)
                }
                throw error
            }
            count += 1
            onDeletion(Deletion(path: archive.pathOf(entry.relativePath), note: target.note))
        }
        // Entries of pruned months whose files were already gone.
        let kept = manifest.files.filter { key, _ in
            (ExpCardsFileName(String(key.split(separator: "/").last ?? ""))?.month).map { $0 >= cutoff } ?? true
        }
        if kept.count != manifest.files.count {
            manifest.files = kept
            try manifest.save(to: archive)
        }
        return count
    }

    private struct Target {
        var entry: ArchiveContents.Entry
        var note: String?
    }

    /// Everything to delete, in path order. A link or a FIFO anywhere in the archive is refused
    /// before anything is deleted: nothing is followed, and the error names it.
    private func targets() throws(ArchiveError) -> [Target] {
        var out: [Target] = []
        for entry in try ArchiveContents.scan(archive) {
            switch entry.kind {
            case .symlink: throw .symlink(path: archive.pathOf(entry.relativePath))
            case .file:
                if let name = ExpCardsFileName(ArchiveContents.originalName(entry.name)), name.month < cutoff {
                    out.append(Target(entry: entry))
                }
            case .partial:
                let of = ArchiveContents.partialFileName(entry.name)
                if let of, let name = ExpCardsFileName(of), name.month < cutoff {
                    out.append(Target(entry: entry, note: "partial download"))
                } else if now - entry.mtime >= Self.stalePartialAge {
                    let days = (now - entry.mtime) / 86_400
                    out.append(
                        Target(
                            entry: entry,
                            note:
                                "\(of == nil ? "temporary file" : "partial download") left \(days) day\(days == 1 ? "" : "s") ago"
                        ))
                }
            case .own, .unknown: break
            }
        }
        return out
    }

    /// Removes what names `entry` from the manifest: its entry, or its kept version.
    private func forget(_ entry: ArchiveContents.Entry, in manifest: inout Manifest) {
        guard entry.kind == .file, let name = ExpCardsFileName(ArchiveContents.originalName(entry.name)) else { return }
        let key = Manifest.key(directory: entry.directory, name: name)
        guard var recorded = manifest.files[key] else { return }
        if recorded.storedName == entry.name {
            manifest.files[key] = nil
        } else if let replaced = recorded.replaced, replaced.contains(entry.name) {
            let left = replaced.filter { $0 != entry.name }
            recorded.replaced = left.isEmpty ? nil : left
            manifest.files[key] = recorded
        }
    }
}
