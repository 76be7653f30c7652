import Glibc

extension NotificationStore {
    /// Retention: rewrites the store without the notifications dated before `cutoff` (their
    /// `notifiedAt`), except each alias's latest one (per environment), whatever its age: it is
    /// the alias's state, and a card the network suspended long ago is still to be called about.
    /// Atomic (a new file, fsync, rename) under the exclusive lock; writers holding the old file
    /// notice the rename and reopen. Returns how many were (or, with `dryRun`, would be) deleted.
    /// A store with unreadable lines is left as it is: `verify` names them, and nothing is
    /// deleted that could not be read.
    public func prune(before cutoff: Timestamp, dryRun: Bool) throws(ArchiveError) -> Int {
        try withFileLock(exclusive: true) { () throws(ArchiveError) -> Int in
            guard let fd = try directory.openForReading(Self.fileName) else { return 0 }
            defer { close(fd) }
            // First pass: the line of each alias's latest notification (the later line when two
            // have the same time, as `latest(for:)` reads it).
            var latestLine: [DuplicateIndex.Key: (at: Timestamp, line: Int)] = [:]
            var firstProblem: (Int, ITNError)?
            _ = try Self.readLines(fd: fd, from: 0, path: path) { line, result in
                switch result {
                case .success(let r):
                    let key = DuplicateIndex.Key(alias: r.notification.alias, mode: r.notification.mode)
                    if let current = latestLine[key], current.at > r.notifiedAt { return }
                    latestLine[key] = (r.notifiedAt, line)
                case .failure(let e):
                    if firstProblem == nil { firstProblem = (line, e) }
                }
            }
            if let (line, e) = firstProblem { throw .corruptStore(path: path, line: line, reason: e.description) }
            let keep = Set(latestLine.values.map(\.line))
            latestLine = [:]
            var kept: [UInt8] = []
            var deleted = 0
            _ = try Self.readLines(fd: fd, from: 0, path: path) { line, result in
                guard case .success(let r) = result else { return }
                if r.notifiedAt < cutoff && !keep.contains(line) { deleted += 1 } else { kept += r.line }
            }
            if deleted > 0 && !dryRun { try directory.writeAtomically(kept, to: Self.fileName) }
            return deleted
        }
    }
}
