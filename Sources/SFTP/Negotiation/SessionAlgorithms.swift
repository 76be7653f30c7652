import CLibSSH2

/// The algorithm calls of one libssh2 session: what the linked library supports, the lists
/// offered to the server, and what was agreed.
enum SessionAlgorithms {
    /// Every algorithm the linked libssh2 implements, in its own order of preference.
    static func supported(_ session: OpaquePointer) -> [AlgorithmCategory: [String]] {
        var result: [AlgorithmCategory: [String]] = [:]
        for category in AlgorithmCategory.allCases {
            var names: UnsafeMutablePointer<UnsafePointer<CChar>?>?
            let count = libssh2_session_supported_algs(session, category.methodTypes[0], &names)
            guard count > 0, let names else {
                result[category] = []
                continue
            }
            result[category] = (0..<Int(count)).compactMap { names[$0].map { String(cString: $0) } }
            libssh2_free(session, names)
        }
        return result
    }

    /// Sets the lists to offer, before the handshake. Throws when a category would be empty:
    /// libssh2 would then fall back to its own defaults, weak algorithms included.
    static func offer(_ preferences: AlgorithmPreferences, session: OpaquePointer, allowWeak: Bool) throws {
        for category in AlgorithmCategory.allCases {
            let list = preferences[category]
            guard !list.isEmpty else {
                throw SFTPError.ssh(
                    code: LIBSSH2_ERROR_METHOD_NOT_SUPPORTED,
                    message:
                        "libssh2 \(LibSSH2.version) supports no \(allowWeak ? "" : "modern ")\(category.rawValue) algorithm",
                    operation: "choosing SSH algorithms")
            }
            for type in category.methodTypes
            where libssh2_session_method_pref(session, type, list.joined(separator: ",")) != 0 {
                throw LibSSH2Error.last(session, operation: "choosing the \(category.rawValue) algorithms")
            }
        }
    }

    /// What the handshake agreed on, per category: one name, or "client-to-server/server-to-client"
    /// when the directions differ.
    static func negotiated(_ session: OpaquePointer) -> [AlgorithmCategory: String] {
        var result: [AlgorithmCategory: String] = [:]
        for category in AlgorithmCategory.allCases {
            let names = category.methodTypes.map {
                libssh2_session_methods(session, $0).map { String(cString: $0) } ?? "?"
            }
            result[category] = Set(names).count == 1 ? names[0] : names.joined(separator: "/")
        }
        return result
    }
}
