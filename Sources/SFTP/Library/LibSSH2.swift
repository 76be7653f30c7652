import CLibSSH2

/// The linked libssh2: its initialisation, and what tests and features may ask of its build.
///
/// libssh2 must be initialised once per process, before any session, and `libssh2_init` is not
/// thread-safe: a `static let` runs it exactly once, lazily and thread-safely.
public enum LibSSH2 {
    static let initialised: Bool = libssh2_init(0) == 0

    /// The version of the library loaded at run time, e.g. "1.10.0" (not the headers' version:
    /// a binary built against one and run with another says which one it runs with).
    public static var version: String { String(cString: libssh2_version(0)) }

    /// Whether the library loaded at run time is at least `major.minor.patch`; 1.11 brings
    /// chacha20-poly1305, AES-GCM, ETM MACs and rsa-sha2 signatures (host keys and RSA user keys).
    public static func isAtLeast(_ major: Int, _ minor: Int, _ patch: Int = 0) -> Bool {
        precondition((0...255).contains(major) && (0...255).contains(minor) && (0...255).contains(patch))
        // libssh2_version(n) returns NULL when the library is older than n (0xMMmmpp).
        return libssh2_version(Int32(major << 16 | minor << 8 | patch)) != nil
    }
}
