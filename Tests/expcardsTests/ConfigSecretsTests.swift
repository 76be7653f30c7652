import Foundation
import Testing

/// A configuration file that is not valid YAML is reported by file, line and key, and never
/// quotes a secret: the YAML library's messages quote the line they stopped at, and cron mails
/// stderr.
@Suite struct ConfigSecretsTests {
    static let secret = "Zx9S3cr3tQ"

    /// Malformed values of every secret key, and malformed lines just before and after one.
    static let cases: [(name: String, yaml: String)] = {
        let broken = ["@\(secret)", "\"\(secret)", "'\(secret)", "[\(secret)", "{\(secret)", "\(secret): x", "*\(secret)",
                      "`\(secret)", "%\(secret)", "\(secret) #x\n  - y", "!\(secret) ["]
        var out: [(String, String)] = []
        for key in ["password"] {
            for (i, value) in broken.enumerated() {
                out.append(("\(key) value \(i)", "user: acme\n\(key): \(value)\nhost: example.org\n"))
            }
            out.append(("\(key) after a bad line", "user: [acme\n\(key): \(secret)\n"))
            out.append(("\(key) before a bad line", "\(key): \(secret)\nhost: \"example.org\n"))
            out.append(("\(key) with a tab indent", "user: acme\n\t\(key): \(secret)\n"))
            out.append(("\(key) in a broken block", "server:\n  \(key): \(secret)\n user: acme\n"))
        }
        return out
    }()

    @Test func malformedYAMLAroundASecretNamesTheLineNeverTheValue() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, yaml) in Self.cases {
            let path = dir + "/config.yaml"
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o600)
            let r = try CLI.run(["fetch", "--config", path, "--archive", dir + "/archive"], timeout: 30)
            #expect(r.status == 78, "\(name): \(r)")
            #expect(r.stderr.contains("configuration file \(path)"), "\(name): \(r)")
            #expect(r.stderr.contains(" line "), "\(name): the line is named: \(r)")
            for leak in [Self.secret, "S3cr3t"] {
                #expect(!r.stderr.contains(leak) && !r.stdout.contains(leak), "\(name): the secret was printed: \(r)")
            }
        }
    }

    /// The key of the line the parser stopped at is named, so the operator knows where to look.
    @Test func theKeyOfTheBrokenLineIsNamed() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/config.yaml"
        try "user: acme\npassword: @\(Self.secret)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        let r = try CLI.run(["fetch", "--config", path, "--archive", dir + "/archive"], timeout: 30)
        #expect(r.stderr.contains("at line 2, column 11 (key 'password')"), "\(r)")
    }
}
