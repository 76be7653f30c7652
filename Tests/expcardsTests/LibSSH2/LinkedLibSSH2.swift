import Foundation

/// The libssh2 generation of the expcards binary under test, read from its `--version` line
/// ("0.1.0 (libssh2 1.11.1)"): tests of behaviour that differs between 1.10 and 1.11 pick theirs.
/// (The binary, not this test bundle: the CLI tests test the binary.)
enum LinkedLibSSH2 {
    /// e.g. "1.10.0"; nil when the binary does not say.
    static let version: String? = {
        guard let r = try? CLI.run(["--version"], timeout: 30), r.status == 0,
            let range = r.stdout.range(of: #"\(libssh2 [0-9]+\.[0-9]+(\.[0-9]+)?\)"#, options: .regularExpression)
        else { return nil }
        return String(r.stdout[range].dropFirst("(libssh2 ".count).dropLast())
    }()

    static func isAtLeast(_ major: Int, _ minor: Int) -> Bool {
        guard let parts = version?.split(separator: ".").compactMap({ Int($0) }), parts.count >= 2 else { return false }
        return (parts[0], parts[1]) >= (major, minor)
    }
}
