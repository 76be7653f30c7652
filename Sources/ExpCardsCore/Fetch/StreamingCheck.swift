import Foundation
import Glibc

/// Checks a file with the parser on a second thread while its bytes arrive, then commits it to
/// the archive there too, so neither the check nor the fsync waits for the network or holds it
/// up. The downloading thread `feed`s each chunk (copied into a bounded queue: memory stays
/// bounded whatever the file), then hands the download over with `commit` and moves on to the
/// next file; `onCommit` gets the verdict on the check's thread, `waitForCommit` gives it too.
///
/// Bytes an earlier run already downloaded are read from the partial file first, through a
/// descriptor opened before any rename.
/// `@unchecked Sendable`: its state is guarded by a pthread mutex (a C handle), shared by the
/// downloading thread and the check's thread.
final class StreamingCheck: @unchecked Sendable {
    struct Verdict {
        var sha256: String
        var replaced: String?
        /// The archive already held these bytes under this name (only the remote mtime changed).
        var identical = false
        var problems: Int
    }

    private let name: ExpCardsFileName
    private let path: String
    private var prefixFD: Int32
    private var prefixLeft: UInt64
    private let queueLimit: Int
    private let onCommit: (Result<Verdict, ArchiveError>) -> Void

    // On the heap: Swift does not promise a stored property a stable address, which a pthread
    // mutex and condition need. (Synchronization's Mutex has no condition variable to wait on.)
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var queued = 0
    private var ended = false
    private var cancelled = false
    private var parsed = false
    private var download: ArchiveDownload?
    private var now: Int64 = 0
    private var syncDirectory = true
    private var result: Result<Verdict, ArchiveError>?

    /// - Parameters:
    ///   - name: the file's EXP_CARDS name (its kind decides the parse).
    ///   - path: for messages (the final path).
    ///   - download: its bytes already on disk (resumed) are parsed before the fed ones.
    ///   - onCommit: called on the check's thread with the outcome of `commit`, before
    ///     `waitForCommit` returns it (not called for a cancelled download).
    init(
        name: ExpCardsFileName, path: String, resuming download: ArchiveDownload, queueLimit: Int = 32 << 20,
        onCommit: @escaping (Result<Verdict, ArchiveError>) -> Void = { _ in }
    ) {
        self.name = name
        self.path = path
        self.queueLimit = queueLimit
        self.onCommit = onCommit
        prefixLeft = download.offset
        prefixFD = download.offset > 0 ? download.openPartForReading() : -1
        mutex.initialize(to: pthread_mutex_t())
        changed.initialize(to: pthread_cond_t())
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
        let thread = Thread { [self] in run() }
        thread.stackSize = 4 << 20
        thread.start()
    }

    deinit {
        if prefixFD >= 0 { close(prefixFD) }
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// Queues a copy of `bytes` for the parser; waits while the queue is full.
    func feed(_ bytes: UnsafeRawBufferPointer) {
        let copy = [UInt8](bytes)
        locked {
            while queued >= queueLimit && !parsed && !cancelled { pthread_cond_wait(changed, mutex) }
            if parsed || cancelled { return }
            chunks.append(copy)
            queued += copy.count
            pthread_cond_broadcast(changed)
        }
    }

    /// The download failed: the parser stops and the partial file stays as it is.
    func cancel() {
        locked {
            cancelled = true
            pthread_cond_broadcast(changed)
        }
    }

    /// Every byte is fed: once parsed, the file is committed (size check, fsync, rename) on the
    /// check's thread. `syncDirectory` false leaves the directory's fsync to the caller.
    func commit(_ download: ArchiveDownload, now: Int64, syncDirectory: Bool = true) {
        locked {
            self.download = download
            self.now = now
            self.syncDirectory = syncDirectory
            ended = true
            pthread_cond_broadcast(changed)
        }
    }

    /// Waits for the check and the commit (and `onCommit`).
    @discardableResult
    func waitForCommit() -> Result<Verdict, ArchiveError> {
        locked {
            while result == nil { pthread_cond_wait(changed, mutex) }
            return result!
        }
    }

    // MARK: The check's thread

    private func run() {
        var source = QueueSource(check: self)
        let magic = UnsafeMutableRawBufferPointer.allocate(byteCount: 2, alignment: 1)
        defer { magic.deallocate() }
        var n = 0
        do throws(SourceError) {
            while n < 2 {
                let got = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: magic[n...]))
                if got == 0 { break }
                n += got
            }
        } catch {}
        source.pushBack(Array(magic[0..<n]))
        let parsedFile: ParsedFile
        if n == 2 && magic[0] == 0x1F && magic[1] == 0x8B, let gz = try? GzipSource(source) {
            var gzip = gz
            parsedFile = ExpCardsParser.parse(source: &gzip, path: path, kind: name.kind, name: name)
        } else {
            parsedFile = ExpCardsParser.parse(source: &source, path: path, kind: name.kind, name: name)
        }
        let problems = parsedFile.problems.count
        // Wait for the hand-over (or the cancellation), draining whatever is still fed.
        let handOver: (ArchiveDownload, Int64, Bool)? = locked {
            parsed = true
            chunks = []
            queued = 0
            pthread_cond_broadcast(changed)
            while !ended && !cancelled { pthread_cond_wait(changed, mutex) }
            guard !cancelled, let download else { return nil }
            return (download, now, syncDirectory)
        }
        let outcome: Result<Verdict, ArchiveError>
        if let (download, now, syncDirectory) = handOver {
            do throws(ArchiveError) {
                let c = try download.commit(now: now, syncDirectory: syncDirectory)
                outcome = .success(
                    Verdict(sha256: c.sha256, replaced: c.replaced, identical: c.identical, problems: problems))
            } catch {
                if case .io = error { download.discard() }
                if case .sizeMismatch = error { download.discard() }
                outcome = .failure(error)
            }
            onCommit(outcome)
        } else {
            outcome = .failure(.io(path: path, operation: "check", reason: "download abandoned"))
        }
        locked {
            result = outcome
            self.download = nil
            pthread_cond_broadcast(changed)
        }
    }

    /// Blocks until a chunk is there; 0 at the end, an error when cancelled.
    fileprivate func next(into buffer: UnsafeMutableRawBufferPointer) throws(SourceError) -> Int {
        if prefixLeft > 0 {
            let n = read(prefixFD, buffer.baseAddress, Int(min(UInt64(buffer.count), prefixLeft)))
            if n > 0 {
                prefixLeft -= UInt64(n)
                return n
            }
            throw .unreadable(
                path: path, reason: n < 0 ? String(cString: strerror(errno)) : "partial file shorter than expected")
        }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while chunks.isEmpty && !ended && !cancelled { pthread_cond_wait(changed, mutex) }
        if cancelled { throw .unreadable(path: path, reason: "download abandoned") }
        guard !chunks.isEmpty else { return 0 }
        let n = chunks[0].withUnsafeBytes { chunk in
            let n = min(buffer.count, chunk.count - head)
            buffer.baseAddress!.copyMemory(from: chunk.baseAddress! + head, byteCount: n)
            return n
        }
        head += n
        if head == chunks[0].count {
            queued -= chunks[0].count
            chunks.removeFirst()
            head = 0
            pthread_cond_broadcast(changed)
        }
        return n
    }
}

/// The check's view of the queue, as the parser's `ByteSource`.
private final class QueueSource: ByteSource {
    private let check: StreamingCheck
    private var pushedBack: [UInt8] = []

    init(check: StreamingCheck) { self.check = check }

    /// Bytes read ahead (the gzip magic) to give back first.
    func pushBack(_ bytes: [UInt8]) { pushedBack = bytes + pushedBack }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SourceError) -> Int {
        if buffer.isEmpty { return 0 }
        if !pushedBack.isEmpty {
            let n = min(buffer.count, pushedBack.count)
            pushedBack.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
            pushedBack.removeFirst(n)
            return n
        }
        return try check.next(into: buffer)
    }
}
