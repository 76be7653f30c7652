import CLibSSH2

/// The four kinds of algorithm an SSH client and server must agree on (RFC 4253 §7.1).
/// Compression and languages are left to libssh2's defaults ("none").
public enum AlgorithmCategory: String, CaseIterable, Sendable, Equatable {
    case kex = "key exchange"
    case hostKey = "host key"
    case cipher
    case mac = "MAC"

    /// The `libssh2_session_method_pref` / `libssh2_session_methods` slots: one per direction
    /// for ciphers and MACs.
    var methodTypes: [Int32] {
        switch self {
        case .kex: [LIBSSH2_METHOD_KEX]
        case .hostKey: [LIBSSH2_METHOD_HOSTKEY]
        case .cipher: [LIBSSH2_METHOD_CRYPT_CS, LIBSSH2_METHOD_CRYPT_SC]
        case .mac: [LIBSSH2_METHOD_MAC_CS, LIBSSH2_METHOD_MAC_SC]
        }
    }
}
