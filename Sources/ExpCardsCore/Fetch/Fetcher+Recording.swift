import Foundation
import Synchronization

/// What the downloaders share and how a committed file enters the manifest.
extension Fetcher {
    /// What the downloaders share, all of it under one lock: the manifest, the outcome, the
    /// directories whose renames are not fsynced yet, and the first error that stops everyone.
    struct SharedState: Sendable {
        var manifest: Manifest
        var outcome: Outcome
        var unsyncedDirectories: Set<String> = []
        var dirty = false
        var lastSave: Int64
        var stop: (any Error & Sendable)?
        /// The shares of extra connections that could not be opened.
        var orphans: [RemoteListing.File] = []
    }

    /// The shared state's one owner (a class: a `Mutex` cannot be copied into each thread).
    final class Shared: Sendable {
        let state: Mutex<SharedState>

        init(manifest: Manifest, outcome: Outcome, now: Int64) {
            state = Mutex(SharedState(manifest: manifest, outcome: outcome, lastSave: now))
        }
    }

    /// Files renamed into place by a run that ended before saving the manifest: hashed, checked
    /// and recorded as fetched, without downloading them again. When the manifest had an earlier
    /// version, the copy that run kept of it (`<name>.replaced-<UTC>`) is recorded too.
    func recordUnrecorded(_ shared: Shared) throws {
        let files = shared.state.withLock { $0.outcome.listing.files.filter { $0.note == Self.unrecordedNote } }
        for file in files {
            guard let name = file.name else { continue }
            let directory = try archive.directory(file.archiveDirectory)
            let path = directory.pathOf(file.entry.name)
            guard let sha = try directory.sha256Hex(of: file.entry.name) else {
                throw ArchiveError.io(path: path, operation: "open", reason: "gone")
            }
            let problems = try ExpCardsParser.parse(
                path: file.archiveDirectory + "/" + file.entry.name, open: ArchiveContents.opener(archive.get())
            ).problems.count
            let key = Manifest.key(directory: file.archiveDirectory, name: name)
            var entry = Manifest.Entry(
                remotePath: file.remotePath, storedName: file.entry.name, size: file.entry.size,
                remoteMtime: file.entry.mtime,
                sha256: sha, fetchedAt: iso8601UTC(epochSeconds: now()), problems: problems)
            let warnings = shared.state.withLock { s in
                var warnings: [String] = []
                if let old = s.manifest.files[key] {
                    (entry.replaced, warnings) = replacedCopies(of: file, known: old.replaced)
                    s.outcome.warnings += warnings
                }
                s.manifest.files[key] = entry
                s.unsyncedDirectories.insert(file.archiveDirectory)
                s.dirty = true
                s.outcome.fetched.append(file)
                if problems > 0 { s.outcome.fetchedWithProblems.append(file) }
                s.outcome.newMonths.insert(name.month)
                return warnings
            }
            for text in warnings { emit(.warning(text)) }
            emit(.fetched(file, sha256: sha, replaced: nil, problems: problems))
        }
    }

    /// fsyncs the directories of the files committed since the last save (their renames become
    /// durable), then writes the manifest atomically: it never names a file a crash could lose.
    /// Under the lock: no file is recorded between the fsyncs and the write.
    func save(_ shared: Shared, force: Bool) throws(ArchiveError) {
        let t = now()
        try shared.state.withLock { (s: inout SharedState) throws(ArchiveError) in
            guard s.dirty, force || t - s.lastSave >= options.manifestInterval else { return }
            for dir in s.unsyncedDirectories.sorted() { try archive.directory(dir).sync() }
            s.unsyncedDirectories = []
            try s.manifest.save(to: archive.get())
            s.dirty = false
            s.lastSave = t
        }
    }

    /// Records a committed file in the manifest and the outcome; its events are emitted after.
    func record(_ file: RemoteListing.File, _ verdict: StreamingCheck.Verdict, shared: Shared) {
        let key = Manifest.key(directory: file.archiveDirectory, name: file.name!)
        var entry = Manifest.Entry(
            remotePath: file.remotePath, storedName: file.entry.name, size: file.entry.size,
            remoteMtime: file.entry.mtime,
            sha256: verdict.sha256, fetchedAt: iso8601UTC(epochSeconds: now()), problems: verdict.problems)
        let warnings = shared.state.withLock { s in
            var warnings: [String] = []
            let earlier = s.manifest.files[key]
            if verdict.replaced != nil {
                (entry.replaced, warnings) = replacedCopies(of: file, known: earlier?.replaced)
                s.outcome.warnings += warnings
            } else {
                entry.replaced = earlier?.replaced
            }
            s.manifest.files[key] = entry
            s.dirty = true
            if verdict.identical {
                // Same bytes under a new server mtime: not a new file, not a new month.
                s.outcome.unchanged.append(file)
            } else {
                s.outcome.fetched.append(file)
                if verdict.problems > 0 { s.outcome.fetchedWithProblems.append(file) }
                s.outcome.newMonths.insert(file.name!.month)
            }
            return warnings
        }
        for text in warnings { emit(.warning(text)) }
        if !verdict.identical {
            emit(.fetched(file, sha256: verdict.sha256, replaced: verdict.replaced, problems: verdict.problems))
        }
    }

    /// The earlier versions kept beside `file` (`<name>.replaced-<UTC>`, oldest first): the
    /// manifest's, then those on disk it does not list yet, each with a warning. A run killed
    /// before its save may have kept one the manifest never heard of.
    func replacedCopies(of file: RemoteListing.File, known: [String]?) -> (copies: [String]?, warnings: [String]) {
        let known = known ?? []
        let names = (try? archive.directory(file.archiveDirectory).names()) ?? []
        let kept = names.filter { ArchivePath.isReplaced($0, of: file.entry.name) && !known.contains($0) }
        let warnings = kept.map {
            "\(file.remotePath) changed on the server: the new version is archived, the earlier one kept as \($0)"
        }
        let all = known + kept
        return (all.isEmpty ? nil : all, warnings)
    }

    func failed(_ file: RemoteListing.File, _ error: String, shared: Shared) {
        shared.state.withLock { $0.outcome.failed.append((file, error)) }
        emit(.failed(file, error: error))
    }
}
