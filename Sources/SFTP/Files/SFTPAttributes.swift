import CLibSSH2

/// What a remote path is. Symbolic links are reported as such, never followed.
public enum SFTPFileKind: Sendable, Equatable {
    case file
    case directory
    case symlink
    /// Devices, sockets, FIFOs.
    case other
    /// The server sent no permissions attribute (optional in SFTP v3) and nothing else told.
    case unknown

    /// The type an `ls -l` style long name gives (`-rw-r--r-- 1 ...`), or nil when the text is
    /// not such a line (servers may send anything there: SFTP v3 leaves its format open).
    static func fromLongName(_ longName: Substring) -> SFTPFileKind? {
        let mode = longName.utf8.prefix(10)
        guard mode.count == 10, mode.dropFirst().allSatisfy({ "-rwxsStTlL+.@".utf8.contains($0) }) else { return nil }
        switch mode.first {
        case UInt8(ascii: "-"): return .file
        case UInt8(ascii: "d"): return .directory
        case UInt8(ascii: "l"): return .symlink
        case UInt8(ascii: "p"), UInt8(ascii: "s"), UInt8(ascii: "c"), UInt8(ascii: "b"): return .other
        default: return nil
        }
    }
}

/// The attributes a server reports for a path. Fields the server omits are 0 (`hasSize` tells
/// a missing size from an empty file).
public struct SFTPAttributes: Sendable, Equatable {
    public var kind: SFTPFileKind
    public var size: UInt64
    public var hasSize: Bool
    /// Modification time, seconds since the epoch.
    public var mtime: Int64
    /// Permission bits (`0o7777` part of the mode).
    public var permissions: UInt32

    public init(kind: SFTPFileKind, size: UInt64, mtime: Int64, permissions: UInt32, hasSize: Bool = true) {
        self.kind = kind
        self.size = size
        self.hasSize = hasSize
        self.mtime = mtime
        self.permissions = permissions
    }

    init(_ raw: LIBSSH2_SFTP_ATTRIBUTES) {
        let flags = UInt(raw.flags)
        let hasMode = flags & UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS) != 0
        let mode = hasMode ? UInt(raw.permissions) : 0
        switch mode & UInt(LIBSSH2_SFTP_S_IFMT) {
        case _ where !hasMode: kind = .unknown
        case UInt(LIBSSH2_SFTP_S_IFREG): kind = .file
        case UInt(LIBSSH2_SFTP_S_IFDIR): kind = .directory
        case UInt(LIBSSH2_SFTP_S_IFLNK): kind = .symlink
        default: kind = .other
        }
        hasSize = flags & UInt(LIBSSH2_SFTP_ATTR_SIZE) != 0
        size = hasSize ? UInt64(raw.filesize) : 0
        mtime = flags & UInt(LIBSSH2_SFTP_ATTR_ACMODTIME) != 0 ? Int64(raw.mtime) : 0
        permissions = UInt32(mode & 0o7777)
    }
}

/// One directory entry, with the entry's own attributes (lstat semantics).
public struct SFTPEntry: Sendable, Equatable {
    public var name: String
    public var attributes: SFTPAttributes

    public init(name: String, attributes: SFTPAttributes) {
        self.name = name
        self.attributes = attributes
    }

    public var kind: SFTPFileKind { attributes.kind }
    public var size: UInt64 { attributes.size }
    public var mtime: Int64 { attributes.mtime }
    public var permissions: UInt32 { attributes.permissions }
}
