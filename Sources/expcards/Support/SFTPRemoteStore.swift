import ExpCardsCore
import Logging
import SFTP

/// Adapts the SFTP library to the fetcher's `RemoteStore`: the one place that knows both.
/// `@unchecked Sendable`: it wraps a libssh2 session (a C handle), which the fetcher hands from
/// thread to thread under a lock and uses from one thread at a time.
final class SFTPRemoteStore: RemoteStore, @unchecked Sendable {
    let client: SFTPClient

    init(configuration: SFTPConfiguration, logger: Logger) throws {
        client = try SFTPClient(configuration: configuration, logger: logger)
    }

    func list(_ path: String) throws -> [RemoteEntry] {
        try client.list(path).map { e in
            let kind: RemoteEntry.Kind =
                switch e.kind {
                case .file: .file
                case .directory: .directory
                case .symlink: .symlink
                case .other: .other
                case .unknown: .unknown
                }
            return RemoteEntry(name: e.name, kind: kind, size: e.size, mtime: e.mtime, sizeKnown: e.attributes.hasSize)
        }
    }

    func download(
        _ path: String, from offset: UInt64, size: UInt64, to sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try client.download(path, from: offset, size: size, to: sink)
    }

    func openAhead(_ path: String, directory: Bool) { client.openAhead(path, directory: directory) }

    func close() { client.close() }
}

extension SFTPError: RemoteFailure {
    public var isNotFound: Bool {
        if case .sftp(_, let status, _) = self, status == .noSuchFile { return true }
        return false
    }

    public var isTransient: Bool { category == .network }

    public var concernsThisPathOnly: Bool {
        if case .sftp(_, let status, _) = self { return status != .noSuchFile }
        return false
    }
}

extension Settings {
    /// The SFTP configuration: host-key policy strict by default, secrets from files or the environment.
    func sftpConfiguration(insecure: Bool) throws -> SFTPConfiguration {
        guard let user = user.value else {
            throw Settings.Error(
                description: "no user: give --user, EXPCARDS_USER or 'user:' in the configuration file")
        }
        var auth: [SFTPConfiguration.Authentication] = []
        if let identity = identityFile.value {
            auth.append(.publicKey(privateKeyPath: identity, publicKeyPath: nil, passphrase: passphrase))
        }
        if let password { auth.append(.password(password)) }
        if auth.isEmpty { auth.append(.agent) }
        let policy: SFTPConfiguration.HostKeyPolicy =
            insecure
            ? .insecureAcceptAny
            : (hostKey.value.map { .pinned(sha256: $0) } ?? .knownHosts(path: knownHostsFile.value))
        return SFTPConfiguration(
            host: host.value, port: port.value, user: user, timeout: timeout.value, hostKeyPolicy: policy,
            authentication: auth, allowWeakAlgorithms: allowWeakAlgorithms.value)
    }
}
