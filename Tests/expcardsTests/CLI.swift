import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `expcards` binary, as cron or ops would, and captures what it prints.
enum CLI {
    struct Result: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
    }

    /// `.build/<config>/expcards`, beside the test bundle (or `$EXPCARDS_BIN`).
    static var binary: String {
        if let bin = ProcessInfo.processInfo.environment["EXPCARDS_BIN"] { return bin }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("expcards").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/expcards").path
    }

    /// A running expcards, for tests that act while it works (kill it, cut its connection).
    final class Running {
        let pid: pid_t
        let dir: String
        let arguments: [String]
        private var status: Int32?

        init(pid: pid_t, dir: String, arguments: [String]) {
            self.pid = pid
            self.dir = dir
            self.arguments = arguments
        }

        /// Waits for the end (killing it after `timeout`) and returns what it printed.
        func wait(timeout: TimeInterval = 120) -> Result {
            var raw: Int32 = 0
            let deadline = Date().addingTimeInterval(timeout)
            while status == nil {
                let r = waitpid(pid, &raw, WNOHANG)
                if r == pid {
                    status = raw
                    break
                }
                if r < 0 && errno != EINTR {
                    status = -1
                    break
                }
                if Date() > deadline {
                    kill(pid, SIGKILL)
                    waitpid(pid, &raw, 0)
                    status = raw
                    Issue.record("expcards \(arguments) still running after \(timeout) s: killed")
                    break
                }
                usleep(10_000)
            }
            let s = status ?? -1
            let exitStatus: Int32 = (s & 0x7F) == 0 ? (s >> 8) & 0xFF : 128 + (s & 0x7F)
            let out = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/stdout"))) ?? Data()
            let err = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/stderr"))) ?? Data()
            try? FileManager.default.removeItem(atPath: dir)
            return Result(
                status: exitStatus, stdout: String(decoding: out, as: UTF8.self),
                stderr: String(decoding: err, as: UTF8.self))
        }
    }

    /// Starts expcards (or `program`, e.g. /bin/sh to set a ulimit) without waiting.
    static func spawn(
        _ arguments: [String], environment: [String: String] = [:], program: String? = nil
    ) throws -> Running {
        let dir = try scratchDirectory()
        let outPath = dir + "/stdout"
        let errPath = dir + "/stderr"
        var env = ["PATH": "/usr/bin:/bin", "HOME": dir, "LANG": "C.UTF-8", "EXPCARDS_BIN": binary]
        env.merge(environment) { $1 }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let executable = program ?? binary
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard rc == 0 else {
            throw CLIError(description: "cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        return Running(pid: pid, dir: dir, arguments: arguments)
    }

    /// Runs with a clean environment (plus `environment`), no stdin, and a time limit.
    ///
    /// posix_spawn with stdout and stderr sent to files, and waitpid: no pipe another child could
    /// inherit and hold open, no reaping left to a run loop.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 120
    ) throws -> Result {
        try spawn(arguments, environment: environment).wait(timeout: timeout)
    }

    struct CLIError: Error, CustomStringConvertible { var description: String }

    /// The libssh2 version the binary under test runs with (`--version` names it), e.g. [1, 11, 1].
    static func libssh2Version() throws -> [Int]? {
        let text = try run(["--version"]).stdout
        guard let r = text.range(of: #"libssh2 [0-9]+(\.[0-9]+)+"#, options: .regularExpression) else { return nil }
        return text[r].dropFirst(8).split(separator: ".").compactMap { Int($0) }
    }
}

/// A scratch directory, removed by the caller.
func scratchDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("expcards-cli-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

enum Samples {
    static let companyName = "201806.EXP_CARDS.MA-ENS.T.csv"
    static let company = guideFixture(companyName)
    static let shopName = "201806.87654321.EXP_CARDS.PDV.P.csv"
    static let shop = guideFixture(shopName)

    /// A clean company file of `month` (YYYYMM) and environment with the given aliases.
    static func company(month: String, env: String = "P", aliases: [(String, String)]) -> String {
        var lines = ["00;EXP_CARDS;\(env);\(month)01;040000"]
        for (alias, expiry) in aliases { lines.append("02;\(alias);Zoé Martin;zoe@example.fr;\(expiry);1") }
        lines.append("01;\(aliases.count);\(month)01;040500")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A clean shop file of `month` with one subscription per alias.
    static func shop(month: String, shop: String, env: String = "P", aliases: [(String, String)]) -> String {
        var lines = [#""00";"EXP_CARDS";"\#(env)";"\#(shop)";"\#(month)01";"040000""#]
        for (alias, expiry) in aliases {
            lines.append(
                #""02";"\#(alias)";"Zoé Martin";"zoe@example.fr";"\#(expiry)";"SUB-\#(alias)";"3/12";"RRULE:FREQ=MONTHLY;BYMONTHDAY=10";"20260110";"1990";"";"0""#
            )
        }
        lines.append(#""01";"\#(aliases.count)";"\#(aliases.count)";"\#(month)01";"040500""#)
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A file of `Tests/Fixtures/guide/`, shared with the other test target; empty when missing, so
/// every test using it fails rather than passing on nothing.
func guideFixture(_ name: String) -> String {
    let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    return (try? String(contentsOf: tests.appendingPathComponent("Fixtures/guide/" + name), encoding: .utf8)) ?? ""
}
