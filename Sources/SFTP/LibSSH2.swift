import CLibSSH2

/// libssh2 must be initialised once per process, before any session, and `libssh2_init` is not
/// thread-safe: a `static let` runs it exactly once, lazily and thread-safely.
enum LibSSH2 {
    static let initialised: Bool = libssh2_init(0) == 0

    /// The linked library's version, e.g. "1.10.0".
    static var version: String { String(cString: libssh2_version(0)) }
}
