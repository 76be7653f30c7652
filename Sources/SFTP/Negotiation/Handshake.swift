import CLibSSH2
import Logging

/// The SSH handshake under the algorithm policy: the lists offered are set before it, what
/// was agreed is logged after it, and a failure is explained when a category had nothing in
/// common.
struct Handshake {
    let session: OpaquePointer
    let socket: Int32
    let configuration: SFTPConfiguration
    let logger: Logger

    /// Returns what was agreed in each category. `recordedHostKeys`: the key types known_hosts
    /// holds for the server, asked for first.
    func perform(recordedHostKeys: [HostKeyType]) throws -> [AlgorithmCategory: String] {
        let allowWeak = configuration.allowWeakAlgorithms
        let supported = SessionAlgorithms.supported(session)
        let offered = AlgorithmPreferences(
            supported: supported, allowWeak: allowWeak, recordedHostKeys: recordedHostKeys)
        try SessionAlgorithms.offer(offered, session: session, allowWeak: allowWeak)
        if !recordedHostKeys.isEmpty {
            logger.debug(
                "known_hosts holds \(recordedHostKeys.map(\.name).joined(separator: ", ")) keys for this host: asked for first"
            )
            if !recordedHostKeys.contains(where: { $0.algorithms.contains(where: offered[.hostKey].contains) }) {
                // An RSA key under libssh2 1.10: only ssh-rsa (SHA-1 signatures) could prove it.
                let types = recordedHostKeys.map(\.name).joined(separator: ", ")
                logger.warning(
                    "known_hosts holds only \(types) keys for \(configuration.host), which libssh2 \(LibSSH2.version) can check only with weak algorithms: record the server's ed25519 or ECDSA key, or use a build with libssh2 1.11 (rsa-sha2)"
                )
            }
        }
        for category in AlgorithmCategory.allCases {
            logger.debug("offering \(category.rawValue): \(offered[category].joined(separator: ","))")
        }

        if libssh2_session_handshake(session, socket) != 0 {
            throw failure(offered: offered, supported: supported)
        }
        if let banner = libssh2_session_banner_get(session) {
            logger.debug("server identification: \(ServerText.neutralised(String(cString: banner)))")
        }
        let agreed = SessionAlgorithms.negotiated(session)
        let summary = AlgorithmCategory.allCases.map { "\($0.rawValue) \(agreed[$0] ?? "?")" }.joined(separator: ", ")
        logger.debug("negotiated: \(summary)")
        let weak = AlgorithmCategory.allCases.flatMap { category in
            (agreed[category] ?? "").split(separator: "/").map(String.init).filter {
                offered.weak(supported: supported, category).contains($0)
            }
        }
        if !weak.isEmpty {
            logger.warning(
                "weak SSH algorithms in use with \(configuration.host): \(Set(weak).sorted().joined(separator: ", "))")
        }
        return agreed
    }

    /// The error for a failed handshake. When the cause may be that a category had no algorithm
    /// in common, the server's offer is read on a separate connection to say which (a timeout
    /// is not explained that way: a second connection would only wait as long).
    private func failure(offered: AlgorithmPreferences, supported: [AlgorithmCategory: [String]]) -> SFTPError {
        let config = configuration
        let error = LibSSH2Error.last(
            session, operation: "performing the SSH handshake with \(config.host)", timeout: config.timeout)
        if case .timedOut = error { return error }
        logger.debug("handshake failed (\(error)); reading the server's algorithm offer")
        let server: ServerKexInit
        do {
            server = try KexInitProbe.read(host: config.host, port: config.port, timeout: config.timeout)
        } catch let probeError {
            // Nothing better to say than libssh2's own error.
            logger.debug("cannot read the server's algorithm offer: \(probeError)")
            return error
        }
        logger.debug("server identification: \(ServerText.neutralised(server.identification))")
        for category in AlgorithmCategory.allCases {
            logger.debug(
                "server offers \(category.rawValue): \(server.offers(category).map(ServerText.neutralised).joined(separator: ","))"
            )
        }
        let mismatches = AlgorithmMismatch.find(
            offered: offered, server: server, supported: supported, linkedIsAtLeastOneEleven: LibSSH2.isAtLeast(1, 11))
        if mismatches.isEmpty { return error }
        return .noCommonAlgorithm(
            host: config.host, port: config.port, mismatches: mismatches, libssh2Version: LibSSH2.version)
    }
}
