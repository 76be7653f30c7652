import Glibc

extension NotificationStore {
    /// A line of the store that is not a valid record.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var path: String
        public var line: Int
        public var reason: String
        public var description: String { "\(path):\(line): \(reason)" }
    }

    /// Reads every record in file order under the shared lock, calling `body` with each record
    /// or the problem of its line. Returns the bytes of an unterminated last line (a write cut
    /// short, never acknowledged), 0 when there is none.
    @discardableResult
    public func read(_ body: (Result<NotificationRecord, Problem>) -> Void) throws(ArchiveError) -> Int {
        try withFileLock(exclusive: false) { () throws(ArchiveError) -> Int in
            guard let fd = try directory.openForReading(Self.fileName) else { return 0 }
            defer { close(fd) }
            var st = stat()
            fstat(fd, &st)
            let file = path
            let complete = try Self.readLines(fd: fd, from: 0, path: file) { line, result in
                switch result {
                case .success(let r): body(.success(r))
                case .failure(let e): body(.failure(Problem(path: file, line: line, reason: e.description)))
                }
            }
            return Int(st.st_size) - complete
        }
    }

    /// The latest notification of each alias of `environment` (by `notifiedAt`; the later line
    /// when equal) among those dated before `until` (a report as of a past day sees the state of
    /// that day), the store's problems, and when the last notification of any environment was
    /// received (nil for an empty store): how a report tells a silent endpoint.
    public func latest(
        for environment: Environment, until: Timestamp? = nil
    ) throws(ArchiveError) -> (
        latest: [String: NotificationRecord], problems: [Problem], lastReceived: Timestamp?
    ) {
        var latest: [String: NotificationRecord] = [:]
        var problems: [Problem] = []
        var lastReceived: Timestamp?
        try read { result in
            switch result {
            case .success(let r):
                if lastReceived.map({ r.receivedAt > $0 }) ?? true { lastReceived = r.receivedAt }
                guard r.notification.mode == environment, until.map({ r.notifiedAt < $0 }) ?? true else { return }
                if let current = latest[r.notification.alias], current.notifiedAt > r.notifiedAt { return }
                latest[r.notification.alias] = r
            case .failure(let p): problems.append(p)
            }
        }
        return (latest, problems, lastReceived)
    }

    /// Reads the lines of `fd` from `offset` in large chunks and decodes each complete one,
    /// numbering lines from 1 at the start of the file only when `offset` is 0 (else from the
    /// first line read). Returns the bytes of the complete lines read.
    static func readLines(
        fd: Int32, from offset: Int, path: String, _ body: (Int, Result<NotificationRecord, ITNError>) -> Void
    ) throws(ArchiveError) -> Int {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        // A line cut by a chunk's end; its bytes are dropped once it is too long to be a record.
        var pending: [UInt8] = []
        var pendingLength = 0
        var position = offset
        var complete = 0
        var lineNumber = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ArchiveDirectory.fail(path, "read")
            }
            if n == 0 { break }
            position += n
            var start = 0
            let bytes = chunk[0..<n]
            while let nl = bytes[start...].firstIndex(of: 0x0A) {
                lineNumber += 1
                let length = pendingLength + nl - start
                complete += length + 1
                if length > maximumLine {
                    body(lineNumber, .failure(ITNError("longer than \(maximumLine) bytes: not a line expcards wrote")))
                } else {
                    let line = pendingLength == 0 ? bytes[start..<nl] : (pending + bytes[start..<nl])[...]
                    do throws(ITNError) {
                        body(lineNumber, .success(try NotificationRecord(line: line)))
                    } catch {
                        body(lineNumber, .failure(error))
                    }
                }
                pending.removeAll(keepingCapacity: true)
                pendingLength = 0
                start = nl + 1
            }
            pendingLength += n - start
            if pendingLength <= maximumLine { pending += bytes[start...] } else { pending.removeAll() }
        }
        return complete
    }
}
