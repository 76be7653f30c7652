#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything needed to open one SSH+SFTP session. A value: build it, hand it to `SFTPClient`.
public struct SFTPConfiguration: Sendable {
    /// How the server's host key is checked, before any credential is sent.
    public enum HostKeyPolicy: Sendable, Equatable {
        /// OpenSSH `known_hosts` file (hashed entries and `[host]:port` understood).
        case knownHosts(path: String)
        /// A pinned fingerprint in OpenSSH notation, `SHA256:<base64 without padding>`.
        case pinned(sha256: String)
        /// No check at all. The client logs a warning on every connection.
        case insecureAcceptAny
    }

    /// One way to authenticate. The client tries them in the order given.
    public enum Authentication: Sendable {
        /// Password; also answers keyboard-interactive prompts when the server offers only that.
        case password(String)
        /// Private key file (ed25519 or ecdsa: libssh2 1.10 cannot sign with rsa-sha2, which
        /// OpenSSH ≥ 8.8 requires for RSA user keys). `publicKeyPath` nil derives it from the key.
        case publicKey(privateKeyPath: String, publicKeyPath: String?, passphrase: String?)
        /// Identities held by the ssh-agent named by `SSH_AUTH_SOCK`.
        case agent

        /// The SSH method name, for logs and errors (never the secret).
        public var methodName: String {
            switch self {
            case .password: "password"
            case .publicKey: "publickey"
            case .agent: "publickey (agent)"
            }
        }
    }

    public var host: String
    public var port: Int
    public var user: String
    /// Bounds the TCP connect, the handshake and every single blocking libssh2 call (seconds).
    public var timeout: Int
    /// Seconds between SSH keepalives while the session waits. libssh2 in blocking mode turns
    /// this interval into an idle limit, so it is never used below `timeout`. 0 = off.
    public var keepaliveInterval: Int
    public var hostKeyPolicy: HostKeyPolicy
    public var authentication: [Authentication]
    /// The ssh-agent socket for `.agent`; nil uses `SSH_AUTH_SOCK`, as ssh does.
    public var agentSocketPath: String?
    /// Size of the one buffer `download` reuses: libssh2 1.10 keeps up to 4 × this in flight.
    /// Rounded to a multiple of 30000 (libssh2's largest request) between 1 and 4 MiB.
    public var readBufferSize: Int
    /// Also offer the weak algorithms the linked libssh2 has (CBC modes, arcfour, 3DES, MD5 and
    /// 96-bit MACs, SHA-1 key exchanges, ssh-dss, ssh-rsa with SHA-1) after the modern ones
    /// (OpenSSH 9's client defaults). Off by default; for a server that offers nothing better.
    public var allowWeakAlgorithms: Bool

    public init(
        host: String,
        port: Int = 22,
        user: String,
        timeout: Int = 30,
        keepaliveInterval: Int = 30,
        hostKeyPolicy: HostKeyPolicy,
        authentication: [Authentication],
        readBufferSize: Int = 2_100_000,
        agentSocketPath: String? = nil,
        allowWeakAlgorithms: Bool = false
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.timeout = timeout
        self.keepaliveInterval = keepaliveInterval
        self.hostKeyPolicy = hostKeyPolicy
        self.authentication = authentication
        self.readBufferSize = readBufferSize
        self.agentSocketPath = agentSocketPath
        self.allowWeakAlgorithms = allowWeakAlgorithms
    }

    /// `~/.ssh/known_hosts` of the current user (from `$HOME`).
    public static var defaultKnownHostsPath: String {
        let home = getenvString("HOME") ?? "/root"
        return home + "/.ssh/known_hosts"
    }

    /// The read buffer size actually used: a multiple of 30000 within 1...4 MiB.
    var effectiveReadBufferSize: Int {
        let request = 30_000
        let lower = (1 << 20) / request + 1  // 35 requests, just over 1 MiB
        let upper = (4 << 20) / request  // 139 requests, just under 4 MiB
        return min(max(readBufferSize / request, lower), upper) * request
    }
}

func getenvString(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
}
