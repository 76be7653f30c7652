import Foundation
import Logging
import SFTP
import SSHTestSupport

/// A server with the EXP_CARDS-like tree the tests list and download:
/// `/ROOT/expired`, `shop1/expired`, `shop2/expired` and a symlink.
func makeServer(_ options: TestSSHServer.Options = .init()) throws -> TestSSHServer {
    let server = try TestSSHServer(options: options)
    do {
        try server.write("/ROOT/expired/ROOT_20260101.txt", "root file\n")
        try server.write("/ROOT/expired/ROOT_20260102.txt", String(repeating: "x", count: 100_000))
        try server.write("shop1/expired/SHOP1_20260101.txt", "shop one\n")
        try server.write("shop2/expired/SHOP2_20260101.txt", "shop two\n")
        try server.write("shop2/expired/empty.txt", "")
        symlink("SHOP2_20260101.txt", server.localPath("shop2/expired/latest"))
        try FileManager.default.createDirectory(
            atPath: server.localPath("shop2/expired/archive"), withIntermediateDirectories: true)
    } catch {
        server.stop()
        throw error
    }
    return server
}

extension TestSSHServer {
    /// A configuration trusting this server through its known_hosts file, key authentication.
    func configuration(
        authentication: [SFTPConfiguration.Authentication]? = nil,
        hostKeyPolicy: SFTPConfiguration.HostKeyPolicy? = nil,
        timeout: Int = 10
    ) -> SFTPConfiguration {
        SFTPConfiguration(
            host: host, port: port, user: username, timeout: timeout,
            hostKeyPolicy: hostKeyPolicy ?? .knownHosts(path: knownHostsPath),
            authentication: authentication
                ?? [.publicKey(privateKeyPath: userPrivateKeyPath, publicKeyPath: nil, passphrase: nil)])
    }

    func connect(
        authentication: [SFTPConfiguration.Authentication]? = nil,
        hostKeyPolicy: SFTPConfiguration.HostKeyPolicy? = nil,
        timeout: Int = 10
    ) throws -> SFTPClient {
        do {
            return try SFTPClient(
                configuration: configuration(
                    authentication: authentication, hostKeyPolicy: hostKeyPolicy, timeout: timeout),
                logger: testLogger)
        } catch {
            if testLogger.logLevel == .debug { print("sshd log:\n\(log)") }
            throw error
        }
    }
}

let testLogger: Logger = {
    var logger = Logger(label: "SFTPTests")
    logger.logLevel = ProcessInfo.processInfo.environment["SFTP_TEST_DEBUG"] == nil ? .warning : .debug
    return logger
}()

/// Runs `body` and returns the `SFTPError` it throws (nil when it throws nothing or another error).
func sftpError(_ body: () throws -> Void) -> SFTPError? {
    do {
        try body()
        return nil
    } catch let error as SFTPError {
        return error
    } catch {
        return nil
    }
}

/// Downloads into a local file; returns the byte count.
@discardableResult
func download(
    _ client: SFTPClient, _ remote: String, to local: String, from offset: UInt64 = 0, append: Bool = false
) throws -> UInt64 {
    let fd = open(local, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o644)
    guard fd >= 0 else { throw TestSSHServerError("cannot open \(local)") }
    defer { close(fd) }
    return try client.download(remote, from: offset) { chunk in
        var written = 0
        while written < chunk.count {
            let n = write(fd, chunk.baseAddress! + written, chunk.count - written)
            guard n > 0 else { throw TestSSHServerError("write failed") }
            written += n
        }
    }
}

func collect(_ client: SFTPClient, _ remote: String, from offset: UInt64 = 0) throws -> [UInt8] {
    var bytes: [UInt8] = []
    try client.download(remote, from: offset) { bytes.append(contentsOf: $0) }
    return bytes
}
