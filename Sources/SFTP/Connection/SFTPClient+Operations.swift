import CLibSSH2

#if canImport(Glibc)
import Glibc
#endif

/// Listing, attributes and downloads over the open session.
extension SFTPClient {
    /// The entries of a directory, without "." and "..". Attributes are the entries' own
    /// (a symbolic link is reported as `.symlink`, not followed).
    public func list(_ path: String) throws -> [SFTPEntry] {
        let (session, sftp) = try live()
        let handle = try openHandle(path, directory: true, session, sftp, operation: "opening directory \(path)")
        startOpenAhead(session, sftp)
        defer { closeLater(handle, session) }

        // Generous buffers: libssh2 1.10 drops the rest of a batch when a name does not fit.
        let capacity = 16 * 1024
        let name = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
        let longEntry = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
        defer {
            name.deallocate()
            longEntry.deallocate()
        }
        var entries: [SFTPEntry] = []
        while true {
            var attributes = LIBSSH2_SFTP_ATTRIBUTES()
            let rc = libssh2_sftp_readdir_ex(handle, name, capacity, longEntry, capacity, &attributes)
            if rc == 0 { break }
            if rc < 0 {
                if rc == LIBSSH2_ERROR_BUFFER_TOO_SMALL {
                    throw SFTPError.ssh(
                        code: rc, message: "a name in the directory is longer than \(capacity) bytes",
                        operation: "listing \(path)")
                }
                throw failure(session, sftp, path: path, operation: "listing \(path)")
            }
            let entryName = String(decoding: UnsafeRawBufferPointer(start: name, count: Int(rc)), as: UTF8.self)
            if entryName == "." || entryName == ".." { continue }
            var entry = SFTPEntry(name: entryName, attributes: SFTPAttributes(attributes))
            if entry.kind == .unknown, let kind = SFTPFileKind.fromLongName(Substring(String(cString: longEntry))) {
                entry.attributes.kind = kind
            }
            entries.append(entry)
        }
        return try resolveMissingAttributes(entries, in: path)
    }

    /// SFTP v3 makes every attribute optional: an entry whose type or size the listing left out
    /// (and its long name did not tell) is asked for with an `lstat`, one round trip each, only on
    /// such servers. What the server still does not say stays `.unknown` / `hasSize == false`.
    func resolveMissingAttributes(_ entries: [SFTPEntry], in directory: String) throws -> [SFTPEntry] {
        var entries = entries
        for i in entries.indices where entries[i].kind == .unknown || !entries[i].attributes.hasSize {
            let path = (directory.hasSuffix("/") ? directory : directory + "/") + entries[i].name
            let known: SFTPAttributes
            do {
                known = try lstat(path)
            } catch let error as SFTPError where error.category == .remoteFile {
                logger.debug("no attributes for \(path): \(error)")
                continue
            }
            if entries[i].kind == .unknown { entries[i].attributes.kind = known.kind }
            if !entries[i].attributes.hasSize && known.hasSize {
                entries[i].attributes.size = known.size
                entries[i].attributes.hasSize = true
            }
            if entries[i].attributes.mtime == 0 { entries[i].attributes.mtime = known.mtime }
            logger.debug("attributes of \(path) not in the listing: \(entries[i].kind) from lstat")
        }
        return entries
    }

    /// Attributes of `path`, following a final symbolic link (`stat`).
    public func stat(_ path: String) throws -> SFTPAttributes {
        try stat(path, type: LIBSSH2_SFTP_STAT)
    }

    /// Attributes of `path` itself, even when it is a symbolic link (`lstat`).
    public func lstat(_ path: String) throws -> SFTPAttributes {
        try stat(path, type: LIBSSH2_SFTP_LSTAT)
    }

    func stat(_ path: String, type: Int32) throws -> SFTPAttributes {
        let (session, sftp) = try live()
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        guard libssh2_sftp_stat_ex(sftp, path, UInt32(path.utf8.count), type, &attributes) == 0 else {
            throw failure(session, sftp, path: path, operation: "reading attributes of \(path)")
        }
        return SFTPAttributes(attributes)
    }

    /// Streams the file from `offset` to its end into `sink`, in chunks of up to
    /// `configuration.effectiveReadBufferSize` bytes (one buffer, reused). Returns the number
    /// of bytes passed to the sink. A sink error stops the transfer and is rethrown.
    /// `size`: the file's size when the caller knows it (from a listing): saves the round trip of
    /// an `fstat`. Ending before the expected size is an error, not a short file, unless the
    /// server then says the file is that short (the caller compares with what it listed).
    @discardableResult
    public func download(
        _ path: String, from offset: UInt64 = 0, size knownSize: UInt64? = nil,
        to sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> UInt64 {
        let (session, sftp) = try live()
        var handle = try openHandle(path, directory: false, session, sftp, operation: "opening \(path)")
        startOpenAhead(session, sftp)
        defer { closeLater(handle, session) }

        func serverSize() throws -> UInt64? {
            var attributes = LIBSSH2_SFTP_ATTRIBUTES()
            guard libssh2_sftp_fstat_ex(handle, &attributes, 0) == 0 else {
                throw failure(session, sftp, path: path, operation: "reading attributes of \(path)")
            }
            return UInt(attributes.flags) & UInt(LIBSSH2_SFTP_ATTR_SIZE) != 0 ? attributes.filesize : nil
        }
        let expectedSize = try knownSize ?? serverSize()
        if offset > 0 { libssh2_sftp_seek64(handle, offset) }

        let capacity = configuration.effectiveReadBufferSize
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var total: UInt64 = 0
        // Set once the server is seen capping its READ replies: one request in flight at a time.
        var oneRequestAtATime = false
        while true {
            // libssh2 keeps up to 4 × the asked size in flight: asking for 2 MB on a 200 kB file
            // sends ~280 useless requests and waits for all their replies. Ask for a quarter of
            // what is left (plus one byte to see the end), in whole 30000-byte requests, capped by
            // the buffer: the requests in flight then cover the rest of the file and little more.
            var ask = capacity
            if let expectedSize {
                let left = expectedSize > offset + total ? expectedSize - offset - total : 0
                let wanted = ((left + 1 + 3) / 4 + 29_999) / 30_000 * 30_000
                ask = Int(min(UInt64(capacity), wanted))
            }
            if oneRequestAtATime { ask = Self.singleRequestBuffer }
            let count = libssh2_sftp_read(handle, buffer.assumingMemoryBound(to: CChar.self), ask)
            if count == 0 { break }
            if count < 0 {
                let error = failure(session, sftp, path: path, operation: "reading \(path) at byte \(offset + total)")
                if case .sftp(_, .other(0), _) = error, !oneRequestAtATime {
                    // A server may answer a READ with fewer bytes than asked (SFTP allows it).
                    // libssh2 (1.10 and 1.11) then finds its next pipelined reply at an offset it
                    // did not expect and fails with no server status (0). Its bytes not yet
                    // handed over are dropped with it: start again from the last byte we got, on
                    // a new handle, with one request in flight, which libssh2 follows.
                    logger.info(
                        "\(path): the server sends fewer bytes than asked per READ; reading it one request at a time")
                    libssh2_sftp_close_handle(handle)
                    handle = try openHandle(path, directory: false, session, sftp, operation: "reopening \(path)")
                    libssh2_sftp_seek64(handle, offset + total)
                    oneRequestAtATime = true
                    continue
                }
                throw error
            }
            try sink(UnsafeRawBufferPointer(start: buffer, count: count))
            total += UInt64(count)
        }
        if let expectedSize, offset + total < expectedSize {
            // Shorter than listed: a file the server now says is that short is the caller's
            // business (it compares sizes); anything else is a cut transfer.
            if knownSize != nil, let now = try? serverSize(), now == offset + total { return total }
            throw SFTPError.connectionLost(
                detail: "\(path) ended at byte \(offset + total) of \(expectedSize) (the server closed the transfer)")
        }
        return total
    }

    /// libssh2 keeps up to 4 × the buffer in flight, in requests of at most 30000 bytes: a
    /// quarter of that keeps exactly one request in flight.
    static let singleRequestBuffer = 7_500
}
