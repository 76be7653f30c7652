/// Warnings about a weakened connection, on stderr on every run whatever the verbosity (`-q`
/// included, which silences the logger): cron mails them, so an insecure setting is never
/// forgotten.
enum SecurityWarnings {
    static func emit(settings: Settings, connection: ConnectionOptions) {
        if connection.insecureAcceptAnyHostKey {
            Output.stderr(
                "expcards: warning: --insecure-accept-any-host-key: the server's identity is NOT checked; "
                    + "anyone on the path can read your password and the cardholders' data\n")
        }
        if settings.allowWeakAlgorithms.value {
            Output.stderr(
                "expcards: warning: weak SSH algorithms allowed (\(settings.allowWeakAlgorithms.origin)): CBC ciphers, "
                    + "arcfour, 3DES, MD5 and 96-bit MACs, SHA-1 key exchanges, ssh-dss and ssh-rsa may be negotiated "
                    + "when the server offers nothing better\n")
        }
    }
}
