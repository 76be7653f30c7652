import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real ProFTPD (Debian's proftpd-core) serving SFTP through `mod_sftp` (proftpd-mod-crypto)
/// on 127.0.0.1 for tests: a second server implementation next to OpenSSH, with its own
/// listing format, algorithms and authentication code.
///
/// Throwaway host keys; one virtual user (`AuthUserFile`: no system account is created) that
/// logs in by password or by public key (`SFTPAuthorizedUserKeys`, RFC 4716). As root the user
/// is confined to `root` (`DefaultRoot ~`), so `/ROOT/expired` is absolute in the server and
/// `<shop>/expired` resolves from the login directory. ProFTPD runs in the foreground as this
/// process's child with its PID file, scoreboard and logs in `workDirectory`; no FTP listener:
/// the one port speaks SSH. Call `stop()` (in a `defer`) to kill it and remove every file.
public final class TestProFTPDServer: ServedTree, @unchecked Sendable {
    public enum HostKeyType: String, Sendable, CaseIterable {
        case ed25519
        case ecdsa
        case rsa

        /// The algorithm name used in known_hosts lines.
        public var algorithm: String {
            switch self {
            case .ed25519: "ssh-ed25519"
            case .ecdsa: "ecdsa-sha2-nistp256"
            case .rsa: "ssh-rsa"
            }
        }
    }

    public struct Options: Sendable {
        public var hostKeyTypes: [HostKeyType]
        /// Directories of the served tree ("/87654321/expired") that proftpd refuses to list or
        /// read (`<Limit ALL> DenyAll`): the client gets "permission denied" (status 3).
        public var deniedDirectories: [String]
        /// Sent before authentication (SSH_MSG_USERAUTH_BANNER, `SFTPDisplayBanner`).
        public var banner: String?
        /// At most this many sessions of the user at once (`MaxClientsPerUser`); later logins are refused.
        public var maxSessionsPerUser: Int?
        public init(
            hostKeyTypes: [HostKeyType] = HostKeyType.allCases, deniedDirectories: [String] = [], banner: String? = nil,
            maxSessionsPerUser: Int? = nil
        ) {
            self.hostKeyTypes = hostKeyTypes
            self.deniedDirectories = deniedDirectories
            self.banner = banner
            self.maxSessionsPerUser = maxSessionsPerUser
        }
    }

    public static let executable = "/usr/sbin/proftpd"
    public static let modulePath = "/usr/lib/proftpd"

    /// Why the tests cannot run, or nil: proftpd and mod_sftp are installed (`make deps`).
    public static var unavailableReason: String? {
        if !FileManager.default.isExecutableFile(atPath: executable) {
            return "\(executable) is not installed (apt-get install proftpd-core proftpd-mod-crypto, or make deps)"
        }
        if !FileManager.default.fileExists(atPath: modulePath + "/mod_sftp.so") {
            return "\(modulePath)/mod_sftp.so is not installed (apt-get install proftpd-mod-crypto, or make deps)"
        }
        return nil
    }

    public static var isAvailable: Bool { unavailableReason == nil }

    public let host = "127.0.0.1"
    public private(set) var port: Int = 0
    /// Local directory holding the served tree (the user's home and, as root, its chroot).
    public let root: String
    public let username: String
    public let password: String
    public let userPrivateKeyPath: String
    /// A known_hosts file with every host key of this server, plain `[127.0.0.1]:port` lines.
    public let knownHostsPath: String
    /// ProFTPD's own messages (its standard error, `-n`).
    public let logPath: String
    /// mod_sftp's log: key exchange, algorithms, authentication.
    public let sftpLogPath: String
    /// One line per SSH/SFTP request: `OPEN|<local path>`, `READDIR|-`, ...
    public let requestLogPath: String
    public let isChrooted: Bool
    public let options: Options
    /// Scratch directory for configuration, keys, logs and extra files tests make.
    public let workDirectory: String

    private var listener: pid_t?
    /// Cleans up if the test process dies without calling `stop()` (a crash, a kill).
    private var watchdog: pid_t?
    /// Write end of the watchdog's stdin: the kernel closes it when this process dies.
    private var watchdogPipe: Int32 = -1
    private var stopped = false
    private let lock = NSLock()

    public init(options: Options = Options()) throws {
        if let reason = Self.unavailableReason { throw TestSSHServerError(reason) }
        self.options = options
        isChrooted = TestSSHServer.isRoot
        let made = try TestSSHServer.makeTemporaryDirectory(prefix: "expcards-proftpd-")
        // Canonical ("/tmp//x" becomes "/tmp/x"): proftpd logs canonical paths, `openedFiles` strips `root`.
        workDirectory =
            realpath(made, nil).map { pointer in
                defer { free(pointer) }
                return String(cString: pointer)
            } ?? made
        // The session runs as the virtual user's uid (nobody): it must reach the served tree.
        chmod(workDirectory, 0o755)
        root = workDirectory + "/root"
        logPath = workDirectory + "/proftpd.log"
        sftpLogPath = workDirectory + "/sftp.log"
        requestLogPath = workDirectory + "/requests.log"
        userPrivateKeyPath = workDirectory + "/user_ed25519"
        knownHostsPath = workDirectory + "/known_hosts"
        username = "xpftp" + TestSSHServer.randomToken(8)
        password = TestSSHServer.randomToken(20)
        do {
            try startWatchdog()
            let fm = FileManager.default
            try fm.createDirectory(
                atPath: root, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
            try fm.createDirectory(
                atPath: authorizedKeysDirectory, withIntermediateDirectories: false,
                attributes: [.posixPermissions: 0o755])
            try writeUserFiles()
            if let banner = options.banner { try writeScratchFile("banner", banner, mode: 0o644) }
            try TestSSHServer.run(
                "/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", userPrivateKeyPath])
            try authorize(publicKeyPath: userPrivateKeyPath + ".pub")
            for type in options.hostKeyTypes {
                // mod_sftp reads RSA and ECDSA host keys in PEM, Ed25519 in OpenSSH's format.
                var arguments = ["-q", "-t", type.rawValue, "-N", "", "-C", "", "-f", hostKeyPath(type)]
                switch type {
                case .ed25519: break
                case .ecdsa: arguments += ["-b", "256", "-m", "PEM"]
                case .rsa: arguments += ["-b", "2048", "-m", "PEM"]
                }
                try TestSSHServer.run("/usr/bin/ssh-keygen", arguments)
            }
            try start()
            try knownHostsEntries().write(toFile: knownHostsPath, atomically: true, encoding: .utf8)
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// Everything the server logged so far (its messages, mod_sftp's, every request), for a failing test.
    public var log: String {
        [logPath, sftpLogPath, requestLogPath].map { path in
            "--- \((path as NSString).lastPathComponent)\n"
                + ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
        }.joined(separator: "\n")
    }

    /// The files opened so far (downloads), in order, each as `remotePath` names it.
    public var openedFiles: [String] {
        let text = (try? String(contentsOfFile: requestLogPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("OPEN|") else { return nil }
            let local = String(line.dropFirst(5))
            // The log names the local path; in a chroot the client sees it without `root`.
            return isChrooted && local.hasPrefix(root + "/") ? String(local.dropFirst(root.count)) : local
        }
    }

    /// The authentication methods mod_sftp accepted so far (`publickey`, `password`), in order.
    public var acceptedAuthenticationMethods: [String] {
        let text = (try? String(contentsOfFile: sftpLogPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let r = line.range(of: "user '\(username)' authenticated via '") else { return nil }
            return String(line[r.upperBound...].prefix { $0 != "'" })
        }
    }

    /// How many requests of one kind (`READDIR`, `OPEN`, `STAT`, ...) the server received so far.
    public func requestCount(_ command: String) -> Int {
        let text = (try? String(contentsOfFile: requestLogPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.hasPrefix(command + "|") }.count
    }

    /// How many SSH sessions logged in so far.
    public var logins: Int { acceptedAuthenticationMethods.count }

    // MARK: Fixture tree

    /// Creates a user key in the scratch directory and returns its private key path;
    /// `authorize` decides whether the server accepts it.
    public func makeUserKey(type: String = "ed25519", authorize: Bool = true) throws -> String {
        let path = workDirectory + "/user-\(type)-" + TestSSHServer.randomToken(6)
        var arguments = ["-q", "-t", type, "-N", "", "-C", "", "-f", path]
        if type == "rsa" { arguments += ["-b", "2048"] }
        if type == "ecdsa" { arguments += ["-b", "256"] }
        try TestSSHServer.run("/usr/bin/ssh-keygen", arguments)
        if authorize { try self.authorize(publicKeyPath: path + ".pub") }
        return path
    }

    // MARK: Host keys

    /// known_hosts lines for this server's host keys (all by default), plain `[127.0.0.1]:port`.
    public func knownHostsEntries(types: [HostKeyType]? = nil) throws -> String {
        var text = ""
        for type in types ?? options.hostKeyTypes {
            let parts = try String(contentsOfFile: hostKeyPath(type) + ".pub", encoding: .utf8).split(separator: " ")
            text += "[\(host)]:\(port) \(parts[0]) \(parts[1])\n"
        }
        return text
    }

    /// The OpenSSH `SHA256:...` fingerprint of one of this server's host keys.
    public func fingerprint(_ type: HostKeyType) throws -> String {
        let output = try TestSSHServer.run(
            "/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", hostKeyPath(type) + ".pub"])
        return String(output.split(separator: " ")[1])
    }

    /// A fresh public key ("ssh-ed25519 AAAA...") that belongs to no server: a changed host key.
    public func unrelatedPublicKey(_ type: HostKeyType) throws -> String {
        let path = workDirectory + "/unrelated-" + TestSSHServer.randomToken(6)
        var arguments = ["-q", "-t", type.rawValue, "-N", "", "-C", "", "-f", path]
        if type == .ecdsa { arguments += ["-b", "256"] }
        if type == .rsa { arguments += ["-b", "2048"] }
        try TestSSHServer.run("/usr/bin/ssh-keygen", arguments)
        defer {
            unlink(path)
            unlink(path + ".pub")
        }
        let parts = try String(contentsOfFile: path + ".pub", encoding: .utf8).split(separator: " ")
        return "\(parts[0]) \(parts[1])"
    }

    func hostKeyPath(_ type: HostKeyType) -> String { workDirectory + "/ssh_host_\(type.rawValue)_key" }

    // MARK: User

    var authorizedKeysDirectory: String { workDirectory + "/authorized_keys" }
    var userFilePath: String { workDirectory + "/passwd" }
    var groupFilePath: String { workDirectory + "/group" }

    /// The virtual user: as root, nobody's uid confined to `root`; otherwise this process's own.
    private func writeUserFiles() throws {
        let (uid, gid) = isChrooted ? (uid_t(65534), gid_t(65534)) : (getuid(), getgid())
        // The password reaches openssl on stdin, never on a command line.
        let hash = try TestSSHServer.run("/usr/bin/openssl", ["passwd", "-6", "-stdin"], input: password + "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try writeScratchFile("passwd", "\(username):\(hash):\(uid):\(gid)::\(root):/bin/sh\n")
        try writeScratchFile("group", "\(username):x:\(gid):\n")
    }

    /// Adds a public key to the user's RFC 4716 authorized keys file (`ssh-keygen -e`).
    private func authorize(publicKeyPath: String) throws {
        let block = try TestSSHServer.run("/usr/bin/ssh-keygen", ["-e", "-f", publicKeyPath])
        let path = authorizedKeysDirectory + "/" + username
        if !FileManager.default.fileExists(atPath: path) && !FileManager.default.createFile(atPath: path, contents: nil)
        {
            throw TestSSHServerError("cannot create \(path)")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw TestSSHServerError("cannot open \(path)") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(block.utf8))
        chmod(path, 0o644)
    }

    // MARK: Server process

    private func start() throws {
        let config = workDirectory + "/proftpd.conf"
        var lastLog = ""
        for _ in 0..<5 {
            port = try TestSSHServer.freePort()
            try configuration().write(toFile: config, atomically: true, encoding: .utf8)
            let fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw TestSSHServerError("cannot open \(logPath)") }
            let pid: pid_t
            do {
                pid = try Subprocess.spawn(Self.executable, ["-n", "-c", config], stdout: fd, stderr: fd)
            } catch {
                close(fd)
                throw error
            }
            close(fd)
            listener = pid
            if waitUntilListening(pid) { return }
            lastLog = log
            kill(pid, SIGTERM)
            Subprocess.wait(pid)
            listener = nil
        }
        throw TestSSHServerError("proftpd did not start; its logs:\n\(lastLog)")
    }

    /// True once this proftpd logged its start-up (it binds before) and the port answers.
    private func waitUntilListening(_ pid: pid_t) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Subprocess.hasExited(pid) { return false }
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if text.contains("standalone mode STARTUP") && TestSSHServer.canConnect(host: host, port: port) {
                return true
            }
            usleep(10_000)
        }
        return false
    }

    /// The processes serving connections (proftpd forks one per connection).
    public func sessionProcessIDs() -> [pid_t] {
        guard let listener else { return [] }
        return TestSSHServer.descendants(of: listener)
    }

    /// Kills proftpd and its sessions and removes every file created. Idempotent.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        if stopped { return }
        stopped = true
        if let watchdog {
            kill(watchdog, SIGKILL)
            Subprocess.wait(watchdog)
            close(watchdogPipe)
            self.watchdog = nil
        }
        if let pid = listener {
            // Sessions first: proftpd reaps them, so nothing is left for init; then proftpd.
            for session in TestSSHServer.descendants(of: pid) { kill(session, SIGKILL) }
            let deadline = Date().addingTimeInterval(3)
            while !TestSSHServer.descendantTree(of: pid, includingZombies: true).isEmpty && Date() < deadline {
                usleep(5_000)
            }
            kill(pid, SIGTERM)
            let end = Date().addingTimeInterval(5)
            while !Subprocess.hasExited(pid) {
                if Date() > end {
                    kill(pid, SIGKILL)
                    Subprocess.wait(pid)
                    break
                }
                usleep(5_000)
            }
            listener = nil
        }
        try? FileManager.default.removeItem(atPath: workDirectory)
    }

    /// A shell that waits for this process to end, then kills proftpd (sessions first) and
    /// removes the work directory: `stop()` cannot run after a crash.
    private func startWatchdog() throws {
        let script = """
            read _ignored
            if [ -f "$1/proftpd.pid" ]; then
              pid=$(cat "$1/proftpd.pid")
              pkill -KILL -P "$pid" 2>/dev/null; sleep 0.2; kill -TERM "$pid" 2>/dev/null; sleep 0.3; kill -KILL "$pid" 2>/dev/null
            fi
            rm -rf "$1"
            exit 0
            """
        let pipe = try Subprocess.makePipe()
        defer { close(pipe.read) }
        watchdogPipe = pipe.write
        watchdog = try Subprocess.spawn(
            "/bin/sh", ["-c", script, "expcards-proftpd-watchdog", workDirectory], stdin: pipe.read)
    }
}
