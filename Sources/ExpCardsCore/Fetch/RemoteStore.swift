/// What the fetcher needs from a server: list a directory, download a file from an offset.
/// The executable adapts the SFTP library to it; the core knows nothing of SSH.
public protocol RemoteStore: AnyObject, Sendable {
    func list(_ path: String) throws -> [RemoteEntry]
    /// Streams the file from `offset` to its end into `sink`; rethrows the sink's errors as they are.
    /// `size` is the size the listing gave (no need to ask the server again); a file that turns
    /// out shorter ends the stream early and the caller sees the difference.
    func download(
        _ path: String, from offset: UInt64, size: UInt64, to sink: (UnsafeRawBufferPointer) throws -> Void) throws
    /// The path the next `list` or `download` will open, so the server can be asked for it while
    /// the current operation runs (saves a round trip per file on a distant server). A hint only.
    func openAhead(_ path: String, directory: Bool)
    func close()
}

extension RemoteStore {
    public func openAhead(_ path: String, directory: Bool) {}
}

extension RemoteFailure {
    public var concernsThisPathOnly: Bool { false }
}

/// How the fetcher treats a remote error: the adapter classifies its own errors.
public protocol RemoteFailure: Error, Sendable, CustomStringConvertible {
    /// The path does not exist (e.g. `/ROOT/expired` on a brand that says `/common/expired`).
    var isNotFound: Bool { get }
    /// Worth another try on a new connection (cut, stall, timeout, refused).
    var isTransient: Bool { get }
    /// This path cannot be had (the server refused it: permission denied, failure; or the SSH
    /// library cannot read it from this server), and other paths are still worth trying.
    var concernsThisPathOnly: Bool { get }
}

public struct RemoteEntry: Sendable, Hashable {
    /// `unknown`: the server did not say (SFTP v3 makes the type optional) and asking did not tell.
    public enum Kind: Sendable, Hashable { case file, directory, symlink, other, unknown }
    public var name: String
    public var kind: Kind
    public var size: UInt64
    /// False when the server gives no size: 0 then means nothing.
    public var sizeKnown: Bool
    public var mtime: Int64

    public init(name: String, kind: Kind, size: UInt64, mtime: Int64, sizeKnown: Bool = true) {
        self.name = name
        self.kind = kind
        self.size = size
        self.sizeKnown = sizeKnown
        self.mtime = mtime
    }
}
