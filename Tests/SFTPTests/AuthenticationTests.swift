import Foundation
import SFTP
import SSHTestSupport
import Testing

@Suite("Authentication")
struct AuthenticationTests {
    @Test(
        "password authentication against a real account",
        .enabled(if: TestSSHServer.isRoot, "needs root to create a user with a known password"))
    func password() throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try server.connect(authentication: [.password(server.password!)])
        defer { client.close() }
        #expect(try client.list("shop1/expired").count == 1)
        #expect(server.log.contains("Accepted password for \(server.username)"))
    }

    @Test("public key authentication, with and without a passphrase")
    func publicKey() throws {
        let server = try makeServer()
        defer { server.stop() }
        let plain = try server.connect()
        plain.close()
        let key = try server.makeUserKey(passphrase: "correct horse")
        let protected = try server.connect(authentication: [
            .publicKey(privateKeyPath: key, publicKeyPath: key + ".pub", passphrase: "correct horse")
        ])
        protected.close()

        let error = sftpError {
            _ = try server.connect(authentication: [
                .publicKey(privateKeyPath: key, publicKeyPath: nil, passphrase: "bad-phrase-42")
            ])
        }
        guard case .authenticationFailed(_, _, let attempts) = error else {
            Issue.record("expected authenticationFailed, got \(String(describing: error))")
            return
        }
        #expect(attempts.joined().contains("passphrase"))
        #expect(error?.description.contains("bad-phrase-42") == false, "the passphrase must not appear in the error")
    }

    @Test(
        "a wrong password fails naming the offered methods, without revealing the password",
        .enabled(if: TestSSHServer.isRoot, "needs root"))
    func wrongPassword() throws {
        let server = try makeServer()
        defer { server.stop() }
        let secret = "not-the-password-\(TestSSHServer.randomToken(6))"
        let error = sftpError { _ = try server.connect(authentication: [.password(secret)]) }
        guard case .authenticationFailed(let user, let offered, _) = error else {
            Issue.record("expected authenticationFailed, got \(String(describing: error))")
            return
        }
        #expect(user == server.username)
        #expect(Set(offered) == ["publickey", "password"])
        #expect(error?.category == .authentication)
        #expect(error?.description.contains("publickey, password") == true)
        #expect(error?.description.contains(secret) == false)
    }

    @Test("methods are tried in order: a wrong password, then a key")
    func methodsInOrder() throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try server.connect(authentication: [
            .password("wrong"),
            .publicKey(privateKeyPath: server.userPrivateKeyPath, publicKeyPath: nil, passphrase: nil),
        ])
        client.close()
    }

    @Test(
        "keyboard-interactive answers the password when the server offers only that",
        .enabled(if: TestSSHServer.isRoot, "needs root (PAM and a user with a password)"))
    func keyboardInteractive() throws {
        let server = try makeServer(.init(authentication: .keyboardInteractiveAndPublicKey))
        defer { server.stop() }
        let client = try server.connect(authentication: [.password(server.password!)])
        defer { client.close() }
        #expect(try client.list("shop1/expired").count == 1)
        #expect(server.log.contains("Accepted keyboard-interactive"))

        let error = sftpError { _ = try server.connect(authentication: [.password("wrong")]) }
        guard case .authenticationFailed(_, let offered, _) = error else {
            Issue.record("expected authenticationFailed, got \(String(describing: error))")
            return
        }
        #expect(Set(offered) == ["publickey", "keyboard-interactive"])
    }

    @Test("ssh-agent identities are offered")
    func agent() throws {
        let server = try makeServer()
        defer { server.stop() }
        let socket = server.workDirectory + "/agent.sock"
        let agent = try Subprocess.spawn("/usr/bin/ssh-agent", ["-D", "-a", socket])
        defer {
            kill(agent, SIGTERM)
            Subprocess.wait(agent)
        }
        var waited = 0
        while access(socket, F_OK) != 0 && waited < 200 {
            usleep(10_000)
            waited += 1
        }
        try TestSSHServer.run(
            "/usr/bin/env", ["SSH_AUTH_SOCK=\(socket)", "/usr/bin/ssh-add", "-q", server.userPrivateKeyPath])

        var configuration = server.configuration(authentication: [.agent])
        configuration.agentSocketPath = socket
        let client = try SFTPClient(configuration: configuration, logger: testLogger)
        client.close()

        configuration.agentSocketPath = server.workDirectory + "/no-agent.sock"
        let error = sftpError { _ = try SFTPClient(configuration: configuration, logger: testLogger) }
        #expect(error?.category == .authentication)
        #expect(error?.description.contains("agent: cannot connect") == true)
    }

    @Test("an unauthorised key and a missing key file are authentication errors")
    func unusableKeys() throws {
        let server = try makeServer()
        defer { server.stop() }
        let stranger = try server.makeUserKey(authorize: false)
        let refused = sftpError {
            _ = try server.connect(authentication: [
                .publicKey(privateKeyPath: stranger, publicKeyPath: nil, passphrase: nil)
            ])
        }
        #expect(refused?.category == .authentication)

        let missing = server.workDirectory + "/no-such-key"
        let error = sftpError {
            _ = try server.connect(authentication: [
                .publicKey(privateKeyPath: missing, publicKeyPath: nil, passphrase: nil)
            ])
        }
        #expect(error == .keyFileUnusable(path: missing, reason: "No such file or directory"))
    }

    @Test(
        "an RSA key is refused with an explanation of libssh2 1.10's limit",
        .enabled(
            if: !LibSSH2.isAtLeast(1, 11), "libssh2 1.11 signs RSA keys with rsa-sha2: rsaKeyWithRSASHA2 tests that"))
    func rsaKey() throws {
        let server = try makeServer()
        defer { server.stop() }
        let rsa = try server.makeUserKey(type: "rsa")
        let error = sftpError {
            _ = try server.connect(authentication: [
                .publicKey(privateKeyPath: rsa, publicKeyPath: nil, passphrase: nil)
            ])
        }
        #expect(error?.category == .authentication)
        #expect(error?.description.contains("ed25519 or ecdsa") == true, "\(String(describing: error))")
    }

    @Test(
        "an RSA user key authenticates: libssh2 1.11 signs with rsa-sha2, which OpenSSH 9.2 requires",
        .enabled(
            if: LibSSH2.isAtLeast(1, 11),
            "needs libssh2 1.11 (make test LIBSSH2=1.11): 1.10 signs RSA keys only with ssh-rsa (SHA-1), which OpenSSH >= 8.8 refuses"
        ))
    func rsaKeyWithRSASHA2() throws {
        let server = try makeServer()
        defer { server.stop() }
        let rsa = try server.makeUserKey(type: "rsa")
        let client = try server.connect(authentication: [
            .publicKey(privateKeyPath: rsa, publicKeyPath: nil, passphrase: nil)
        ])
        defer { client.close() }
        #expect(try client.list("shop1/expired").count == 1)
        // The server accepted this RSA key, not another identity.
        let fingerprint = try TestSSHServer.run("/usr/bin/ssh-keygen", ["-l", "-E", "sha256", "-f", rsa + ".pub"])
            .split(separator: " ")[1]
        #expect(server.log.contains("Accepted publickey for \(server.username)"), "\(server.log)")
        #expect(server.log.contains("RSA \(fingerprint)"), "\(server.log)")
    }
}
