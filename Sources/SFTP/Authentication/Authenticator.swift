import CLibSSH2
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tries the configured methods in order against what the server offers. Secrets reach
/// libssh2 only; logs and errors name methods, never passwords or passphrases.
struct Authenticator {
    let session: OpaquePointer
    let user: String
    let timeout: Int
    let logger: Logger
    /// The session's abstract pointer target, read by the keyboard-interactive callback.
    let context: SessionContext
    let agentSocketPath: String?

    func authenticate(_ methods: [SFTPConfiguration.Authentication]) throws {
        let userLength = UInt32(user.utf8.count)
        guard let list = libssh2_userauth_list(session, user, userLength) else {
            if libssh2_userauth_authenticated(session) != 0 { return }  // "none" was accepted
            let error = LibSSH2Error.last(
                session, operation: "asking which authentication methods are offered", timeout: timeout)
            if case .ssh = error { throw SFTPError.authenticationFailed(user: user, offeredMethods: [], attempts: []) }
            throw error
        }
        // Server-sent names: neutralised once, here, for every log line and error that shows them.
        let offered = String(cString: list).split(separator: ",").map(ServerText.neutralised)
        logger.debug("server offers authentication methods: \(offered.joined(separator: ","))")

        var attempts: [String] = []
        for method in methods {
            let outcome: String
            switch method {
            case .password(let password):
                if offered.contains("password") {
                    outcome = try attempt("password") {
                        libssh2_userauth_password_ex(
                            session, user, userLength, password, UInt32(password.utf8.count), nil)
                    }
                } else if offered.contains("keyboard-interactive") {
                    context.keyboardInteractivePassword = password
                    defer { context.keyboardInteractivePassword = nil }
                    outcome = try attempt("keyboard-interactive") {
                        libssh2_userauth_keyboard_interactive_ex(session, user, userLength, answerWithPassword)
                    }
                } else {
                    outcome = "password: not offered by the server"
                }
            case .publicKey(let privateKeyPath, let publicKeyPath, let passphrase):
                guard offered.contains("publickey") else {
                    outcome = "publickey: not offered by the server"
                    break
                }
                guard access(privateKeyPath, R_OK) == 0 else {
                    throw SFTPError.keyFileUnusable(path: privateKeyPath, reason: errnoText())
                }
                outcome = try attempt("publickey \(privateKeyPath)") {
                    libssh2_userauth_publickey_fromfile_ex(
                        session, user, userLength, publicKeyPath, privateKeyPath, passphrase ?? "")
                } hint: { code in
                    if code == LIBSSH2_ERROR_FILE || code == LIBSSH2_ERROR_KEYFILE_AUTH_FAILED {
                        return "the key cannot be read: wrong passphrase, or a format libssh2 1.10 does not support"
                    }
                    return Self.isRSAKey(privateKeyPath, publicKeyPath: publicKeyPath)
                        ? "RSA keys cannot be used with OpenSSH ≥ 8.8 by libssh2 1.10 (no rsa-sha2 signatures); use an ed25519 or ecdsa key"
                        : nil
                }
            case .agent:
                guard offered.contains("publickey") else {
                    outcome = "agent: publickey not offered by the server"
                    break
                }
                outcome = try authenticateWithAgent()
            }
            if libssh2_userauth_authenticated(session) != 0 {
                logger.debug("authenticated as \(user) with \(method.methodName)")
                return
            }
            logger.debug("authentication \(outcome)")
            attempts.append(outcome)
        }
        throw SFTPError.authenticationFailed(user: user, offeredMethods: offered, attempts: attempts)
    }

    /// Runs one libssh2 authentication call. Returns a line for the error report when the
    /// server said no; throws when the connection itself failed.
    private func attempt(
        _ label: String, _ call: () -> Int32, hint: (Int32) -> String? = { _ in nil }
    ) throws -> String {
        logger.debug("trying authentication: \(label)")
        let rc = call()
        if rc == 0 { return "\(label): accepted" }
        let (code, message) = LibSSH2Error.lastMessage(session)
        let error = LibSSH2Error.make(code: code, message: message, operation: "authenticating", timeout: timeout)
        if LibSSH2Error.isFatal(error) { throw error }
        return "\(label): \(message.isEmpty ? "rejected" : ServerText.neutralised(message))"
            + (hint(code).map { " — \($0)" } ?? "")
    }

    private func authenticateWithAgent() throws -> String {
        guard let agent = libssh2_agent_init(session) else { return "agent: cannot initialise" }
        defer { libssh2_agent_free(agent) }
        if let agentSocketPath { libssh2_agent_set_identity_path(agent, agentSocketPath) }
        guard libssh2_agent_connect(agent) == 0 else {
            return
                "agent: cannot connect to \(agentSocketPath ?? getenvString("SSH_AUTH_SOCK") ?? "(SSH_AUTH_SOCK is not set)")"
        }
        defer { libssh2_agent_disconnect(agent) }
        guard libssh2_agent_list_identities(agent) == 0 else { return "agent: cannot list identities" }
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var tried = 0
        while true {
            var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
            guard libssh2_agent_get_identity(agent, &identity, previous) == 0, let identity else { break }
            tried += 1
            if libssh2_agent_userauth(agent, user, identity) == 0 { return "agent: accepted" }
            let (code, message) = LibSSH2Error.lastMessage(session)
            let error = LibSSH2Error.make(code: code, message: message, operation: "authenticating", timeout: timeout)
            if LibSSH2Error.isFatal(error) { throw error }
            previous = identity
        }
        return tried == 0 ? "agent: holds no identities" : "agent: none of its \(tried) keys accepted"
    }

    /// From the public key ("ssh-rsa AAAA...") when there is one, else from a PEM header.
    static func isRSAKey(_ privateKeyPath: String, publicKeyPath: String?) -> Bool {
        for (path, marker) in [
            (publicKeyPath ?? privateKeyPath + ".pub", "ssh-rsa "), (privateKeyPath, "RSA PRIVATE KEY"),
        ] {
            guard let file = fopen(path, "r") else { continue }
            defer { fclose(file) }
            var header = [CChar](repeating: 0, count: 64)
            guard fgets(&header, 64, file) != nil else { continue }
            return header.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.contains(marker)
        }
        return false
    }
}

/// State a C callback needs: libssh2 hands the session's abstract pointer to callbacks.
final class SessionContext {
    var keyboardInteractivePassword: String?
}

/// Answers every hidden prompt with the password (the usual single "Password:" prompt) and
/// echoed prompts with nothing. libssh2 frees the answers with `free`.
private let answerWithPassword:
    @convention(c) (
        UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, Int32, Int32,
        UnsafePointer<LIBSSH2_USERAUTH_KBDINT_PROMPT>?, UnsafeMutablePointer<LIBSSH2_USERAUTH_KBDINT_RESPONSE>?,
        UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> Void = { _, _, _, _, count, prompts, responses, abstract in
        guard let prompts, let responses, let opaque = abstract?.pointee else { return }
        let context = Unmanaged<SessionContext>.fromOpaque(opaque).takeUnretainedValue()
        for index in 0..<Int(count) {
            let answer = prompts[index].echo == 0 ? (context.keyboardInteractivePassword ?? "") : ""
            responses[index].text = strdup(answer)
            responses[index].length = UInt32(answer.utf8.count)
        }
    }
