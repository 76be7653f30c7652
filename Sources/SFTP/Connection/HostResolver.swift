import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One address `getaddrinfo` returned, copied out so the list can be freed at once.
struct ResolvedAddress: Sendable {
    var family: Int32
    var socketType: Int32
    var socketProtocol: Int32
    var bytes: [UInt8]
}

/// Name resolution within the timeout. `getaddrinfo` blocks for as long as the resolver
/// configuration says (several × 5 s): it runs on a worker thread, abandoned at the deadline.
enum HostResolver {
    static func resolve(host: String, port: Int, timeout: Double) throws -> [ResolvedAddress] {
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            outcome.set(lookup(host: host, port: port))
            done.signal()
        }
        guard done.wait(timeout: .now() + max(timeout, 0.001)) == .success, let result = outcome.get() else {
            throw SFTPError.timedOut(operation: "resolving \(host)", seconds: Int(timeout.rounded(.up)))
        }
        switch result {
        case .success(let addresses): return addresses
        case .failure(let reason): throw SFTPError.nameNotResolved(host: host, reason: reason)
        }
    }

    private enum Result: Sendable {
        case success([ResolvedAddress])
        case failure(String)
    }

    private final class Outcome: @unchecked Sendable {
        private var value: Result?
        private var lock = pthread_mutex_t()
        init() { pthread_mutex_init(&lock, nil) }
        deinit { pthread_mutex_destroy(&lock) }
        func set(_ result: Result) {
            pthread_mutex_lock(&lock)
            value = result
            pthread_mutex_unlock(&lock)
        }
        func get() -> Result? {
            pthread_mutex_lock(&lock)
            defer { pthread_mutex_unlock(&lock) }
            return value
        }
    }

    private static func lookup(host: String, port: Int) -> Result {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC  // IPv6 and IPv4, in the order the system prefers
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var head: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &head)
        guard rc == 0 else {
            return .failure(rc == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(head) }
        var addresses: [ResolvedAddress] = []
        var node = head
        while let current = node?.pointee {
            if let address = current.ai_addr {
                let bytes = Array(UnsafeRawBufferPointer(start: address, count: Int(current.ai_addrlen)))
                addresses.append(
                    ResolvedAddress(
                        family: current.ai_family, socketType: current.ai_socktype,
                        socketProtocol: current.ai_protocol, bytes: bytes))
            }
            node = current.ai_next
        }
        return addresses.isEmpty ? .failure("no address") : .success(addresses)
    }
}
