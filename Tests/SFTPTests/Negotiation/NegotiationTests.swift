import Foundation
import SFTP
import SSHTestSupport
import Testing

/// Hardened and outdated OpenSSH servers: what connects, what is refused, and how a failed
/// handshake is explained. Run under both libssh2 generations (`make test LIBSSH2=1.11`).
@Suite("Algorithm negotiation against a real sshd")
struct NegotiationTests {
    /// The runtime libssh2 (not the headers the tests were built with).
    static let version = LibSSH2.version
    static let isOneEleven = LibSSH2.isAtLeast(1, 11)

    struct Hardened: Sendable, CustomTestStringConvertible {
        var name: String
        var hostKeys: [TestSSHServer.HostKeyType] = [.ed25519]
        var lines: [String]
        var category: AlgorithmCategory
        /// The server's algorithms the error must name.
        var offered: [String]
        /// What libssh2 1.11 negotiates in that category; nil when it cannot either.
        var withOneEleven: String?
        var testDescription: String { name }
    }

    static let hardened: [Hardened] = [
        .init(
            name: "AES-GCM or chacha20-poly1305 only",
            lines: ["Ciphers aes256-gcm@openssh.com,chacha20-poly1305@openssh.com"],
            category: .cipher, offered: ["aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"],
            withOneEleven: "chacha20-poly1305@openssh.com"),
        .init(
            name: "ETM MACs only",
            lines: [
                "Ciphers aes128-ctr,aes256-ctr", "MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com",
            ],
            category: .mac, offered: ["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com"],
            withOneEleven: "hmac-sha2-256-etm@openssh.com"),
        .init(
            name: "RSA host key signed with rsa-sha2-512 only", hostKeys: [.rsa],
            lines: ["HostKeyAlgorithms rsa-sha2-512"],
            category: .hostKey, offered: ["rsa-sha2-512"], withOneEleven: "rsa-sha2-512"),
        // libssh2 1.11.1 has no post-quantum key exchange either: explained under both.
        .init(
            name: "sntrup761x25519-sha512 kex only", lines: ["KexAlgorithms sntrup761x25519-sha512@openssh.com"],
            category: .kex, offered: ["sntrup761x25519-sha512@openssh.com"], withOneEleven: nil),
    ]

    @Test(
        "a hardened server: works with libssh2 1.11, else fails naming the category and the server's offer",
        arguments: hardened)
    func hardenedServer(_ h: Hardened) throws {
        let server = try makeServer(.init(hostKeyTypes: h.hostKeys, extraConfiguration: h.lines))
        defer { server.stop() }
        if Self.isOneEleven, let expected = h.withOneEleven {
            let client = try server.connect()
            defer { client.close() }
            #expect(client.negotiatedAlgorithms[h.category] == expected)
            #expect(
                try collect(client, server.remotePath("/ROOT/expired/ROOT_20260101.txt")) == Array("root file\n".utf8))
            return
        }
        let error = sftpError { _ = try server.connect() }
        guard case .noCommonAlgorithm(let host, let port, let mismatches, let version) = error else {
            Issue.record("expected noCommonAlgorithm, got \(String(describing: error))\n\(server.log)")
            return
        }
        #expect(host == server.host && port == server.port && version == Self.version)
        #expect(mismatches.map(\.category) == [h.category])
        #expect(mismatches.first?.serverOffers == h.offered)
        #expect(mismatches.first?.weakInCommon == [])
        #expect(error?.category == .protocolError)
        let text = error?.description ?? ""
        #expect(
            text.contains("no \(h.category == .cipher ? "cipher" : h.category.rawValue + " algorithm") in common"),
            "\(text)")
        #expect(text.contains("the server offers \(h.offered.joined(separator: ","))"), "\(text)")
        #expect(text.contains("this build (libssh2 \(Self.version)) offers "), "\(text)")
        if Self.isOneEleven {
            #expect(!text.contains("libssh2 1.11 would"), "\(text)")
        } else if h.withOneEleven != nil {
            #expect(
                text.contains("a build with libssh2 1.11 would agree on") && text.contains("make libssh2"), "\(text)")
        } else {
            #expect(text.contains("would not help"), "\(text)")
        }
    }

    @Test("a server with only weak algorithms is refused by default, and accepted when they are allowed")
    func weakOnly() throws {
        let server = try makeServer(
            .init(extraConfiguration: ["Ciphers aes128-cbc", "KexAlgorithms diffie-hellman-group14-sha1"]))
        defer { server.stop() }
        let error = sftpError { _ = try server.connect() }
        guard case .noCommonAlgorithm(_, _, let mismatches, _) = error else {
            Issue.record("expected noCommonAlgorithm, got \(String(describing: error))")
            return
        }
        #expect(mismatches.map(\.category) == [.kex, .cipher])
        #expect(mismatches.map(\.weakInCommon) == [["diffie-hellman-group14-sha1"], ["aes128-cbc"]])
        #expect(error?.onlyWeakAlgorithmsInCommon == true)
        #expect(error?.description.contains("in common only weak algorithms, refused by default: aes128-cbc") == true)

        var configuration = server.configuration()
        configuration.allowWeakAlgorithms = true
        let client = try SFTPClient(configuration: configuration, logger: testLogger)
        defer { client.close() }
        #expect(client.negotiatedAlgorithms[.cipher] == "aes128-cbc")
        #expect(client.negotiatedAlgorithms[.kex] == "diffie-hellman-group14-sha1")
        #expect(try client.list(server.remotePath("/ROOT/expired")).count == 2)
    }

    @Test(
        "an RSA key in known_hosts is proved with rsa-sha2 (libssh2 1.11), with ssh-rsa only when weak algorithms are allowed"
    )
    func recordedRSAKey() throws {
        let server = try makeServer(
            .init(hostKeyTypes: [.ed25519, .rsa], extraConfiguration: ["HostKeyAlgorithms +ssh-rsa"]))
        defer { server.stop() }
        let file = try server.writeScratchFile("rsa_known_hosts", try server.knownHostsEntries(types: [.rsa]))
        var configuration = server.configuration(hostKeyPolicy: .knownHosts(path: file))
        if Self.isOneEleven {
            let client = try SFTPClient(configuration: configuration, logger: testLogger)
            defer { client.close() }
            #expect(client.negotiatedAlgorithms[.hostKey] == "rsa-sha2-512")
            #expect(client.serverHostKey?.type == "ssh-rsa")
            #expect(client.serverHostKey?.fingerprint == (try server.fingerprint(.rsa)))
        } else {
            // ssh-rsa is not offered: the server proves its ed25519 key, which is not recorded.
            let error = sftpError { _ = try SFTPClient(configuration: configuration, logger: testLogger) }
            guard case .hostKeyUnknown(_, _, let keyType, _, _) = error else {
                Issue.record("expected hostKeyUnknown, got \(String(describing: error))")
                return
            }
            #expect(keyType == "ssh-ed25519")
        }
        configuration.allowWeakAlgorithms = true
        let weak = try SFTPClient(configuration: configuration, logger: testLogger)
        defer { weak.close() }
        #expect(weak.negotiatedAlgorithms[.hostKey] == (Self.isOneEleven ? "rsa-sha2-512" : "ssh-rsa"))
        #expect(weak.serverHostKey?.fingerprint == (try server.fingerprint(.rsa)))
    }

    @Test("an OpenSSH server with default settings negotiates modern algorithms")
    func defaults() throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try server.connect()
        defer { client.close() }
        #expect(client.negotiatedAlgorithms[.kex] == "curve25519-sha256")
        #expect(client.negotiatedAlgorithms[.hostKey] == "ssh-ed25519")
        #expect(
            client.negotiatedAlgorithms[.cipher] == (Self.isOneEleven ? "chacha20-poly1305@openssh.com" : "aes128-ctr"))
    }

    @Test("known_hosts follows OpenSSH's port rule: a plain host line is not accepted for another port")
    func knownHostsPort() throws {
        let server = try makeServer()
        defer { server.stop() }
        let key = try server.knownHostsEntries().split(separator: " ").dropFirst().joined(separator: " ")
        let plain = try server.writeScratchFile("plain_known_hosts", "127.0.0.1 \(key)")
        let error = sftpError { _ = try server.connect(hostKeyPolicy: .knownHosts(path: plain)) }
        if case .hostKeyUnknown = error {
        } else {
            Issue.record("plain line accepted for port \(server.port): \(String(describing: error))")
        }
        // Same key under the bracketed name with another port: not this server either.
        let otherPort = try server.writeScratchFile(
            "other_port_known_hosts", "[127.0.0.1]:\(server.port == 2 ? 3 : 2) \(key)")
        if case .hostKeyUnknown = sftpError({ _ = try server.connect(hostKeyPolicy: .knownHosts(path: otherPort)) }) {
        } else {
            Issue.record("an entry for another port was accepted")
        }
        let bracketed = try server.writeScratchFile(
            "bracketed_known_hosts", "127.0.0.1 \(key)[127.0.0.1]:\(server.port) \(key)")
        try server.connect(hostKeyPolicy: .knownHosts(path: bracketed)).close()
    }
}
