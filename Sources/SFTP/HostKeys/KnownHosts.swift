import CLibSSH2

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An OpenSSH known_hosts file loaded into libssh2 (plain and hashed entries, `[host]:port`).
final class KnownHosts {
    let path: String
    private let hosts: OpaquePointer
    /// The file line of each libssh2 entry (a line naming several hosts makes several entries).
    private var lines: [UnsafeMutablePointer<libssh2_knownhost>: Int] = [:]

    /// Reads the file line by line: libssh2's own `readfile` stops at the first line it cannot
    /// parse and silently drops the rest, so a bad line is reported here with its number.
    /// A missing file is an empty one (every host unknown), as for OpenSSH.
    init(session: OpaquePointer, path: String) throws {
        guard let hosts = libssh2_knownhost_init(session) else {
            throw LibSSH2Error.last(session, operation: "initialising known hosts")
        }
        self.path = path
        self.hosts = hosts
        guard let file = fopen(path, "r") else {
            let code = errno
            if code == ENOENT { return }
            throw SFTPError.knownHostsUnreadable(path: path, reason: String(cString: strerror(code)))
        }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        var number = 0
        var last: UnsafeMutablePointer<libssh2_knownhost>?
        while true {
            let length = getline(&line, &capacity, file)
            if length < 0 { break }
            number += 1
            guard let text = line else { continue }
            var bytes = length
            while bytes > 0, text[bytes - 1] == 0x0a || text[bytes - 1] == 0x0d { bytes -= 1 }
            let content = String(decoding: UnsafeRawBufferPointer(start: text, count: bytes), as: UTF8.self)
            let trimmed = content.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if trimmed.hasPrefix("@") {
                // libssh2 understands neither @cert-authority nor @revoked; ignoring a
                // revocation silently would be unsafe, so both are reported.
                throw SFTPError.knownHostsMalformed(
                    path: path, line: number,
                    reason: "markers such as \(trimmed.prefix { $0 != " " }) are not supported")
            }
            // Whole line, newline included, exactly as libssh2's own readfile passes it.
            if libssh2_knownhost_readline(hosts, text, length, LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0 {
                var message: UnsafeMutablePointer<CChar>?
                var messageLength: Int32 = 0
                libssh2_session_last_error(session, &message, &messageLength, 0)
                let reason = message.map { String(cString: $0) } ?? "unrecognised entry"
                throw SFTPError.knownHostsMalformed(path: path, line: number, reason: reason)
            }
            var entry: UnsafeMutablePointer<libssh2_knownhost>?
            while libssh2_knownhost_get(hosts, &entry, last) == 0, let added = entry {
                lines[added] = number
                last = added
            }
        }
    }

    // Also runs when init throws after storing `hosts`: the only place that frees it.
    deinit { libssh2_knownhost_free(hosts) }

    /// `line`: the file line of the entry that matched, or of the first that holds another key.
    enum Result: Equatable {
        case match(line: Int?)
        case mismatch(line: Int?)
        case notFound
    }

    func check(host: String, port: Int, key: HostKey) -> Result {
        let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | key.type.knownHostBits
        var entry: UnsafeMutablePointer<libssh2_knownhost>?
        let rc = key.blob.withUnsafeBufferPointer { blob in
            blob.withMemoryRebound(to: CChar.self) { chars in
                libssh2_knownhost_checkp(hosts, Self.name(host, port), -1, chars.baseAddress, chars.count, mask, &entry)
            }
        }
        let line = entry.flatMap { lines[$0] }
        switch rc {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH: return .match(line: line)
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH: return .mismatch(line: line)
        default: return .notFound
        }
    }

    /// Key types recorded for this host, found by checking a dummy key of each type: an entry
    /// of that type answers "mismatch". Works for hashed entries too, which cannot be listed.
    func recordedKeyTypes(host: String, port: Int) -> [HostKeyType] {
        let dummy: [CChar] = [0x00]
        return HostKeyType.all.filter { type in
            let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | type.knownHostBits
            return dummy.withUnsafeBufferPointer {
                libssh2_knownhost_checkp(hosts, Self.name(host, port), -1, $0.baseAddress, $0.count, mask, nil)
            } == LIBSSH2_KNOWNHOST_CHECK_MISMATCH
        }
    }

    /// The name an entry must carry, as OpenSSH looks it up: `host` for port 22, `[host]:port`
    /// otherwise. Passed whole with port -1: given a port, libssh2 would also accept a plain
    /// `host` entry for any port, which OpenSSH does not.
    static func name(_ host: String, _ port: Int) -> String { port == 22 ? host : "[\(host)]:\(port)" }
}
