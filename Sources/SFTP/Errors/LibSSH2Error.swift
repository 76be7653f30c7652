import CLibSSH2

/// Turns libssh2 return codes into `SFTPError`s, with libssh2's own last-error text.
enum LibSSH2Error {
    static func lastMessage(_ session: OpaquePointer) -> (code: Int32, message: String) {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        let text = message.map {
            String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(length)), as: UTF8.self)
        }
        return (code, text ?? "")
    }

    /// The error for the session's last failure; network failures get their own cases.
    static func last(_ session: OpaquePointer, operation: String, timeout: Int = 0) -> SFTPError {
        let (code, message) = lastMessage(session)
        return make(code: code, message: message, operation: operation, timeout: timeout)
    }

    static func make(code: Int32, message: String, operation: String, timeout: Int) -> SFTPError {
        switch code {
        case LIBSSH2_ERROR_TIMEOUT, LIBSSH2_ERROR_SOCKET_TIMEOUT:
            return .timedOut(operation: operation, seconds: timeout)
        case LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_SEND,
            LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_BANNER_SEND, LIBSSH2_ERROR_CHANNEL_CLOSED,
            LIBSSH2_ERROR_CHANNEL_EOF_SENT, LIBSSH2_ERROR_BAD_SOCKET:
            return .connectionLost(detail: "\(message.isEmpty ? "socket error" : message) while \(operation)")
        default:
            return .ssh(code: code, message: message.isEmpty ? "unknown error" : message, operation: operation)
        }
    }

    /// Codes after which the session cannot be used any more.
    static func isFatal(_ error: SFTPError) -> Bool {
        switch error {
        case .timedOut, .connectionLost: true
        default: false
        }
    }
}
