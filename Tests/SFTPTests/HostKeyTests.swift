import Foundation
import SFTP
import SSHTestSupport
import Testing

@Suite("Host key verification")
struct HostKeyTests {
    @Test("an unknown host is refused before authentication, with type, fingerprint and a keyscan hint")
    func unknownHost() throws {
        let server = try makeServer()
        defer { server.stop() }
        let empty = try server.writeScratchFile("empty_known_hosts", "# nothing yet\n")

        let error = sftpError { _ = try server.connect(hostKeyPolicy: .knownHosts(path: empty)) }
        let fingerprint = try server.fingerprint(.ed25519)
        #expect(
            error
                == .hostKeyUnknown(
                    host: "127.0.0.1", port: server.port, keyType: "ssh-ed25519", fingerprint: fingerprint,
                    knownHostsPath: empty))
        #expect(error?.category == .hostKey)
        let text = error?.description ?? ""
        #expect(text.contains(fingerprint))
        #expect(text.contains("ssh-keyscan -p \(server.port) -t ed25519 127.0.0.1 >> \(empty)"))
        // No credential was offered: sshd never saw an authentication attempt.
        #expect(!server.log.contains("authenticating user"))
        #expect(!server.log.contains("Accepted"))

        let missing = sftpError {
            _ = try server.connect(hostKeyPolicy: .knownHosts(path: server.workDirectory + "/absent"))
        }
        if case .hostKeyUnknown = missing {
        } else {
            Issue.record("expected hostKeyUnknown, got \(String(describing: missing))")
        }
    }

    @Test("a changed host key is a mismatch")
    func changedKey() throws {
        let server = try makeServer()
        defer { server.stop() }
        let other = try server.unrelatedPublicKey(.ed25519)
        let file = try server.writeScratchFile("changed_known_hosts", "[127.0.0.1]:\(server.port) \(other)\n")

        let error = sftpError { _ = try server.connect(hostKeyPolicy: .knownHosts(path: file)) }
        #expect(
            error
                == .hostKeyMismatch(
                    host: "127.0.0.1", port: server.port, keyType: "ssh-ed25519",
                    fingerprint: try server.fingerprint(.ed25519), expected: nil, knownHostsPath: file))
        #expect(error?.description.contains("HOST KEY MISMATCH") == true)
        #expect(!server.log.contains("authenticating user"))
    }

    @Test("hashed known_hosts entries are matched")
    func hashedEntries() throws {
        let server = try makeServer()
        defer { server.stop() }
        let hashed = try server.knownHostsEntries(hashed: true)
        #expect(hashed.hasPrefix("|1|"))
        let file = try server.writeScratchFile("hashed_known_hosts", hashed)
        let client = try server.connect(hostKeyPolicy: .knownHosts(path: file))
        client.close()
    }

    @Test(
        "the recorded key type is negotiated when the server has several",
        arguments: [
            [TestSSHServer.HostKeyType.ed25519], [.ecdsa],
        ])
    func recordedTypePreferred(recorded: [TestSSHServer.HostKeyType]) throws {
        let server = try makeServer(.init(hostKeyTypes: [.ed25519, .ecdsa]))
        defer { server.stop() }
        for hashed in [false, true] {
            let file = try server.writeScratchFile(
                "known_hosts_\(hashed)", try server.knownHostsEntries(types: recorded, hashed: hashed))
            let client = try server.connect(hostKeyPolicy: .knownHosts(path: file))
            #expect(client.serverHostKey?.type == recorded[0].algorithm)
            #expect(client.serverHostKey?.fingerprint == (try server.fingerprint(recorded[0])))
            client.close()
        }
    }

    @Test("a pinned fingerprint is accepted in any spelling and a wrong one refused")
    func pinned() throws {
        let server = try makeServer()
        defer { server.stop() }
        let fingerprint = try server.fingerprint(.ed25519)
        for spelling in [fingerprint, String(fingerprint.dropFirst(7)), fingerprint + "="] {
            let client = try server.connect(hostKeyPolicy: .pinned(sha256: spelling))
            client.close()
        }
        let wrong = "SHA256:" + String(repeating: "A", count: 43)
        let error = sftpError { _ = try server.connect(hostKeyPolicy: .pinned(sha256: wrong)) }
        #expect(
            error
                == .hostKeyMismatch(
                    host: "127.0.0.1", port: server.port, keyType: "ssh-ed25519", fingerprint: fingerprint,
                    expected: wrong, knownHostsPath: nil))
    }

    @Test("insecure mode connects without any record")
    func insecure() throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try server.connect(hostKeyPolicy: .insecureAcceptAny)
        #expect(client.serverHostKey?.fingerprint == (try server.fingerprint(.ed25519)))
        client.close()
    }

    @Test("a malformed known_hosts line is reported with its number")
    func malformed() throws {
        let server = try makeServer()
        defer { server.stop() }
        let good = try server.knownHostsEntries()
        let file = try server.writeScratchFile("bad_known_hosts", "# comment\n\nbogus-line-without-key\n" + good)
        let error = sftpError { _ = try server.connect(hostKeyPolicy: .knownHosts(path: file)) }
        guard case .knownHostsMalformed(let path, let line, _) = error else {
            Issue.record("expected knownHostsMalformed, got \(String(describing: error))")
            return
        }
        #expect(path == file && line == 3)

        let marker = try server.writeScratchFile(
            "revoked_known_hosts", "@revoked * \(try server.unrelatedPublicKey(.ed25519))\n" + good)
        if case .knownHostsMalformed(_, 1, _) = sftpError({
            _ = try server.connect(hostKeyPolicy: .knownHosts(path: marker))
        }) {
        } else {
            Issue.record("expected knownHostsMalformed at line 1 for @revoked")
        }
    }

    @Test("an unreadable known_hosts file is reported")
    func unreadable() throws {
        let server = try makeServer()
        defer { server.stop() }
        // A directory cannot be read as a file, even by root.
        let error = sftpError { _ = try server.connect(hostKeyPolicy: .knownHosts(path: server.workDirectory)) }
        #expect(error?.category == .hostKey)
    }
}
