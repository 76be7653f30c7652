import CLibSSH2
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One blocking SSH connection with an SFTP channel, used from one thread at a time.
///
/// `init` connects, verifies the host key before sending any credential, authenticates and
/// opens SFTP. Every network wait is bounded by `configuration.timeout`; after a timeout or a
/// lost connection the client is unusable and every call throws.
public final class SFTPClient {
    public let configuration: SFTPConfiguration
    /// The key the server presented: algorithm name and `SHA256:` fingerprint.
    public private(set) var serverHostKey: (type: String, fingerprint: String)?
    /// What the handshake agreed on; a cipher or MAC reads "a/b" when the directions differ.
    public private(set) var negotiatedAlgorithms: [AlgorithmCategory: String] = [:]

    private let logger: Logger
    private var socket: Int32 = -1
    private var session: OpaquePointer?
    private var sftp: OpaquePointer?
    private let context = SessionContext()
    /// Set when the connection broke: closing then skips the goodbye that would only wait.
    private var broken = false

    public init(configuration: SFTPConfiguration, logger: Logger) throws {
        precondition(LibSSH2.initialised, "libssh2_init failed")
        self.configuration = configuration
        self.logger = logger
        do {
            try open()
        } catch {
            // A refused key or host still gets a clean goodbye; a dead link does not wait for one.
            if let error = error as? SFTPError, LibSSH2Error.isFatal(error) { broken = true }
            close()
            throw error
        }
    }

    deinit { close() }

    private var timeout: Int { configuration.timeout }

    private func open() throws {
        let config = configuration
        logger.debug("connecting to \(config.host) port \(config.port) (timeout \(config.timeout) s, libssh2 \(LibSSH2.version))")
        socket = try TCPConnector.connect(host: config.host, port: config.port, timeout: config.timeout)
        logger.debug("connected to \(TCPConnector.peerAddress(socket) ?? config.host) port \(config.port)")

        guard let session = libssh2_session_init_ex(nil, nil, nil, Unmanaged.passUnretained(context).toOpaque()) else {
            throw SFTPError.ssh(code: LIBSSH2_ERROR_ALLOC, message: "cannot allocate a session", operation: "starting SSH")
        }
        self.session = session
        libssh2_session_set_blocking(session, 1)
        libssh2_session_set_timeout(session, config.timeout * 1000)

        var knownHosts: KnownHosts?
        var recorded: [HostKeyType] = []
        if case let .knownHosts(path) = config.hostKeyPolicy {
            let hosts = try KnownHosts(session: session, path: path)
            knownHosts = hosts
            // libssh2 prefers ECDSA: against a host recorded only with ed25519 an unguided
            // handshake would get a key that looks like a mismatch.
            recorded = hosts.recordedKeyTypes(host: config.host, port: config.port)
        }
        do {
            negotiatedAlgorithms = try Handshake(session: session, socket: socket, configuration: config, logger: logger)
                .perform(recordedHostKeys: recorded)
        } catch {
            // A session whose key exchange failed cannot say goodbye properly.
            broken = true
            throw error
        }
        let key = try HostKey(session: session)
        serverHostKey = (key.type.name, key.fingerprint)
        logger.debug("server host key: \(key.type.name) \(key.fingerprint)")
        try verify(key, knownHosts: knownHosts)

        try Authenticator(
            session: session, user: config.user, timeout: timeout, logger: logger, context: context,
            agentSocketPath: config.agentSocketPath
        ).authenticate(config.authentication)

        if config.keepaliveInterval > 0 {
            // Only once authenticated: a keepalive sent during the key exchange makes sshd hang up.
            // In blocking mode the interval doubles as an idle limit, so never below the timeout.
            libssh2_keepalive_config(session, 1, UInt32(max(config.keepaliveInterval, config.timeout)))
        }

        guard let sftp = libssh2_sftp_init(session) else {
            throw LibSSH2Error.last(session, operation: "starting the SFTP subsystem", timeout: timeout)
        }
        self.sftp = sftp
        logger.debug("SFTP session open")
    }

    private func verify(_ key: HostKey, knownHosts: KnownHosts?) throws {
        let config = configuration
        switch config.hostKeyPolicy {
        case .insecureAcceptAny:
            logger.warning("host key of \(config.host) NOT verified (insecure mode): \(key.type.name) \(key.fingerprint)")
        case let .pinned(expected):
            guard Self.normalisedFingerprint(expected) == key.fingerprint else {
                throw SFTPError.hostKeyMismatch(
                    host: config.host, port: config.port, keyType: key.type.name,
                    fingerprint: key.fingerprint, expected: expected, knownHostsPath: nil)
            }
            logger.debug("host key matches the pinned fingerprint")
        case let .knownHosts(path):
            switch knownHosts?.check(host: config.host, port: config.port, key: key) ?? .notFound {
            case let .match(line):
                logger.debug("host key matches \(path):\(line.map(String.init) ?? "?") (\(KnownHosts.name(config.host, config.port)))")
            case let .mismatch(line):
                logger.debug("\(path):\(line.map(String.init) ?? "?") holds another \(key.type.name) key for \(KnownHosts.name(config.host, config.port))")
                throw SFTPError.hostKeyMismatch(
                    host: config.host, port: config.port, keyType: key.type.name,
                    fingerprint: key.fingerprint, expected: nil, knownHostsPath: path)
            case .notFound:
                throw SFTPError.hostKeyUnknown(
                    host: config.host, port: config.port, keyType: key.type.name,
                    fingerprint: key.fingerprint, knownHostsPath: path)
            }
        }
    }

    /// Accepts `SHA256:xyz`, `xyz`, with or without base64 padding.
    static func normalisedFingerprint(_ text: String) -> String {
        var body = Substring(text.trimmingSpaces)
        if body.hasPrefix("SHA256:") { body = body.dropFirst(7) }
        while body.hasSuffix("=") { body = body.dropLast() }
        return "SHA256:" + body
    }

    // MARK: Operations

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
        defer { name.deallocate(); longEntry.deallocate() }
        var entries: [SFTPEntry] = []
        while true {
            var attributes = LIBSSH2_SFTP_ATTRIBUTES()
            let rc = libssh2_sftp_readdir_ex(handle, name, capacity, longEntry, capacity, &attributes)
            if rc == 0 { break }
            if rc < 0 {
                if rc == LIBSSH2_ERROR_BUFFER_TOO_SMALL {
                    throw SFTPError.ssh(code: rc, message: "a name in the directory is longer than \(capacity) bytes", operation: "listing \(path)")
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
    private func resolveMissingAttributes(_ entries: [SFTPEntry], in directory: String) throws -> [SFTPEntry] {
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

    private func stat(_ path: String, type: Int32) throws -> SFTPAttributes {
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
                    logger.info("\(path): the server sends fewer bytes than asked per READ; reading it one request at a time")
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

    // MARK: Overlapping round trips

    /// Says which path the next `list` (directory) or `download` (file) will open: the client
    /// sends that open request as soon as the current operation's own open is answered, so its
    /// reply travels while the current one reads. A hint for another path costs one wasted open.
    public func openAhead(_ path: String, directory: Bool) {
        openAheadHint = OpenRequest(path: path, directory: directory)
    }

    private struct OpenRequest: Equatable {
        var path: String
        var directory: Bool
    }

    private var openAheadHint: OpenRequest?
    /// The open sent ahead, not answered yet (libssh2 keeps one open in progress per SFTP session).
    private var pendingOpen: OpenRequest?
    /// The open sent ahead and already answered (on a fast link, within the call that sent it).
    private var openedAhead: (request: OpenRequest, handle: OpaquePointer)?
    /// Handles whose close request is sent but not answered yet.
    private var pendingCloses: [OpaquePointer] = []

    private func sendOpen(_ request: OpenRequest, _ sftp: OpaquePointer) -> OpaquePointer? {
        let path = request.path
        return libssh2_sftp_open_ex(
            sftp, path, UInt32(path.utf8.count), request.directory ? 0 : UInt(LIBSSH2_FXF_READ), 0,
            request.directory ? LIBSSH2_SFTP_OPENDIR : LIBSSH2_SFTP_OPENFILE)
    }

    /// Opens `path`, using the open sent ahead when it is this one.
    private func openHandle(_ path: String, directory: Bool, _ session: OpaquePointer, _ sftp: OpaquePointer, operation: String) throws -> OpaquePointer {
        settleCloses(session, wait: pendingCloses.count > 16)
        let request = OpenRequest(path: path, directory: directory)
        if let opened = openedAhead {
            openedAhead = nil
            if opened.request == request { return opened.handle }
            closeLater(opened.handle, session)
        }
        if let pending = pendingOpen {
            // Finish it (blocking): libssh2 resumes the open where the non-blocking call left it.
            pendingOpen = nil
            let handle = sendOpen(pending, sftp)
            if pending == request {
                guard let handle else { throw failure(session, sftp, path: path, operation: operation) }
                return handle
            }
            if let handle {
                closeLater(handle, session)
            } else {
                let error = failure(session, sftp, path: pending.path, operation: "opening \(pending.path)")
                if broken { throw error }
            }
        }
        guard let handle = sendOpen(request, sftp) else { throw failure(session, sftp, path: path, operation: operation) }
        return handle
    }

    /// Room in the SFTP channel's send window for a small request. libssh2 can send part of a
    /// packet when the window is short and finish it later, and a blocking call in between would
    /// interleave its own packets: a request is sent ahead only when it fits whole.
    private func windowFits(_ sftp: OpaquePointer, bytes: Int) -> Bool {
        guard let channel = libssh2_sftp_get_channel(sftp) else { return false }
        return Int(libssh2_channel_window_write_ex(channel, nil)) >= bytes
    }

    private func startOpenAhead(_ session: OpaquePointer, _ sftp: OpaquePointer) {
        guard let hint = openAheadHint, pendingOpen == nil, openedAhead == nil, !broken else { return }
        openAheadHint = nil
        guard windowFits(sftp, bytes: hint.path.utf8.count + 1024) else { return }
        libssh2_session_set_blocking(session, 0)
        defer { libssh2_session_set_blocking(session, 1) }
        if let handle = sendOpen(hint, sftp) {
            openedAhead = (hint, handle)
        } else if libssh2_session_last_errno(session) == LIBSSH2_ERROR_EAGAIN {
            pendingOpen = hint
        }
    }

    /// Sends the close without waiting for its answer (the next operations collect it).
    private func closeLater(_ handle: OpaquePointer, _ session: OpaquePointer) {
        if broken { return }
        guard let sftp, windowFits(sftp, bytes: 1024) else {
            libssh2_sftp_close_handle(handle)
            return
        }
        libssh2_session_set_blocking(session, 0)
        let rc = libssh2_sftp_close_handle(handle)
        libssh2_session_set_blocking(session, 1)
        if rc == LIBSSH2_ERROR_EAGAIN { pendingCloses.append(handle) }
    }

    /// Collects the answers to earlier closes: those already there, or all of them (`wait`).
    private func settleCloses(_ session: OpaquePointer, wait: Bool) {
        if broken || pendingCloses.isEmpty { return }
        if !wait { libssh2_session_set_blocking(session, 0) }
        pendingCloses.removeAll { libssh2_sftp_close_handle($0) != LIBSSH2_ERROR_EAGAIN }
        if !wait { libssh2_session_set_blocking(session, 1) }
    }

    // MARK: Closing

    /// Says goodbye to the server and frees everything; bounded by the timeout, idempotent.
    public func close() {
        if socket >= 0, broken {
            // A dead or stalled peer: make every remaining libssh2 I/O fail at once.
            shutdown(socket, Int32(SHUT_RDWR))
        }
        if let sftp {
            if let session, !broken {
                if let pending = pendingOpen, let handle = sendOpen(pending, sftp) { libssh2_sftp_close_handle(handle) }
                if let opened = openedAhead { libssh2_sftp_close_handle(opened.handle) }
                settleCloses(session, wait: true)
            }
            pendingOpen = nil
            openedAhead = nil
            pendingCloses = []
            libssh2_sftp_shutdown(sftp)
            self.sftp = nil
        }
        if let session {
            if !broken {
                libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "closing", "")
            }
            libssh2_session_free(session)
            self.session = nil
        }
        if socket >= 0 {
            _ = posixClose(socket)
            socket = -1
        }
    }

    // MARK: Helpers

    private func live() throws -> (OpaquePointer, OpaquePointer) {
        guard !broken, let session, let sftp else {
            throw SFTPError.connectionLost(detail: "the session was closed by an earlier error")
        }
        return (session, sftp)
    }

    /// The error for a failed SFTP call: the server's status when it answered, else the
    /// session error (and the session is marked broken when the connection is gone).
    private func failure(_ session: OpaquePointer, _ sftp: OpaquePointer, path: String, operation: String) -> SFTPError {
        let (code, message) = LibSSH2Error.lastMessage(session)
        if code == LIBSSH2_ERROR_SFTP_PROTOCOL {
            let status = UInt(libssh2_sftp_last_error(sftp))
            return .sftp(path: path, status: SFTPStatus(code: status), message: "")
        }
        if code == LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED {
            // libssh2 1.10 reports an SFTP reply over its 256 KiB packet limit with a misleading
            // "Timeout waiting for status message": nothing timed out. Say what happened.
            broken = true
            return .ssh(
                code: code,
                message: "the server's reply is larger than libssh2 1.10's 256 KiB SFTP packet limit (too large, not a timeout); "
                    + "the listing cannot be read with this libssh2 version",
                operation: operation)
        }
        let error = LibSSH2Error.make(code: code, message: message, operation: operation, timeout: timeout)
        if LibSSH2Error.isFatal(error) { broken = true }
        return error
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map { index(after: $0) } ?? endIndex
        return start < end ? self[start..<end] : ""
    }
}
