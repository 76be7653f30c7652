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

    let logger: Logger
    var socket: Int32 = -1
    var session: OpaquePointer?
    var sftp: OpaquePointer?
    let context = SessionContext()
    /// Set when the connection broke: closing then skips the goodbye that would only wait.
    var broken = false

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

    var timeout: Int { configuration.timeout }

    func open() throws {
        let config = configuration
        logger.debug(
            "connecting to \(config.host) port \(config.port) (timeout \(config.timeout) s, libssh2 \(LibSSH2.version))"
        )
        socket = try TCPConnector.connect(host: config.host, port: config.port, timeout: config.timeout)
        logger.debug("connected to \(TCPConnector.peerAddress(socket) ?? config.host) port \(config.port)")

        guard let session = libssh2_session_init_ex(nil, nil, nil, Unmanaged.passUnretained(context).toOpaque()) else {
            throw SFTPError.ssh(
                code: LIBSSH2_ERROR_ALLOC, message: "cannot allocate a session", operation: "starting SSH")
        }
        self.session = session
        libssh2_session_set_blocking(session, 1)
        libssh2_session_set_timeout(session, config.timeout * 1000)

        var knownHosts: KnownHosts?
        var recorded: [HostKeyType] = []
        if case .knownHosts(let path) = config.hostKeyPolicy {
            let hosts = try KnownHosts(session: session, path: path)
            knownHosts = hosts
            // libssh2 prefers ECDSA: against a host recorded only with ed25519 an unguided
            // handshake would get a key that looks like a mismatch.
            recorded = hosts.recordedKeyTypes(host: config.host, port: config.port)
        }
        do {
            negotiatedAlgorithms = try Handshake(
                session: session, socket: socket, configuration: config, logger: logger
            )
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

    func verify(_ key: HostKey, knownHosts: KnownHosts?) throws {
        let config = configuration
        switch config.hostKeyPolicy {
        case .insecureAcceptAny:
            logger.warning(
                "host key of \(config.host) NOT verified (insecure mode): \(key.type.name) \(key.fingerprint)")
        case .pinned(let expected):
            guard Self.normalisedFingerprint(expected) == key.fingerprint else {
                throw SFTPError.hostKeyMismatch(
                    host: config.host, port: config.port, keyType: key.type.name,
                    fingerprint: key.fingerprint, expected: expected, knownHostsPath: nil)
            }
            logger.debug("host key matches the pinned fingerprint")
        case .knownHosts(let path):
            switch knownHosts?.check(host: config.host, port: config.port, key: key) ?? .notFound {
            case .match(let line):
                logger.debug(
                    "host key matches \(path):\(line.map(String.init) ?? "?") (\(KnownHosts.name(config.host, config.port)))"
                )
            case .mismatch(let line):
                logger.debug(
                    "\(path):\(line.map(String.init) ?? "?") holds another \(key.type.name) key for \(KnownHosts.name(config.host, config.port))"
                )
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

    // Open-ahead state (see SFTPClient+OpenAhead.swift).
    var openAheadHint: OpenRequest?
    /// The open sent ahead, not answered yet (libssh2 keeps one open in progress per SFTP session).
    var pendingOpen: OpenRequest?
    /// The open sent ahead and already answered (on a fast link, within the call that sent it).
    var openedAhead: (request: OpenRequest, handle: OpaquePointer)?
    /// Handles whose close request is sent but not answered yet.
    var pendingCloses: [OpaquePointer] = []

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

    func live() throws -> (OpaquePointer, OpaquePointer) {
        guard !broken, let session, let sftp else {
            throw SFTPError.connectionLost(detail: "the session was closed by an earlier error")
        }
        return (session, sftp)
    }

    /// The error for a failed SFTP call: the server's status when it answered, else the
    /// session error (and the session is marked broken when the connection is gone).
    func failure(_ session: OpaquePointer, _ sftp: OpaquePointer, path: String, operation: String) -> SFTPError {
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
                message:
                    "the server's reply is larger than libssh2 1.10's 256 KiB SFTP packet limit (too large, not a timeout); "
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
