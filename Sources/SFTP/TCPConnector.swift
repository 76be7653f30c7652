#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens the TCP connection libssh2 runs over: libssh2 does not connect sockets itself, and a
/// plain blocking `connect` can wait minutes. Every resolved address (IPv6 and IPv4) is tried
/// in turn, non-blocking with `poll`, all within one deadline.
enum TCPConnector {
    static func connect(host: String, port: Int, timeout: Int) throws -> Int32 {
        let deadline = Monotonic.now() + Double(timeout)
        let addresses = try resolve(host: host, port: port)
        defer { freeaddrinfo(addresses.head) }

        var lastError: SFTPError = .connectFailed(host: host, port: port, reason: "no usable address")
        for (index, info) in addresses.list.enumerated() {
            let remaining = deadline - Monotonic.now()
            if remaining <= 0 { break }
            // Leave time for the addresses after this one, but give the last one all that is left.
            let budget = remaining / Double(addresses.list.count - index)
            do {
                let fd = try attempt(info, within: budget, host: host, port: port, timeout: timeout)
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

    private struct AddressList {
        var head: UnsafeMutablePointer<addrinfo>?
        var list: [addrinfo]
    }

    private static func resolve(host: String, port: Int) throws -> AddressList {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var head: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &head)
        guard rc == 0 else {
            let reason = rc == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(rc))
            throw SFTPError.nameNotResolved(host: host, reason: reason)
        }
        var list: [addrinfo] = []
        var node = head
        while let current = node {
            list.append(current.pointee)
            node = current.pointee.ai_next
        }
        return AddressList(head: head, list: list)
    }

    private static func attempt(_ info: addrinfo, within seconds: Double, host: String, port: Int, timeout: Int) throws -> Int32 {
        let fd = socket(info.ai_family, info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.ai_protocol)
        guard fd >= 0 else {
            throw SFTPError.connectFailed(host: host, port: port, reason: "socket: " + errnoText())
        }
        var keep = false
        defer { if !keep { _ = posixClose(fd) } }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)

        if posixConnect(fd, info.ai_addr, info.ai_addrlen) != 0 {
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

    private static func connectError(_ code: Int32, host: String, port: Int) -> SFTPError {
        if code == ECONNREFUSED { return .connectionRefused(host: host, port: port) }
        return .connectFailed(host: host, port: port, reason: String(cString: strerror(code)))
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }

// The module's own `connect`/`close` names would shadow the C functions.
@inline(__always) func posixClose(_ fd: Int32) -> Int32 { close(fd) }
@inline(__always) func posixConnect(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>!, _ length: socklen_t) -> Int32 {
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
