import Foundation
import Glibc

/// One share of the files over one connection: downloads, retries, and the stop that ends them all.
extension Fetcher {
    /// Downloads one share of the files over one connection. Each file's check and commit (with
    /// its two fsyncs, of the file and of its directory) run on their own thread while the next
    /// files download, and that thread records the file in the manifest; at most `maxCommitting`
    /// wait at a time. (fsyncs on a journalling file system take milliseconds each but share the
    /// journal's commits when they run together.)
    func fetchShare(_ files: [RemoteListing.File], on connection: Connection, shared: Shared) {
        let maxCommitting = 8
        var committing: [StreamingCheck] = []
        for (i, file) in files.enumerated() {
            if stopped(shared) { break }
            do {
                let check = try download(
                    file, next: i + 1 < files.count ? files[i + 1] : nil, on: connection, shared: shared)
                committing.append(check)
            } catch let e as ArchiveError {
                if case .sizeMismatch = e {
                    failed(file, e.description, shared: shared)
                    continue
                }
                stop(e, shared: shared)
            } catch let e as any RemoteFailure where e.concernsThisPathOnly || e.isNotFound {
                // This file only: the session is fine and the other files are still fetched.
                failed(file, e.description, shared: shared)
            } catch let e as any RemoteFailure where !e.isTransient {
                stop(e, shared: shared)
            } catch is Stopped {
                break
            } catch {
                connection.drop()
                failed(file, "\(error)", shared: shared)
            }
            while committing.count > maxCommitting || (!committing.isEmpty && stopped(shared)) {
                committing.removeFirst().waitForCommit()
            }
        }
        for check in committing { check.waitForCommit() }
    }

    /// What the check's thread does once a file's commit is done: records it, and saves the
    /// manifest when that is due. Weak: a cancelled check's thread may outlive the run, and the
    /// fetcher (with its SSH sessions) must not be freed there, racing the process's exit and
    /// OpenSSL's cleanup (`run` waits for every committed check, so none is left unrecorded).
    func committed(
        _ file: RemoteListing.File, shared: Shared
    ) -> @Sendable (Result<StreamingCheck.Verdict, ArchiveError>) -> Void {
        { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let verdict):
                record(file, verdict, shared: shared)
                saveIfDue(shared)
            case .failure(let error):
                if case .sizeMismatch = error {
                    failed(file, error.description, shared: shared)
                } else {
                    stop(error, shared: shared)
                }
            }
        }
    }

    /// Another downloader's error ended the run: this download stops too, its partial file
    /// kept for the next run.
    struct Stopped: Error {}

    func stopped(_ shared: Shared) -> Bool {
        shared.state.withLock { $0.stop != nil }
    }

    /// The first error stops every downloader (at its next chunk).
    func stop(_ error: any Error & Sendable, shared: Shared) {
        shared.state.withLock { s in if s.stop == nil { s.stop = error } }
    }

    /// Saves the manifest if it changed and the last save is `manifestInterval` old; a failure
    /// stops the run (the final save reports it).
    func saveIfDue(_ shared: Shared) {
        do { try save(shared, force: false) } catch { stop(error, shared: shared) }
    }

    /// Runs `body`, reconnecting and retrying transient remote faults with exponential backoff.
    func withRetries<T>(_ connection: Connection, file: RemoteListing.File?, _ body: () throws -> T) throws -> T {
        var attempt = 0
        var delay = options.backoff
        while true {
            do {
                return try body()
            } catch let e as any RemoteFailure where e.isTransient && attempt < options.retries {
                attempt += 1
                connection.drop()
                emit(.retrying(file, attempt: attempt, of: options.retries, after: delay, error: e.description))
                if delay > 0 { usleep(useconds_t(delay * 1_000_000)) }
                delay *= 2
            }
        }
    }

    /// Downloads one file into its partial file while the parser checks it, then hands it to the
    /// check's thread for the commit. `next` is opened ahead on the server.
    func download(
        _ file: RemoteListing.File, next: RemoteListing.File?, on connection: Connection, shared: Shared
    ) throws -> StreamingCheck {
        let directory = try archive.directory(file.archiveDirectory)
        return try withRetries(connection, file: file) {
            let download = try ArchiveDownload(
                in: directory, name: file.entry.name, remoteSize: file.entry.size, remoteMtime: file.entry.mtime)
            emit(.started(file, resumeFrom: download.offset))
            let check = StreamingCheck(
                name: file.name!, path: directory.pathOf(file.entry.name), resuming: download,
                queueLimit: 8 << 20, onCommit: committed(file, shared: shared))
            do {
                if download.offset < file.entry.size {
                    let store = try connection.remote()
                    if let next { store.openAhead(next.remotePath, directory: false) }
                    try store.download(file.remotePath, from: download.offset, size: file.entry.size) { bytes in
                        if download.offset + UInt64(bytes.count) > file.entry.size {
                            // The file grew during the download: stop rather than archive a mix.
                            throw ArchiveError.sizeMismatch(
                                path: directory.pathOf(file.entry.name), expected: file.entry.size,
                                actual: download.offset + UInt64(bytes.count))
                        }
                        try download.write(bytes)
                        check.feed(bytes)
                        emit(.progress(file, bytes: download.offset))
                        // Files committed while a long one downloads are saved on time too.
                        saveIfDue(shared)
                        if stopped(shared) { throw Stopped() }
                    }
                }
                check.commit(download, now: now())
                return check
            } catch {
                check.cancel()
                if let e = error as? ArchiveError {
                    if case .io = e { download.discard() }
                    if case .sizeMismatch = e { download.discard() }
                }
                throw error
            }
        }
    }
}
