import ArgumentParser

/// How to reach the platform's SFTP server. Secrets never come from the command line: the
/// password from `--password-file` or `$EXPCARDS_PASSWORD`, a key's passphrase from
/// `--passphrase-file` or `$EXPCARDS_PASSPHRASE`.
struct ConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The SFTP server (default vadftp-secure.sftp.lyra-network.com).", valueName: "host"))
    var host: String?

    @Option(help: ArgumentHelp("The SSH port (default 22).", valueName: "port"))
    var port: Int?

    @Option(help: ArgumentHelp("The login the platform gave you.", valueName: "user"))
    var user: String?

    @Option(
        help: ArgumentHelp(
            "A private key (ed25519 or ecdsa; libssh2 1.10 cannot sign with RSA for OpenSSH 8.8 and later).",
            valueName: "file"))
    var identity: String?

    @Option(
        name: .customLong("password-file"),
        help: ArgumentHelp("A file whose first line is the password.", valueName: "file"))
    var passwordFile: String?

    @Option(
        name: .customLong("passphrase-file"),
        help: ArgumentHelp("A file whose first line is the identity's passphrase.", valueName: "file"))
    var passphraseFile: String?

    @Option(
        name: .customLong("known-hosts"),
        help: ArgumentHelp(
            "The OpenSSH known_hosts file that must hold the server's key (default ~/.ssh/known_hosts).",
            valueName: "file"))
    var knownHosts: String?

    @Option(
        name: .customLong("host-key"),
        help: ArgumentHelp("Pin the server's key by its fingerprint instead of known_hosts.", valueName: "SHA256:..."))
    var hostKey: String?

    @Flag(
        name: .customLong("insecure-accept-any-host-key"),
        help: "Do not check the server's host key (a warning says so each run; never for production).")
    var insecureAcceptAnyHostKey = false

    @Flag(
        name: .customLong("insecure-allow-weak-algorithms"),
        help:
            "Also offer weak SSH algorithms (CBC ciphers, arcfour, 3DES, MD5 and 96-bit MACs, SHA-1 key exchanges, ssh-dss, ssh-rsa) after the modern ones, for a server that has nothing better (a warning says so each run)."
    )
    var insecureAllowWeakAlgorithms = false

    @Option(
        help: ArgumentHelp(
            "Seconds any network wait may last: connect, handshake, each SFTP request (default 30).",
            valueName: "seconds"))
    var timeout: Int?

    @Option(
        help: ArgumentHelp(
            "Retries of a transient network fault, with exponential backoff (default 3).", valueName: "n"))
    var retries: Int?

    func validate() throws {
        if let port, !Limits.port.contains(port) { throw ValidationError("--port wants 1 to 65535, not \(port).") }
        if let timeout, !Limits.timeout.contains(timeout) {
            throw ValidationError("--timeout wants 1 to 3600 seconds, not \(timeout).")
        }
        if let retries, !Limits.retries.contains(retries) {
            throw ValidationError("--retries wants 0 to 20, not \(retries).")
        }
        if let hostKey, !hostKey.hasPrefix("SHA256:") {
            throw ValidationError("--host-key wants an OpenSSH fingerprint SHA256:..., not '\(hostKey)'.")
        }
        if hostKey != nil && insecureAcceptAnyHostKey {
            throw ValidationError("--host-key and --insecure-accept-any-host-key exclude each other.")
        }
    }
}
