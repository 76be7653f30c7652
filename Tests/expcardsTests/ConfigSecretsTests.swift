import Foundation
import Testing

/// A configuration file that is not valid YAML is reported by file, line and key, and never
/// quotes a secret: the YAML library's messages quote the line they stopped at, and cron mails
/// stderr.
@Suite struct ConfigSecretsTests {
    static let secret = "Zx9S3cr3tQ"

    /// Malformed values of every secret key, and malformed lines just before and after one.
    static let cases: [(name: String, yaml: String)] = {
        let broken = [
            "@\(secret)", "\"\(secret)", "'\(secret)", "[\(secret)", "{\(secret)", "\(secret): x", "*\(secret)",
            "`\(secret)", "%\(secret)", "\(secret) #x\n  - y", "!\(secret) [",
        ]
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

extension ConfigSecretsTests {
    /// While a run waits on the network with the password in memory, it can leave no core dump:
    /// RLIMIT_CORE is 0 and the process is not dumpable (its /proc files then belong to root,
    /// which a test can only see when it does not run as root).
    @Test func aRunningProcessLeavesNoCoreDump() throws {
        // A listener that never speaks: the run waits for the SSH banner until its timeout.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        try #require(
            withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
                == 0)
        try #require(listen(fd, 4) == 0)
        withUnsafeMutablePointer(to: &addr) {
            _ = $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let running = try CLI.spawn(
            [
                "fetch", "--host", "127.0.0.1", "--port", String(port), "--user", "acme", "--timeout", "5", "--retries",
                "0",
                "--insecure-accept-any-host-key", "--archive", dir + "/archive",
            ],
            environment: ["EXPCARDS_PASSWORD": Self.secret])
        // Past its start-up: it has warned about the insecure mode and now waits for the banner.
        for _ in 0..<200
        where !((try? String(contentsOfFile: running.dir + "/stderr", encoding: .utf8)) ?? "").contains("NOT checked") {
            usleep(20_000)
        }
        let limits = (try? String(contentsOfFile: "/proc/\(running.pid)/limits", encoding: .utf8)) ?? ""
        let line = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }.map(String.init) ?? ""
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        _ = running.wait(timeout: 30)
        #expect(fields.count >= 6 && fields[4] == "0" && fields[5] == "0", "core limit: \(line)")
    }
}

extension ConfigSecretsTests {
    /// Environment before file, and each value says where it came from; a value of the wrong
    /// type names its source and its key.
    @Test func settingsComeFromOrderedProvidersAndSayWhich() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/config.yaml"
        try "user: acme\nport: 2222\nhost: file.example\n".write(toFile: path, atomically: true, encoding: .utf8)
        let shown = try CLI.run(["config", "--config", path], environment: ["EXPCARDS_HOST": "env.example"])
        #expect(shown.status == 0, "\(shown)")
        let rows = shown.stdout.split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        }
        #expect(rows.contains("host env.example (environment EXPCARDS_HOST)"), "\(shown)")
        #expect(rows.contains("port 2222 (file \(path))"), "\(shown)")
        #expect(rows.contains("retries 3 (default)"), "\(shown)")

        try "port: abc\n".write(toFile: path, atomically: true, encoding: .utf8)
        let badFile = try CLI.run(["config", "--config", path])
        #expect(badFile.status == 78 && badFile.stderr.contains("file \(path): port:"), "\(badFile)")
        let badEnv = try CLI.run(["config", "--config", path], environment: ["EXPCARDS_PORT": "x"])
        #expect(badEnv.status == 78 && badEnv.stderr.contains("environment EXPCARDS_PORT: port:"), "\(badEnv)")
    }
}
