import Glibc

extension NotificationStore {
    /// Retention: rewrites the store without the notifications dated before `cutoff` (their
    /// `notifiedAt`), atomically (a new file, fsync, rename), under the exclusive lock; writers
    /// holding the old file notice the rename and reopen. Returns how many were (or, with
    /// `dryRun`, would be) deleted. A store with unreadable lines is left as it is: `verify`
    /// names them, and nothing is deleted that could not be read.
    public func prune(before cutoff: Timestamp, dryRun: Bool) throws(ArchiveError) -> Int {
        try withFileLock(exclusive: true) { () throws(ArchiveError) -> Int in
            guard let fd = try directory.openForReading(Self.fileName) else { return 0 }
            defer { close(fd) }
            var kept: [UInt8] = []
            var deleted = 0
            var firstProblem: (Int, ITNError)?
            _ = try Self.readLines(fd: fd, from: 0, path: path) { line, result in
                switch result {
                case .success(let r):
                    if r.notifiedAt < cutoff { deleted += 1 } else { kept += r.line }
                case .failure(let e):
                    if firstProblem == nil { firstProblem = (line, e) }
                }
            }
            if let (line, e) = firstProblem {
                throw .corruptStore(path: path, line: line, reason: e.description)
            }
            if deleted > 0 && !dryRun { try directory.writeAtomically(kept, to: Self.fileName) }
            return deleted
        }
    }
}
