#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a server's algorithm offer on a separate, short TCP connection: the identification
/// lines and the KEXINIT packet travel in clear before any key exchange, so nothing secret is
/// sent or received. Used only to explain a failed handshake.
enum KexInitProbe {
    /// Connect, send our identification, read until the KEXINIT is complete, hang up; all
    /// within `timeout` seconds.
    static func read(host: String, port: Int, timeout: Int) throws -> ServerKexInit {
        let deadline = Monotonic.now() + Double(timeout)
        let fd = try TCPConnector.connect(host: host, port: port, timeout: timeout)
        defer { _ = posixClose(fd) }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)

        // OpenSSH sends its KEXINIT only once it has read the client's identification.
        let hello = Array("SSH-2.0-expcards_probe\r\n".utf8)
        var sent = 0
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let remaining = deadline - Monotonic.now()
            if remaining <= 0 {
                throw SFTPError.timedOut(operation: "reading the server's algorithm offer", seconds: timeout)
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN) | (sent < hello.count ? Int16(POLLOUT) : 0), revents: 0)
            let ready = poll(&pfd, 1, Int32((remaining * 1000).rounded(.up)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw SFTPError.connectionLost(detail: "\(errnoText()) while reading the server's algorithm offer")
            }
            if ready == 0 { continue }
            if sent < hello.count, pfd.revents & Int16(POLLOUT) != 0 {
                let n = hello[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n > 0 {
                    sent += n
                } else if n < 0, errno != EAGAIN, errno != EINTR {
                    throw SFTPError.connectionLost(detail: "\(errnoText()) while reading the server's algorithm offer")
                }
            }
            if pfd.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n == 0 {
                    throw SFTPError.connectionLost(
                        detail: "the server closed the connection before sending its algorithm offer")
                }
                if n < 0 {
                    if errno == EAGAIN || errno == EINTR { continue }
                    throw SFTPError.connectionLost(detail: "\(errnoText()) while reading the server's algorithm offer")
                }
                received += buffer[0..<n]
                do {
                    if let parsed = try ServerKexInit.parse(received) { return parsed.kexInit }
                } catch let error as ServerKexInit.Malformed {
                    throw SFTPError.ssh(
                        code: 0, message: error.description, operation: "reading the server's algorithm offer")
                }
            }
        }
    }
}
