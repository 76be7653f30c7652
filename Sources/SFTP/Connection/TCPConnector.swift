#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens the TCP connection libssh2 runs over: libssh2 does not connect sockets itself, and a
/// plain blocking `connect` can wait minutes. Every resolved address (IPv6 and IPv4) is tried
/// in turn, non-blocking with `poll`, all within one deadline (name resolution included).
enum TCPConnector {
    static func connect(host: String, port: Int, timeout: Int) throws -> Int32 {
        let deadline = Monotonic.now() + Double(timeout)
        let addresses = try HostResolver.resolve(host: host, port: port, timeout: Double(timeout))

        var lastError: SFTPError = .connectFailed(host: host, port: port, reason: "no usable address")
        for (index, address) in addresses.enumerated() {
            let remaining = deadline - Monotonic.now()
            if remaining <= 0 { break }
            // Leave time for the addresses after this one, but give the last one all that is left.
            let budget = remaining / Double(addresses.count - index)
            do {
                let fd = try attempt(address, within: budget, host: host, port: port, timeout: timeout)
                configure(fd, timeout: timeout)
                return fd
            } catch let error as SFTPError {
                lastError = error
            }
        }
        if Monotonic.now() >= deadline, case .connectFailed = lastError {
            throw SFTPError.timedOut(operation: "connecting to \(host) port \(port)", seconds: timeout)
        }
        throw lastError
    }

    private static func attempt(
        _ address: ResolvedAddress, within seconds: Double, host: String, port: Int, timeout: Int
    ) throws -> Int32 {
        let fd = socket(address.family, address.socketType | Int32(SOCK_CLOEXEC.rawValue), address.socketProtocol)
        guard fd >= 0 else {
            throw SFTPError.connectFailed(host: host, port: port, reason: "socket: " + errnoText())
        }
        var keep = false
        defer { if !keep { _ = posixClose(fd) } }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)

        let connected = address.bytes.withUnsafeBytes {
            posixConnect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
        }
        if connected != 0 {
            guard errno == EINPROGRESS else { throw connectError(errno, host: host, port: port) }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let deadline = Monotonic.now() + seconds
            while true {
                let ms = Int32(max(0, (deadline - Monotonic.now()) * 1000).rounded(.up))
                let ready = poll(&pfd, 1, ms)
                if ready > 0 { break }
                if ready == 0 {
                    throw SFTPError.connectFailed(host: host, port: port, reason: "no answer within the timeout")
                }
                if errno != EINTR { throw connectError(errno, host: host, port: port) }
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError != 0 { throw connectError(soError, host: host, port: port) }
        }
        // libssh2 runs in blocking mode: it waits with its own timeout, never spins on EAGAIN.
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        keep = true
        return fd
    }

    /// Dead links that send no reset still end: TCP keepalive probes while idle, and
    /// TCP_USER_TIMEOUT when sent data stays unacknowledged.
    private static func configure(_ fd: Int32, timeout: Int) {
        func set(_ level: Int32, _ name: Int32, _ value: Int32) {
            var value = value
            _ = setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
        let tcp = Int32(IPPROTO_TCP)
        set(tcp, TCP_NODELAY, 1)
        set(SOL_SOCKET, SO_KEEPALIVE, 1)
        #if os(Linux)
        let probeInterval = Int32(max(1, min(timeout, 60) / 3))
        set(tcp, TCP_KEEPIDLE, Int32(max(1, min(timeout, 60))))
        set(tcp, TCP_KEEPINTVL, probeInterval)
        set(tcp, TCP_KEEPCNT, 3)
        set(tcp, Int32(TCP_USER_TIMEOUT), Int32(clamping: timeout * 1000))
        #endif
    }

    /// The numeric address a connected socket reached (which of the resolved ones), for logs.
    static func peerAddress(_ fd: Int32) -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { address -> Int32 in
                guard getpeername(fd, address, &length) == 0 else { return -1 }
                return getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST)
            }
        }
        guard rc == 0 else { return nil }
        return host.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    private static func connectError(_ code: Int32, host: String, port: Int) -> SFTPError {
        if code == ECONNREFUSED { return .connectionRefused(host: host, port: port) }
        return .connectFailed(host: host, port: port, reason: String(cString: strerror(code)))
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }

// The module's own `connect`/`close` names would shadow the C functions.
@inline(__always) func posixClose(_ fd: Int32) -> Int32 { close(fd) }
@inline(__always) func posixConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    connect(fd, address, length)
}

enum Monotonic {
    /// Seconds on a clock that never jumps.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
