import Foundation
import Glibc
import Synchronization

/// The listing: the company and shop directories, each entry compared with the manifest.
extension Fetcher {
    // MARK: Listing

    /// Lists the company directory and the shop directories and compares with the manifest.
    public func discover(manifest: Manifest) throws -> RemoteListing {
        try discover(manifest: manifest, helpers: [])
    }

    /// `helpers`: extra connections (`parallel`) that list their share of the shop directories.
    func discover(manifest: Manifest, helpers: [Connection]) throws -> RemoteListing {
        var listing = RemoteListing()
        let store = try main.remote()
        for dir in options.companyDirectories {
            do {
                let entries = try store.list(dir)
                listing.companyDirectory = dir
                emit(.companyDirectory(dir))
                add(entries, in: dir, to: &listing, manifest: manifest)
                break
            } catch let e as any RemoteFailure where e.isNotFound {
                continue
            } catch let e as any RemoteFailure where e.concernsThisPathOnly {
                unlisted(dir, e.description, into: &listing)
                break
            }
        }
        if listing.companyDirectory == nil && listing.unlisted.isEmpty {
            warn(
                "no company directory on the server (tried \(options.companyDirectories.joined(separator: ", ")))",
                into: &listing.warnings)
        }
        var shops = options.shops
        if shops == nil {
            do {
                shops = try store.list(".").filter { entry in
                    // A server that gives no type: a name of 8 digits is tried as a shop (a
                    // file of that name answers "no such file" for `<shop>/expired`).
                    (entry.kind == .directory || entry.kind == .unknown) && entry.name.utf8.count == 8
                        && entry.name.utf8.allSatisfy(isDigit)
                }.map(\.name).sorted()
            } catch let e as any RemoteFailure where e.concernsThisPathOnly {
                unlisted(".", e.description, into: &listing)
            }
        }
        let shopDirs = (shops ?? []).map { options.shopDirectoryPattern.replacingOccurrences(of: "%s", with: $0) }
        for (shop, (dir, result)) in zip(shops ?? [], try listAll(shopDirs, on: [main] + helpers)) {
            switch result {
            case .entries(let entries):
                add(entries, in: dir, to: &listing, manifest: manifest)
                listing.shopDirectories.append(dir)
            case .missing:
                if options.shops != nil {
                    warn("shop \(shop): no directory \(dir) on the server", into: &listing.warnings)
                }
            case .refused(let error):
                unlisted(dir, error, into: &listing)
            }
        }
        findLost(in: listing, manifest: manifest, into: &listing)
        // Files about to be purged that the archive does not hold yet.
        let t = now()
        for f in listing.files where f.state == .new || f.state == .changed {
            if let days = f.daysLeft, days <= PurgeSchedule.urgentDays {
                let when =
                    days < 0
                    ? "its purge was due \(-days) day\(days == -1 ? "" : "s") ago: it may disappear at any moment"
                    : "the platform deletes it in \(days) day\(days == 1 ? "" : "s")"
                warn("\(f.remotePath) is not archived yet and \(when)", into: &listing.warnings)
            }
        }
        // The current month's company file, once it should be there.
        let current = PurgeSchedule.currentPublishedMonth(now: t)
        let hasCurrent = listing.files.contains {
            $0.name?.kind == .company && $0.name?.month == current
                && (options.mode == nil || $0.name?.environment == options.mode)
        }
        if listing.companyDirectory != nil && !hasCurrent {
            listing.missingCurrentMonth = current
            warn(
                "the company file of \(current) is not on the server yet (published on the 1st at 04:00 UTC)",
                into: &listing.warnings)
        }
        return listing
    }

    /// A directory the server refused to list: the others are still fetched, the run fails.
    func unlisted(_ dir: String, _ error: String, into listing: inout RemoteListing) {
        listing.unlisted.append((dir, error.description))
        warn(
            "\(dir) cannot be listed (\(error)): skipped; every other directory is fetched, and the run fails",
            into: &listing.warnings)
    }

    /// Files the manifest records in a listed directory that are neither in the archive any more
    /// nor on the server: lost (the archive heals only while the server still has a file).
    func findLost(in current: RemoteListing, manifest: Manifest, into listing: inout RemoteListing) {
        let listedDirectories = Set(
            ([current.companyDirectory].compactMap { $0 } + current.shopDirectories)
                .compactMap { ArchivePath.relativeDirectory(forRemote: $0) })
        let onServer = Set(
            current.files.compactMap { f in f.name.map { Manifest.key(directory: f.archiveDirectory, name: $0) } })
        for (key, entry) in manifest.files.sorted(by: { $0.key < $1.key }) where !onServer.contains(key) {
            let directory = String(key.split(separator: "/").dropLast().joined(separator: "/"))
            guard listedDirectories.contains(directory) else { continue }
            if !archive.exists(directory, entry.storedName) {
                listing.lost.append(key)
                warn(
                    "\(directory)/\(entry.storedName) is recorded in the manifest but missing from the archive, and the server no longer has it: lost",
                    into: &listing.warnings)
            }
        }
    }

    /// Lists `dirs` (nil: not found; a failure: the server refused that one), in order; with several connections (at least 8
    /// directories each), each lists a contiguous share on its own thread, the first on this one.
    /// An extra connection gets one attempt: the share of one that fails is listed on the first
    /// connection, whose faults the caller retries (so retries do not multiply, and a server that
    /// takes fewer connections is still listed whole).
    func listAll(_ dirs: [String], on connections: [Connection]) throws -> [(String, Listed)] {
        let count = max(1, min(connections.count, dirs.count / 8))
        guard count > 1 else { return try listShare(dirs[...], on: connections[0]) }
        let size = (dirs.count + count - 1) / count
        let shares = stride(from: 0, to: dirs.count, by: size).map { dirs[$0..<min(dirs.count, $0 + size)] }
        // The extra connections' answers: a share listed, or why it could not be.
        let extras = Mutex<[Int: Result<[(String, Listed)], ShareFailure>]>([:])
        let work = shares.enumerated().dropFirst().map { k, share in
            { @Sendable [self] in
                let connection = connections[k]
                let r = Result { () throws(ShareFailure) in
                    do { return try listShare(share, on: connection) } catch {
                        throw ShareFailure(description: "\(error)")
                    }
                }
                if case .failure = r { connection.drop() }
                extras.withLock { $0[k] = r }
            }
        }
        var out = try WorkerThreads.run(work) { try listShare(shares[0], on: connections[0]) }
        let answers = extras.withLock { $0 }
        for (k, share) in shares.enumerated().dropFirst() {
            switch answers[k] {
            case .success(let listed)?: out += listed
            case .failure(let error)?:
                emit(
                    .warning(
                        "an extra connection could not list its share of the shop directories (\(error)): listed on the first connection"
                    ))
                out += try listShare(share, on: connections[0])
            case nil: out += try listShare(share, on: connections[0])
            }
        }
        return out
    }

    /// Why an extra connection could not list its share (told in a warning, then listed again).
    struct ShareFailure: Error, Sendable, CustomStringConvertible {
        var description: String
    }

    /// One directory's listing.
    enum Listed: Sendable {
        case entries([RemoteEntry])
        case missing
        /// The server refused to list it (its status, as text).
        case refused(String)
    }

    func listShare(_ share: ArraySlice<String>, on connection: Connection) throws -> [(String, Listed)] {
        let store = try connection.remote()
        var out: [(String, Listed)] = []
        for (i, dir) in zip(share.indices, share) {
            // Its reply travels while this one is read: one round trip less per directory.
            if i + 1 < share.endIndex { store.openAhead(share[i + 1], directory: true) }
            do {
                out.append((dir, .entries(try store.list(dir))))
            } catch let e as any RemoteFailure where e.isNotFound {
                out.append((dir, .missing))
            } catch let e as any RemoteFailure where e.concernsThisPathOnly {
                out.append((dir, .refused(e.description)))
            }
        }
        return out
    }

    static let unrecordedNote = "in the archive, not yet in its manifest (an interrupted run)"

    func add(_ entries: [RemoteEntry], in dir: String, to listing: inout RemoteListing, manifest: Manifest) {
        let t = now()
        guard let archiveDir = ArchivePath.relativeDirectory(forRemote: dir) else {
            warn("remote directory \(dir) cannot be mirrored safely: skipped", into: &listing.warnings)
            return
        }
        for entry in entries.sorted(by: { $0.name < $1.name }) {
            var file = RemoteListing.File(
                remoteDirectory: dir, archiveDirectory: archiveDir, entry: entry, name: nil, state: .ignored, note: nil,
                daysLeft: nil)
            if let refusal = ArchivePath.refusal(entry.name) {
                file.state = .refused
                file.note = refusal
                warn("\(dir): \(refusal)", into: &listing.warnings)
                listing.files.append(file)
                continue
            }
            file.name = ExpCardsFileName(entry.name)
            if let name = file.name { file.daysLeft = PurgeSchedule.daysLeft(for: name.month, now: t) }
            var kind = entry.kind
            if kind == .unknown && file.name != nil {
                // Neither the listing, nor its long name, nor an lstat gave a type: opening it
                // as a file decides (the download fails, and so the run, if it is not one).
                kind = .file
                file.note = "the server gives no file type: read as a regular file"
            }
            if kind == .file && file.name != nil && !entry.sizeKnown {
                file.state = .refused
                file.note = "the server gives no size for it: it cannot be downloaded safely"
                warn("\(file.remotePath): \(file.note!)", into: &listing.warnings)
                listing.files.append(file)
                continue
            }
            switch kind {
            case .directory:
                file.note = "directory"
            case .symlink, .other, .unknown:
                if file.name != nil {
                    file.state = .refused
                    file.note = entry.kind == .symlink ? "a symbolic link: not followed" : "not a regular file"
                    warn("\(file.remotePath): \(file.note!)", into: &listing.warnings)
                } else {
                    file.note = "not a regular file"
                }
            case .file:
                guard let name = file.name else {
                    file.note = "not an EXP_CARDS file"
                    break
                }
                if let mode = options.mode, name.environment != mode {
                    file.note = "\(name.environment.rawValue) environment"
                    break
                }
                if let shop = name.shopId, !dir.contains(shop) {
                    file.note = "shop file \(shop) outside its shop's directory"
                }
                // Committed (complete, fsynced, given the server's mtime) by a run that ended
                // before saving the manifest: recorded by `run`, not downloaded again. A new
                // version of a changed file, too: the manifest still describes the old one.
                // (A stat only where the manifest does not settle it: not for every archived file.)
                func inPlace() -> Bool {
                    let local = archive.regularFile(archiveDir, entry.name)
                    return local.map { $0.size == entry.size && $0.mtime == entry.mtime } ?? false
                }
                if let old = manifest.files[Manifest.key(directory: archiveDir, name: name)],
                    !archive.exists(archiveDir, old.storedName)
                {
                    // Recorded, then deleted from the archive (by hand?): the archive heals while
                    // the server still has the file.
                    file.state = .new
                    file.note = "recorded in the manifest but missing from the archive: fetched again"
                    warn("\(archiveDir)/\(old.storedName) \(file.note!)", into: &listing.warnings)
                } else if let old = manifest.files[Manifest.key(directory: archiveDir, name: name)] {
                    if old.storedName != entry.name {
                        // X.csv and X.csv.gz are the same file: compression changes size and mtime.
                        file.state = .archived
                        file.note = "archived as \(old.storedName)"
                    } else if old.size == entry.size && old.remoteMtime == entry.mtime {
                        file.state = .archived
                    } else if inPlace() {
                        file.state = .archived
                        file.note = Self.unrecordedNote
                    } else {
                        file.state = .changed
                        file.note =
                            "changed on the server since it was archived (\(old.size) bytes, mtime \(old.remoteMtime))"
                    }
                } else if inPlace() {
                    file.state = .archived
                    file.note = Self.unrecordedNote
                } else {
                    file.state = .new
                }
            }
            listing.files.append(file)
        }
    }
}
