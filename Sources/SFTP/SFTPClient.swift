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
        logger.debug("connecting", metadata: ["host": "\(config.host)", "port": "\(config.port)"])
        socket = try TCPConnector.connect(host: config.host, port: config.port, timeout: config.timeout)

        guard let session = libssh2_session_init_ex(nil, nil, nil, Unmanaged.passUnretained(context).toOpaque()) else {
            throw SFTPError.ssh(code: LIBSSH2_ERROR_ALLOC, message: "cannot allocate a session", operation: "starting SSH")
        }
        self.session = session
        libssh2_session_set_blocking(session, 1)
        libssh2_session_set_timeout(session, config.timeout * 1000)

        var knownHosts: KnownHosts?
        if case let .knownHosts(path) = config.hostKeyPolicy {
            let hosts = try KnownHosts(session: session, path: path)
            knownHosts = hosts
            // libssh2 1.10 prefers ECDSA: against a host recorded only with ed25519 an
            // unguided handshake would get a key that looks like a mismatch.
            let recorded = hosts.recordedKeyTypes(host: config.host, port: config.port)
            if !recorded.isEmpty {
                let preferred = recorded + HostKeyType.all.filter { !recorded.contains($0) }
                let names = preferred.map(\.name).joined(separator: ",")
                libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, names)
                logger.debug("preferring recorded host key types", metadata: ["types": "\(names)"])
            }
        }

        if libssh2_session_handshake(session, socket) != 0 {
            throw LibSSH2Error.last(session, operation: "performing the SSH handshake with \(config.host)", timeout: timeout)
        }
        let key = try HostKey(session: session)
        serverHostKey = (key.type.name, key.fingerprint)
        logger.debug("server host key", metadata: ["type": "\(key.type.name)", "fingerprint": "\(key.fingerprint)"])
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
            logger.warning(
                "host key NOT verified (insecure mode)",
                metadata: ["host": "\(config.host)", "type": "\(key.type.name)", "fingerprint": "\(key.fingerprint)"])
        case let .pinned(expected):
            guard Self.normalisedFingerprint(expected) == key.fingerprint else {
                throw SFTPError.hostKeyMismatch(
                    host: config.host, port: config.port, keyType: key.type.name,
                    fingerprint: key.fingerprint, expected: expected, knownHostsPath: nil)
            }
        case let .knownHosts(path):
            switch knownHosts?.check(host: config.host, port: config.port, key: key) ?? .notFound {
            case .match:
                break
            case .mismatch:
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
        guard let handle = libssh2_sftp_open_ex(sftp, path, UInt32(path.utf8.count), 0, 0, LIBSSH2_SFTP_OPENDIR) else {
            throw failure(session, sftp, path: path, operation: "opening directory \(path)")
        }
        defer { if !broken { libssh2_sftp_close_handle(handle) } }

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
            entries.append(SFTPEntry(name: entryName, attributes: SFTPAttributes(attributes)))
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
    /// Ending before the size the server reported at open is an error, not a short file.
    @discardableResult
    public func download(
        _ path: String, from offset: UInt64 = 0, to sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> UInt64 {
        let (session, sftp) = try live()
        guard let handle = libssh2_sftp_open_ex(sftp, path, UInt32(path.utf8.count), UInt(LIBSSH2_FXF_READ), 0, LIBSSH2_SFTP_OPENFILE) else {
            throw failure(session, sftp, path: path, operation: "opening \(path)")
        }
        defer { if !broken { libssh2_sftp_close_handle(handle) } }

        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        guard libssh2_sftp_fstat_ex(handle, &attributes, 0) == 0 else {
            throw failure(session, sftp, path: path, operation: "reading attributes of \(path)")
        }
        let expectedSize: UInt64? = UInt(attributes.flags) & UInt(LIBSSH2_SFTP_ATTR_SIZE) != 0 ? attributes.filesize : nil
        if offset > 0 { libssh2_sftp_seek64(handle, offset) }

        let capacity = configuration.effectiveReadBufferSize
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        defer { buffer.deallocate() }
        var total: UInt64 = 0
        while true {
            // libssh2 keeps up to 4 × the asked size in flight: asking for 2 MB on a 200 kB file
            // sends ~280 useless requests and waits for all their replies. Ask for what is left
            // (plus one byte to see the end), in whole 30000-byte requests, capped by the buffer.
            var ask = capacity
            if let expectedSize {
                let left = expectedSize > offset + total ? expectedSize - offset - total : 0
                let wanted = (left + 1 + 29_999) / 30_000 * 30_000
                ask = Int(min(UInt64(capacity), wanted))
            }
            let count = libssh2_sftp_read(handle, buffer.assumingMemoryBound(to: CChar.self), ask)
            if count == 0 { break }
            if count < 0 {
                throw failure(session, sftp, path: path, operation: "reading \(path) at byte \(offset + total)")
            }
            try sink(UnsafeRawBufferPointer(start: buffer, count: count))
            total += UInt64(count)
        }
        if let expectedSize, offset + total < expectedSize {
            throw SFTPError.connectionLost(
                detail: "\(path) ended at byte \(offset + total) of \(expectedSize) (the server closed the transfer)")
        }
        return total
    }

    // MARK: Closing

    /// Says goodbye to the server and frees everything; bounded by the timeout, idempotent.
    public func close() {
        if socket >= 0, broken {
            // A dead or stalled peer: make every remaining libssh2 I/O fail at once.
            shutdown(socket, Int32(SHUT_RDWR))
        }
        if let sftp {
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
