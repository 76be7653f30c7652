import Foundation
import SSHTestSupport
import Testing

/// What ops see: the handshake error, the weak-algorithm option and its warning, `-v`.
@Suite(.serialized) struct NegotiationCLITests {
    typealias Fixture = FetchTests.Fixture

    @Test func hardenedServerFailsOnceWithTheExplanation() throws {
        // Under libssh2 1.11.1 too: it has no post-quantum key exchange.
        let f = try Fixture(
            serverOptions: .init(extraConfiguration: ["KexAlgorithms sntrup761x25519-sha512@openssh.com"]))
        let result = try f.expcards(["list"])
        #expect(result.status == 69, "\(result)")
        #expect(result.stderr.contains("no key exchange algorithm in common"), "\(result)")
        #expect(result.stderr.contains("the server offers sntrup761x25519-sha512@openssh.com"), "\(result)")
        #expect(!result.stderr.contains("retry"), "a failed negotiation is not retried: \(result)")
        #expect(!result.stderr.contains("Unable to exchange encryption keys"), "\(result)")
    }

    /// libssh2 1.11 proves an RSA host key with rsa-sha2-512; 1.10 cannot, and says what would.
    @Test func rsaSHA2OnlyServer() throws {
        let f = try Fixture(
            serverOptions: .init(hostKeyTypes: [.rsa], extraConfiguration: ["HostKeyAlgorithms rsa-sha2-512"]))
        let result = try f.expcards(["list", "-v"])
        // The binary's own libssh2, as -v says (a build with LIBSSH2=1.11 has 1.11.x).
        if result.stderr.contains(", libssh2 1.11.") {
            #expect(result.status == 0, "\(result)")
            #expect(
                result.stderr.contains("negotiated: key exchange curve25519-sha256, host key rsa-sha2-512, "),
                "\(result)")
            #expect(result.stderr.contains("server host key: ssh-rsa \(try f.server.fingerprint(.rsa))"), "\(result)")
        } else {
            #expect(result.status == 69, "\(result)")
            #expect(result.stderr.contains("no host key algorithm in common"), "\(result)")
            #expect(result.stderr.contains("host key: the server offers rsa-sha2-512;"), "\(result)")
            #expect(result.stderr.contains("a build with libssh2 1.11 would agree on rsa-sha2-512"), "\(result)")
        }
    }

    @Test func weakOnlyServerRefusedByDefaultAcceptedWithTheOptionWhichWarnsUnderQuiet() throws {
        let f = try Fixture(
            serverOptions: .init(extraConfiguration: [
                "Ciphers aes128-cbc", "KexAlgorithms diffie-hellman-group14-sha1",
            ]))
        let refused = try f.expcards(["list"])
        #expect(refused.status == 69, "\(refused)")
        #expect(refused.stderr.contains("no key exchange algorithm, no cipher in common"), "\(refused)")
        #expect(refused.stderr.contains("refused by default: aes128-cbc"), "\(refused)")
        #expect(refused.stderr.contains("--insecure-allow-weak-algorithms"), "\(refused)")

        let flag = try f.expcards(["fetch", "-q", "--insecure-allow-weak-algorithms"])
        #expect(flag.status == 0, "\(flag)")
        #expect(
            flag.stderr.contains("warning: weak SSH algorithms allowed (flag --insecure-allow-weak-algorithms)"),
            "\(flag)")

        let env = try CLI.run(
            ["list", "-q", "--config", f.config], environment: ["EXPCARDS_INSECURE_ALLOW_WEAK_ALGORITHMS": "true"])
        #expect(env.status == 0, "\(env)")
        #expect(
            env.stderr.contains(
                "warning: weak SSH algorithms allowed (environment EXPCARDS_INSECURE_ALLOW_WEAK_ALGORITHMS)"), "\(env)")

        try f.writeConfig(extra: "insecureAllowWeakAlgorithms: true\n")
        let file = try f.expcards(["list", "-q"])
        #expect(file.status == 0, "\(file)")
        #expect(file.stderr.contains("warning: weak SSH algorithms allowed (file "), "\(file)")
    }

    @Test func insecureHostKeyModeWarnsEvenUnderQuiet() throws {
        let f = try Fixture()
        for command in ["list", "fetch"] {
            let result = try f.expcards([command, "-q", "--insecure-accept-any-host-key"])
            #expect(result.status == 0, "\(result)")
            #expect(
                result.stderr.contains("warning: --insecure-accept-any-host-key: the server's identity is NOT checked"),
                "\(command): \(result)")
        }
    }

    @Test func plainKnownHostsLineIsNotAcceptedForAnotherPort() throws {
        let f = try Fixture()
        let bracketed = try f.server.knownHostsEntries()
        let plain = f.dir + "/plain_known_hosts"
        try bracketed.replacingOccurrences(of: "[127.0.0.1]:\(f.server.port) ", with: "127.0.0.1 ").write(
            toFile: plain, atomically: true, encoding: .utf8)
        let result = try f.expcards(["list", "--known-hosts", plain])
        #expect(result.status == 76, "\(result)")
        #expect(result.stderr.contains("host key of [127.0.0.1]:\(f.server.port) is not known"), "\(result)")
    }

    @Test func verboseTellsTheStory() throws {
        let f = try Fixture()
        let result = try f.expcards(["list", "-v"])
        #expect(result.status == 0, "\(result)")
        let fingerprint = try f.server.fingerprint(.ed25519)
        for line in [
            "connecting to 127.0.0.1 port \(f.server.port) (timeout 5 s, libssh2 ",
            "connected to 127.0.0.1 port \(f.server.port)",
            "server identification: SSH-2.0-OpenSSH_",
            "negotiated: key exchange curve25519-sha256, host key ssh-ed25519, cipher ",
            "server host key: ssh-ed25519 \(fingerprint)",
            "host key matches \(f.server.knownHostsPath):1 ([127.0.0.1]:\(f.server.port))",
            "server offers authentication methods: publickey",
            "trying authentication: publickey \(f.server.userPrivateKeyPath)",
            "authenticated as \(f.server.username) with publickey",
        ] {
            #expect(result.stderr.contains("expcards: debug: " + line), "missing '\(line)':\n\(result.stderr)")
        }
    }
}
