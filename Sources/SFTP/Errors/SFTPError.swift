/// Everything that can go wrong, typed so a caller can map it to an exit status (`category`)
/// and readable so an operator knows what to do (`description`).
public enum SFTPError: Error, CustomStringConvertible, Sendable, Equatable {
    case nameNotResolved(host: String, reason: String)
    case connectionRefused(host: String, port: Int)
    /// Other connect failures: network unreachable, no route, ...
    case connectFailed(host: String, port: Int, reason: String)
    /// A network wait exceeded the timeout; `operation` says which.
    case timedOut(operation: String, seconds: Int)
    /// The server or the network dropped the connection.
    case connectionLost(detail: String)
    case hostKeyUnknown(host: String, port: Int, keyType: String, fingerprint: String, knownHostsPath: String?)
    /// `expected` is the pinned fingerprint, or nil when a known_hosts entry differs.
    case hostKeyMismatch(
        host: String, port: Int, keyType: String, fingerprint: String, expected: String?, knownHostsPath: String?)
    case knownHostsUnreadable(path: String, reason: String)
    case knownHostsMalformed(path: String, line: Int, reason: String)
    /// `attempts` holds "method: libssh2 message" for each method tried; never a secret.
    case authenticationFailed(user: String, offeredMethods: [String], attempts: [String])
    /// A local key file that cannot be used (missing, unreadable, wrong passphrase).
    case keyFileUnusable(path: String, reason: String)
    /// The server answered an SFTP request with a failure status.
    case sftp(path: String, status: SFTPStatus, message: String)
    /// The handshake failed: in each category listed, client and server had no algorithm in
    /// common (from the server's KEXINIT, read again on a separate connection).
    case noCommonAlgorithm(host: String, port: Int, mismatches: [AlgorithmMismatch], libssh2Version: String)
    /// Any other libssh2 failure, with libssh2's last-error text.
    case ssh(code: Int32, message: String, operation: String)

    /// Coarse classes a command-line front end maps to exit statuses.
    public enum Category: Sendable, Equatable {
        /// Name resolution, connect, timeouts, dropped connections (e.g. EX_UNAVAILABLE 69).
        case network
        /// Host key unknown or changed, known_hosts unusable (e.g. EX_PROTOCOL 76).
        case hostKey
        /// Credentials refused or unusable (e.g. EX_NOPERM 77).
        case authentication
        /// The server refused a file operation: no such file, permission denied, ...
        case remoteFile
        /// SSH protocol or library failure that fits none of the above.
        case protocolError
    }

    public var category: Category {
        switch self {
        case .nameNotResolved, .connectionRefused, .connectFailed, .timedOut, .connectionLost: .network
        case .hostKeyUnknown, .hostKeyMismatch, .knownHostsUnreadable, .knownHostsMalformed: .hostKey
        case .authenticationFailed, .keyFileUnusable: .authentication
        case .sftp: .remoteFile
        case .ssh, .noCommonAlgorithm: .protocolError
        }
    }

    public var description: String {
        switch self {
        case .nameNotResolved(let host, let reason):
            return "cannot resolve host name '\(host)': \(reason)"
        case .connectionRefused(let host, let port):
            return "connection refused by \(host) port \(port): is an SSH server listening there?"
        case .connectFailed(let host, let port, let reason):
            return "cannot connect to \(host) port \(port): \(reason)"
        case .timedOut(let operation, let seconds):
            return "timed out after \(seconds) s while \(operation)"
        case .connectionLost(let detail):
            return "connection lost: \(detail)"
        case .hostKeyUnknown(let host, let port, let keyType, let fingerprint, let knownHostsPath):
            let file = knownHostsPath ?? "~/.ssh/known_hosts"
            return """
                host key of \(Self.hostPort(host, port)) is not known: \(keyType) key \(fingerprint). \
                Refusing to connect. Check this fingerprint with the server's operator, then add the key with:
                  ssh-keyscan -p \(port) -t \(Self.keyscanType(keyType)) \(host) >> \(file)
                or pin it with --host-key \(fingerprint)
                """
        case .hostKeyMismatch(let host, let port, let keyType, let fingerprint, let expected, let knownHostsPath):
            let source =
                expected.map { "the pinned fingerprint \($0)" }
                ?? "the key recorded in \(knownHostsPath ?? "known_hosts")"
            return """
                HOST KEY MISMATCH for \(Self.hostPort(host, port)): the server presented \(keyType) key \
                \(fingerprint), which differs from \(source). Someone may be intercepting the connection, \
                or the server's key was replaced. Refusing to connect; confirm the new key with the server's \
                operator before updating the record.
                """
        case .knownHostsUnreadable(let path, let reason):
            return "cannot read known hosts file \(path): \(reason)"
        case .knownHostsMalformed(let path, let line, let reason):
            return "known hosts file \(path) line \(line) cannot be parsed (\(reason)); fix or remove that line"
        case .authenticationFailed(let user, let offered, let attempts):
            var text =
                "authentication as '\(user)' failed; the server offers: "
                + (offered.isEmpty ? "(nothing)" : offered.joined(separator: ", "))
            if !attempts.isEmpty { text += "; tried: " + attempts.joined(separator: "; ") }
            return text
        case .keyFileUnusable(let path, let reason):
            return "cannot use key file \(path): \(reason)"
        case .sftp(let path, let status, let message):
            return "\(path): \(status)" + (message.isEmpty ? "" : " (\(message))")
        case .noCommonAlgorithm(let host, let port, let mismatches, let version):
            return AlgorithmMismatch.describe(host: host, port: port, mismatches: mismatches, libssh2Version: version)
        case .ssh(let code, let message, let operation):
            return "SSH error while \(operation): \(message) (libssh2 error \(code))"
        }
    }

    /// A handshake that only weak algorithms could complete: allowing them would connect.
    public var onlyWeakAlgorithmsInCommon: Bool {
        guard case .noCommonAlgorithm(_, _, let mismatches, _) = self else { return false }
        return !mismatches.isEmpty && mismatches.allSatisfy { !$0.weakInCommon.isEmpty }
    }

    static func hostPort(_ host: String, _ port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    /// `ssh-keyscan -t` wants the family name, not the algorithm.
    static func keyscanType(_ keyType: String) -> String {
        if keyType.hasPrefix("ecdsa") { return "ecdsa" }
        if keyType == "ssh-ed25519" { return "ed25519" }
        if keyType == "ssh-rsa" { return "rsa" }
        return keyType
    }
}

/// SFTP status codes (draft-ietf-secsh-filexfer-02 and later) a server answers with.
public enum SFTPStatus: Sendable, Equatable, CustomStringConvertible {
    case noSuchFile
    case permissionDenied
    case failure
    case other(UInt)

    init(code: UInt) {
        switch code {
        case 2, 10: self = .noSuchFile  // NO_SUCH_FILE, NO_SUCH_PATH
        case 3: self = .permissionDenied
        case 4: self = .failure
        default: self = .other(code)
        }
    }

    public var description: String {
        switch self {
        case .noSuchFile: "no such file or directory"
        case .permissionDenied: "permission denied"
        case .failure: "failure reported by the server"
        case .other(let code): "SFTP status \(code)"
        }
    }
}
