import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real OpenSSH `sshd` (Debian's openssh-server) serving SFTP on 127.0.0.1 for tests, with
/// throwaway host keys, a throwaway user key and, when running as root, a throwaway system
/// user with a random password and a chroot.
///
/// Fill the fixture tree through `root` (or `write`): in the server, `/X` is `remotePath("/X")`
/// and a relative `shop/expired` resolves from `root`. Call `stop()` (in a `defer`) to kill
/// sshd and every session and to remove every file, directory and user it created.
public final class TestSSHServer: ServedTree, @unchecked Sendable {
    public enum HostKeyType: String, Sendable, CaseIterable {
        case ed25519
        case ecdsa
        case rsa

        /// The key type name used in known_hosts lines and by libssh2.
        public var algorithm: String {
            switch self {
            case .ed25519: "ssh-ed25519"
            case .ecdsa: "ecdsa-sha2-nistp256"
            case .rsa: "ssh-rsa"
            }
        }
    }

    public enum Authentication: Sendable {
        /// `password` (root only) and `publickey`.
        case passwordAndPublicKey
        /// Only `keyboard-interactive` through PAM (root only), plus `publickey`.
        case keyboardInteractiveAndPublicKey
    }

    public struct Options: Sendable {
        public var hostKeyTypes: [HostKeyType]
        public var authentication: Authentication
        /// Also listen on [::1] (same port), to test IPv6.
        public var listenOnIPv6: Bool
        /// internal-sftp logs each request (`-l DEBUG3`): `sftpRequests` counts them.
        public var logSFTPRequests: Bool
        /// Extra sshd_config lines, e.g. `Ciphers aes256-gcm@openssh.com` or `KexAlgorithms ...`
        /// (also `MACs`, `HostKeyAlgorithms`), to stand for a hardened or an outdated server.
        public var extraConfiguration: [String]
        public init(
            hostKeyTypes: [HostKeyType] = [.ed25519], authentication: Authentication = .passwordAndPublicKey,
            listenOnIPv6: Bool = false,
            logSFTPRequests: Bool = false, extraConfiguration: [String] = []
        ) {
            self.hostKeyTypes = hostKeyTypes
            self.authentication = authentication
            self.listenOnIPv6 = listenOnIPv6
            self.logSFTPRequests = logSFTPRequests
            self.extraConfiguration = extraConfiguration
        }
    }

    public let host = "127.0.0.1"
    public private(set) var port: Int = 0
    /// Local directory holding the served tree (the chroot when `isChrooted`).
    public let root: String
    /// The login name and, when the tests run as root, its password (nil otherwise).
    public let username: String
    public let password: String?
    public let userPrivateKeyPath: String
    public let userPublicKeyPath: String
    /// A known_hosts file with every host key of this server, plain `[127.0.0.1]:port` lines.
    public let knownHostsPath: String
    /// sshd's log (`-E`), useful when a test fails.
    public let logPath: String
    public let isChrooted: Bool
    public let options: Options

    /// Scratch directory for config, keys and extra files tests make (`writeScratchFile`).
    public let workDirectory: String
    /// The listening sshd.
    private var listener: pid_t?
    /// Cleans up if the test process dies without calling `stop()` (a crash, a kill).
    private var watchdog: pid_t?
    /// Write end of the watchdog's stdin: the kernel closes it when this process dies.
    private var watchdogPipe: Int32 = -1
    private var createdUser: String?
    private var stopped = false
    private let lock = NSLock()

    public static var isRoot: Bool { geteuid() == 0 }

    public init(options: Options = Options()) throws {
        self.options = options
        let fm = FileManager.default
        let token = Self.randomToken(8)
        isChrooted = Self.isRoot

        workDirectory = try Self.makeTemporaryDirectory(prefix: "expcards-sshd-")
        // The session user reads authorized_keys from here.
        chmod(workDirectory, 0o755)
        if isChrooted {
            // Every component of a chroot must be root-owned and not writable by others: not /tmp.
            let base = "/var/lib/expcards-test"
            try? fm.createDirectory(atPath: base, withIntermediateDirectories: true)
            chmod(base, 0o755)
            root = base + "/" + token
            try fm.createDirectory(atPath: root, withIntermediateDirectories: false)
            chmod(root, 0o755)
        } else {
            root = workDirectory + "/root"
            try fm.createDirectory(atPath: root, withIntermediateDirectories: false)
        }
        logPath = workDirectory + "/sshd.log"
        userPrivateKeyPath = workDirectory + "/user_ed25519"
        userPublicKeyPath = userPrivateKeyPath + ".pub"
        knownHostsPath = workDirectory + "/known_hosts"

        if Self.isRoot {
            username = "xsftp" + token
            password = Self.randomToken(20)
        } else {
            username = String(cString: getpwuid(geteuid()).pointee.pw_name)
            password = nil
        }

        do {
            try startWatchdog()
            if let password { try createUser(username, password: password) }
            try Self.run(
                "/usr/bin/ssh-keygen",
                ["-q", "-t", "ed25519", "-N", "", "-C", "expcards-test-user", "-f", userPrivateKeyPath])
            try fm.copyItem(atPath: userPublicKeyPath, toPath: workDirectory + "/authorized_keys")
            chmod(workDirectory + "/authorized_keys", 0o644)
            for type in options.hostKeyTypes {
                var arguments = ["-q", "-t", type.rawValue, "-N", "", "-C", "", "-f", hostKeyPath(type)]
                if type == .ecdsa { arguments += ["-b", "256"] }
                if type == .rsa { arguments += ["-b", "2048"] }
                try Self.run("/usr/bin/ssh-keygen", arguments)
            }
            if options.logSFTPRequests && isChrooted { try startSyslog() }
            try start()
            try knownHostsEntries().write(toFile: knownHostsPath, atomically: true, encoding: .utf8)
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// sshd's log so far, to attach to a failing test.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Where the logs are now, to count what happens after (`sftpRequests(since:)`).
    public var logMark: (sshd: Int, sftp: Int) {
        syslogLock.lock()
        defer { syslogLock.unlock() }
        return (log.utf8.count, syslogLines.count)
    }

    /// With `Options.logSFTPRequests` (chrooted servers only: internal-sftp logs to the chroot's
    /// `/dev/log`): SSH logins, SFTP requests by type (`open`, `opendir`, `readdir`, `read`,
    /// `close`, `fstat`, ...) and the files opened, since `mark`.
    public func sftpRequests(
        since mark: (sshd: Int, sftp: Int) = (0, 0)
    ) -> (logins: Int, requests: [String: Int], opened: [String]) {
        let sshdLog = Array(log.utf8)
        let sshdText = sshdLog.count > mark.sshd ? String(decoding: sshdLog[mark.sshd...], as: UTF8.self) : ""
        let logins = ["Accepted publickey for ", "Accepted password for ", "Accepted keyboard-interactive"].map {
            sshdText.components(separatedBy: $0).count - 1
        }.reduce(0, +)
        syslogLock.lock()
        let lines = syslogLines.count > mark.sftp ? Array(syslogLines[mark.sftp...]) : []
        syslogLock.unlock()
        var requests: [String: Int] = [:]
        var seen: Set<String> = []
        var opened: [String] = []
        for line in lines {
            // `internal-sftp[PID]: debug3: request 7: close handle 0`: one request per PID and id.
            let pid = line.range(of: "internal-sftp[").map { line[$0.upperBound...].prefix { $0 != "]" } } ?? ""
            if let r = line.range(of: "request ") {
                let rest = line[r.upperBound...]
                guard let colon = rest.firstIndex(of: ":") else { continue }
                let id = rest[..<colon]
                let words = rest[rest.index(after: colon)...].split(separator: " ")
                guard let type = words.first, type != "sent", seen.insert("\(pid)/\(id)").inserted else { continue }
                requests[String(type), default: 0] += 1
            } else if let r = line.range(of: ": open \"") {
                opened.append(String(line[r.upperBound...].prefix { $0 != "\"" }))
            }
        }
        return (logins, requests, opened)
    }

    private var syslogLines: [String] = []
    private let syslogLock = NSLock()
    private var syslogStop = false

    /// A syslog socket at the chroot's `/dev/log`, where internal-sftp sends its log.
    private func startSyslog() throws {
        mkdir(root + "/dev", 0o755)
        let path = root + "/dev/log"
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestSSHServerError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw TestSSHServerError("path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            close(fd)
            throw TestSSHServerError("bind \(path): \(String(cString: strerror(errno)))")
        }
        chmod(path, 0o666)
        var wait = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                syslogLock.lock()
                if n > 0 { syslogLines.append(String(decoding: buffer[0..<n], as: UTF8.self)) }
                let stop = syslogStop
                syslogLock.unlock()
                if stop { break }
            }
            close(fd)
        }.start()
    }

    // MARK: Fixture tree

    /// Creates a user key in the scratch directory (optionally with a passphrase) and returns
    /// its private key path; `authorize` decides whether the server accepts it.
    public func makeUserKey(type: String = "ed25519", passphrase: String = "", authorize: Bool = true) throws -> String
    {
        let path = workDirectory + "/user-\(type)-" + Self.randomToken(6)
        var arguments = ["-q", "-t", type, "-N", passphrase, "-C", "", "-f", path]
        if type == "rsa" { arguments += ["-b", "2048"] }
        try Self.run("/usr/bin/ssh-keygen", arguments)
        if authorize {
            let line = try String(contentsOfFile: path + ".pub", encoding: .utf8)
            guard let handle = FileHandle(forWritingAtPath: workDirectory + "/authorized_keys") else {
                throw TestSSHServerError("cannot open authorized_keys")
            }
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(line.utf8))
        }
        return path
    }

    // MARK: Host keys

    /// known_hosts lines for this server's host keys: plain `[127.0.0.1]:port`, or hashed.
    public func knownHostsEntries(types: [HostKeyType]? = nil, hashed: Bool = false) throws -> String {
        let hostField = "[\(host)]:\(port)"
        var text = ""
        for type in types ?? options.hostKeyTypes {
            let publicKey = try String(contentsOfFile: hostKeyPath(type) + ".pub", encoding: .utf8)
            let parts = publicKey.split(separator: " ")
            text += "\(hostField) \(parts[0]) \(parts[1])\n"
        }
        guard hashed else { return text }
        let file = try writeScratchFile("hash-\(Self.randomToken(6))", text)
        defer {
            unlink(file)
            unlink(file + ".old")
        }
        try Self.run("/usr/bin/ssh-keygen", ["-q", "-H", "-f", file])
        return try String(contentsOfFile: file, encoding: .utf8)
    }

    /// The OpenSSH `SHA256:...` fingerprint of one of this server's host keys.
    public func fingerprint(_ type: HostKeyType) throws -> String {
        let output = try Self.run("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", hostKeyPath(type) + ".pub"])
        return String(output.split(separator: " ")[1])
    }

    /// A fresh public key line body ("ssh-ed25519 AAAA...") that belongs to no server:
    /// put it in known_hosts to simulate a changed host key.
    public func unrelatedPublicKey(_ type: HostKeyType) throws -> String {
        let path = workDirectory + "/unrelated-" + Self.randomToken(6)
        var arguments = ["-q", "-t", type.rawValue, "-N", "", "-C", "", "-f", path]
        if type == .ecdsa { arguments += ["-b", "256"] }
        try Self.run("/usr/bin/ssh-keygen", arguments)
        defer {
            unlink(path)
            unlink(path + ".pub")
        }
        let parts = try String(contentsOfFile: path + ".pub", encoding: .utf8).split(separator: " ")
        return "\(parts[0]) \(parts[1])"
    }

    private func hostKeyPath(_ type: HostKeyType) -> String { workDirectory + "/ssh_host_\(type.rawValue)_key" }

    // MARK: Server processes

    private func start() throws {
        let config = workDirectory + "/sshd_config"
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        var lastLog = ""
        for _ in 0..<5 {
            port = try Self.freePort()
            try configuration().write(toFile: config, atomically: true, encoding: .utf8)
            let pid = try Subprocess.spawn("/usr/sbin/sshd", ["-D", "-f", config, "-E", logPath])
            listener = pid
            if waitUntilListening(pid) { return }
            lastLog = log
            kill(pid, SIGTERM)
            Subprocess.wait(pid)
            listener = nil
            unlink(logPath)
        }
        throw TestSSHServerError("sshd did not start; its log:\n\(lastLog)")
    }

    private func configuration() -> String {
        var lines = [
            "ListenAddress \(host):\(port)",
            options.listenOnIPv6 ? "ListenAddress [::1]:\(port)" : "",
            "PidFile \(workDirectory)/sshd.pid",
            "AuthorizedKeysFile \(workDirectory)/authorized_keys",
            "StrictModes no",
            "PubkeyAuthentication yes",
            "PermitRootLogin prohibit-password",
            "MaxStartups 100",
            "MaxSessions 50",
            "LogLevel VERBOSE",
            "Subsystem sftp internal-sftp",
        ]
        lines += options.hostKeyTypes.map { "HostKey \(hostKeyPath($0))" }
        lines += options.extraConfiguration
        switch options.authentication {
        case .passwordAndPublicKey:
            lines += [
                "UsePAM no", "PasswordAuthentication \(password == nil ? "no" : "yes")",
                "KbdInteractiveAuthentication no",
            ]
        case .keyboardInteractiveAndPublicKey:
            lines += ["UsePAM yes", "PasswordAuthentication no", "KbdInteractiveAuthentication yes"]
        }
        let sftpLog = options.logSFTPRequests ? "-l DEBUG3 " : ""
        if isChrooted {
            lines += ["ChrootDirectory \(root)", "ForceCommand internal-sftp \(sftpLog)-d /"]
        } else {
            lines += ["ForceCommand internal-sftp \(sftpLog)-d \(root)"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// True once this sshd logged that it listens. (A successful connect is not proof: when two
    /// servers drew the same free port, the loser exits and the port answers for the winner.)
    private func waitUntilListening(_ pid: pid_t) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        let ready = "Server listening on \(host) port \(port)."
        while Date() < deadline {
            if Subprocess.hasExited(pid) { return false }
            if log.contains(ready) && Self.canConnect(host: host, port: port) { return true }
            usleep(10_000)
        }
        return false
    }

    /// The processes serving connections (sshd forks per connection and per privilege level).
    public func sessionProcessIDs() -> [pid_t] {
        guard let listener else { return [] }
        return Self.descendants(of: listener)
    }

    /// Kills every connection's processes (the listener keeps accepting), as if the server
    /// crashed mid-transfer. Returns how many processes got the signal.
    @discardableResult
    public func killSessions(signal: Int32 = SIGKILL) -> Int {
        let pids = sessionProcessIDs()
        for pid in pids { kill(pid, signal) }
        return pids.count
    }

    /// Freezes every connection (SIGSTOP): the server stalls without closing anything.
    @discardableResult
    public func stallSessions() -> Int { killSessions(signal: SIGSTOP) }

    /// Kills sshd and its sessions, deletes the throwaway user and every file created. Idempotent.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        if stopped { return }
        stopped = true
        syslogLock.lock()
        syslogStop = true
        syslogLock.unlock()
        if let watchdog {
            kill(watchdog, SIGKILL)
            Subprocess.wait(watchdog)
            close(watchdogPipe)
            self.watchdog = nil
        }
        if let pid = listener {
            // Sessions first, leaves only: each parent then reaps its child and exits by itself,
            // so nothing is left for init to reap. Then whatever remains, then the listener.
            let tree = Self.descendantTree(of: pid)
            for (session, _) in tree { kill(session, SIGCONT) }
            let parents = Set(tree.map(\.parent))
            for (session, _) in tree where !parents.contains(session) { kill(session, SIGKILL) }
            let deadline = Date().addingTimeInterval(3)
            // Zombies count: the listener must reap them before it goes, or init inherits them.
            while !Self.descendantTree(of: pid, includingZombies: true).isEmpty && Date() < deadline { usleep(5_000) }
            for session in Self.descendants(of: pid) { kill(session, SIGKILL) }
            kill(pid, SIGTERM)
            Subprocess.wait(pid)
            listener = nil
        }
        if let user = createdUser {
            Self.userLock.lock()
            for _ in 0..<50 {
                if (try? Self.run("/usr/sbin/userdel", ["-f", user])) != nil { break }
                usleep(100_000)
            }
            Self.userLock.unlock()
            createdUser = nil
        }
        let fm = FileManager.default
        // The chroot tree may hold files made unreadable by tests: make them removable.
        _ = try? Self.run("/bin/chmod", ["-R", "u+rwX", root])
        try? fm.removeItem(atPath: root)
        if isChrooted { rmdir("/var/lib/expcards-test") }  // only when empty
        try? fm.removeItem(atPath: workDirectory)
    }

    /// A shell that waits for this process to end, then kills sshd and removes the user and
    /// the directories: `stop()` cannot run after a crash, and tests must leave nothing behind.
    private func startWatchdog() throws {
        let script = """
            read _ignored
            [ -f "$3/sshd.pid" ] && kill -TERM "$(cat "$3/sshd.pid")" 2>/dev/null && sleep 0.3
            if [ -n "$1" ]; then
              # Sessions of the throwaway user, stalled ones included (its name is unique).
              pkill -CONT -f "sshd: $1" 2>/dev/null; pkill -KILL -u "$1" 2>/dev/null; sleep 0.3
              /usr/sbin/userdel -f "$1" 2>/dev/null
            fi
            chmod -R u+rwX "$2" 2>/dev/null; rm -rf "$2" "$3"
            rmdir /var/lib/expcards-test 2>/dev/null
            exit 0
            """
        let pipe = try Subprocess.makePipe()
        defer { close(pipe.read) }
        watchdogPipe = pipe.write
        watchdog = try Subprocess.spawn(
            "/bin/sh", ["-c", script, "expcards-sshd-watchdog", password == nil ? "" : username, root, workDirectory],
            stdin: pipe.read)
    }

    // MARK: Users

    private static let userLock = NSLock()

    private func createUser(_ name: String, password: String) throws {
        Self.userLock.lock()
        defer { Self.userLock.unlock() }
        // useradd fails while another process holds /etc/passwd's lock: retry a little.
        var lastError: Error?
        for _ in 0..<50 {
            do {
                try Self.run("/usr/sbin/useradd", ["-M", "-N", "-d", "/nonexistent", "-s", "/bin/sh", name])
                createdUser = name
                try Self.run("/usr/sbin/chpasswd", [], input: "\(name):\(password)\n")
                return
            } catch {
                lastError = error
                if createdUser != nil { break }
                usleep(100_000)
            }
        }
        throw lastError ?? TestSSHServerError("cannot create user \(name)")
    }

    // MARK: Utilities (also handy to tests)

    /// Runs a program, returns its standard output; throws with its error output on failure.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], input: String? = nil) throws -> String {
        try Subprocess.run(executable, arguments, input: input)
    }

    /// SHA-256 of a local file, as lowercase hex (via coreutils' sha256sum).
    public static func sha256(ofFile path: String) throws -> String {
        String(try run("/usr/bin/sha256sum", ["-b", path]).prefix(64))
    }

    public static func randomToken(_ length: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { _ in alphabet.randomElement()! })
    }

    public static func makeTemporaryDirectory(prefix: String) throws -> String {
        var template = Array((NSTemporaryDirectory() + "/" + prefix + "XXXXXX").utf8CString)
        guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestSSHServerError("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        return String(cString: result)
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestSSHServerError("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw TestSSHServerError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(host: String, port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Every process below `pid`, from /proc (zombies excluded: they are only waiting to be reaped).
    static func descendants(of pid: pid_t) -> [pid_t] {
        descendantTree(of: pid).map(\.pid)
    }

    static func descendantTree(of pid: pid_t, includingZombies: Bool = false) -> [(pid: pid_t, parent: pid_t)] {
        var children: [pid_t: [pid_t]] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let child = pid_t(entry), let parent = parentPID(of: child) else { continue }
            children[parent, default: []].append(child)
        }
        var result: [(pid: pid_t, parent: pid_t)] = []
        var queue = (children[pid] ?? []).map { ($0, pid) }
        while let (next, parent) = queue.popLast() {
            if includingZombies || !isZombie(next) { result.append((next, parent)) }
            queue += (children[next] ?? []).map { ($0, next) }
        }
        return result
    }

    private static func statFields(of pid: pid_t) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    private static func parentPID(of pid: pid_t) -> pid_t? {
        guard let fields = statFields(of: pid), fields.count > 1 else { return nil }
        return pid_t(fields[1])
    }

    private static func isZombie(_ pid: pid_t) -> Bool {
        statFields(of: pid)?.first == "Z"
    }
}

public struct TestSSHServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
