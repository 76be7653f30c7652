import Foundation
import SFTP
import SSHTestSupport
import Testing

@Suite("Network failures end in errors, never hangs")
struct NetworkFailureTests {
    @Test("server killed during a transfer: error well within the timeout")
    func killedMidTransfer() throws {
        let server = try makeServer()
        defer { server.stop() }
        try server.writeRandomFile("shop1/expired/BIG.bin", size: 64 << 20)
        let client = try server.connect(timeout: 3)
        defer { client.close() }

        var received = 0
        let start = Date()
        let error = sftpError {
            try client.download("shop1/expired/BIG.bin") { chunk in
                if received == 0 { #expect(server.killSessions() > 0) }
                received += chunk.count
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(error?.category == .network, "got \(String(describing: error))")
        #expect(received < 64 << 20)
        #expect(elapsed < 4)
        // The client is unusable, and says so quickly.
        #expect(sftpError { _ = try client.list("shop1/expired") }?.category == .network)
        let closing = Date()
        client.close()
        #expect(Date().timeIntervalSince(closing) < 1)
    }

    @Test("server stalled during a transfer: timed out after about the timeout")
    func stalledMidTransfer() throws {
        let server = try makeServer()
        defer { server.stop() }
        try server.writeRandomFile("shop1/expired/BIG.bin", size: 64 << 20)
        let client = try server.connect(timeout: 2)
        defer { client.close() }

        var received = 0
        let start = Date()
        let error = sftpError {
            try client.download("shop1/expired/BIG.bin") { chunk in
                if received == 0 { #expect(server.stallSessions() > 0) }
                received += chunk.count
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        guard case .timedOut = error else {
            Issue.record("expected timedOut, got \(String(describing: error))")
            return
        }
        #expect(elapsed >= 1.5 && elapsed < 6, "took \(elapsed) s")
        let closing = Date()
        client.close()
        #expect(Date().timeIntervalSince(closing) < 1)
    }

    @Test("a server that accepts but never speaks: handshake times out")
    func silentServer() throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let configuration = SFTPConfiguration(
            host: "127.0.0.1", port: listener.port, user: "nobody", timeout: 1,
            hostKeyPolicy: .insecureAcceptAny, authentication: [.password("x")])
        let start = Date()
        let error = sftpError { _ = try SFTPClient(configuration: configuration, logger: testLogger) }
        guard case .timedOut = error else {
            Issue.record("expected timedOut, got \(String(describing: error))")
            return
        }
        #expect(Date().timeIntervalSince(start) < 3)
    }

    @Test("IPv6: connects to ::1")
    func ipv6() throws {
        let server = try makeServer(.init(listenOnIPv6: true))
        defer { server.stop() }
        let configuration = SFTPConfiguration(
            host: "::1", port: server.port, user: server.username,
            hostKeyPolicy: .pinned(sha256: try server.fingerprint(.ed25519)),
            authentication: [.publicKey(privateKeyPath: server.userPrivateKeyPath, publicKeyPath: nil, passphrase: nil)]
        )
        let client = try SFTPClient(configuration: configuration, logger: testLogger)
        defer { client.close() }
        #expect(try client.list("shop1/expired").count == 1)
    }

    @Test("connection refused and unresolvable names are network errors")
    func refusedAndUnresolved() throws {
        let port = try SilentListener().closedPort()
        let refused = sftpError {
            _ = try SFTPClient(
                configuration: SFTPConfiguration(
                    host: "127.0.0.1", port: port, user: "x", hostKeyPolicy: .insecureAcceptAny, authentication: []),
                logger: testLogger)
        }
        #expect(refused == .connectionRefused(host: "127.0.0.1", port: port))
        #expect(refused?.category == .network)

        let unresolved = sftpError {
            _ = try SFTPClient(
                configuration: SFTPConfiguration(
                    host: "no-such-host.invalid", user: "x", hostKeyPolicy: .insecureAcceptAny, authentication: []),
                logger: testLogger)
        }
        guard case .nameNotResolved(host: "no-such-host.invalid", _) = unresolved else {
            Issue.record("expected nameNotResolved, got \(String(describing: unresolved))")
            return
        }
    }
}

/// A TCP socket that listens on 127.0.0.1 and never accepts: the kernel completes the TCP
/// handshake, then nothing is ever said.
final class SilentListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0, listen(fd, 8) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard rc == 0 else { throw TestSSHServerError("cannot listen") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// The port, after closing: nothing listens there any more.
    func closedPort() -> Int {
        close()
        return port
    }

    func close() { _ = Glibc.close(fd) }
}
