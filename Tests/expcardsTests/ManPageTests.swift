import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The man page is written by hand: these tests keep it in step with the CLI (every command and
/// every option the binary knows is documented) and keep it clean for `man` (no groff warnings).
@Suite struct ManPageTests {
    @Test func everyCommandAndOptionIsDocumented() throws {
        let dump = try CLI.run(["--experimental-dump-help"])
        #expect(dump.status == 0, "\(dump)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        let root = try #require(json["command"] as? [String: Any], "no \"command\" in the dump")
        var commands: [String] = []
        var options: [String: Set<String>] = [:]  // "--name" or "-x" → the commands that take it
        collect(root, path: [], commands: &commands, options: &options)
        // A dump read wrongly must not pass for an empty CLI.
        #expect(commands.count >= 8, "subcommands found in the dump: \(commands)")
        #expect(options.count >= 30, "options found in the dump: \(options.keys.sorted())")

        let page = try ManPage.text()
        let headings = Set(
            page.source.split(separator: "\n").filter { $0.hasPrefix(".SS ") }.map {
                ManPage.plain(String($0.dropFirst(4))).trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            })
        let missingCommands = commands.filter { !headings.contains("expcards " + $0) }
        #expect(
            missingCommands.isEmpty,
            "commands without a section `.SS \"expcards <name>\"` in \(ManPage.path): \(missingCommands)")

        let text = ManPage.plain(page.source)
        let missingOptions = options.keys.sorted().filter { !ManPage.mentions(text, option: $0) }
            .map { "\($0) (\(options[$0]!.sorted().joined(separator: ", ")))" }
        #expect(missingOptions.isEmpty, "options missing from \(ManPage.path): \(missingOptions)")
    }

    @Test(
        .enabled(
            if: ManPage.linter != nil,
            "neither /usr/bin/groff nor mandoc is installed (apt-get install groff-base): not linting the man page"))
    func rendersWithoutWarnings() throws {
        let linter = try #require(ManPage.linter)
        let r = try ManPage.spawn(linter.path, linter.arguments + [ManPage.path])
        #expect(
            r.status == 0, "\(linter.path) \(linter.arguments.joined(separator: " ")) exited \(r.status)\n\(r.output)")
        #expect(
            r.output.isEmpty, "\(linter.path) \(linter.arguments.joined(separator: " ")) \(ManPage.path):\n\(r.output)")
    }

    /// Walks the command tree of `--experimental-dump-help`: subcommand names (below the root) and
    /// the long and short names of every option and flag.
    private func collect(
        _ command: [String: Any], path: [String], commands: inout [String], options: inout [String: Set<String>]
    ) {
        let name = command["commandName"] as? String ?? "?"
        let here = path + [name]
        if !path.isEmpty { commands.append(here.dropFirst().joined(separator: " ")) }
        for argument in command["arguments"] as? [[String: Any]] ?? [] {
            for n in argument["names"] as? [[String: Any]] ?? [] {
                guard let kind = n["kind"] as? String, let value = n["name"] as? String else { continue }
                let spelled = kind == "short" ? "-" + value : "--" + value
                options[spelled, default: []].insert(here.joined(separator: " "))
            }
        }
        for sub in command["subcommands"] as? [[String: Any]] ?? [] {
            collect(sub, path: here, commands: &commands, options: &options)
        }
    }
}

enum ManPage {
    /// `Man/expcards.1`, from this file's place in the repository.
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Man/expcards.1").path

    static func text() throws -> (source: String, path: String) {
        (try String(contentsOfFile: path, encoding: .utf8), path)
    }

    /// The page's words as a reader sees them: `\-` is `-`, font changes are gone.
    static func plain(_ roff: String) -> String {
        var s = roff.replacingOccurrences(of: "\\-", with: "-")
        for font in ["\\fB", "\\fI", "\\fR", "\\fP", "\\&", "\\|"] { s = s.replacingOccurrences(of: font, with: "") }
        return s
    }

    /// `--host` is mentioned when it appears not as the start of a longer name (`--host-key`).
    static func mentions(_ text: String, option: String) -> Bool {
        var rest = text[...]
        while let r = rest.range(of: option) {
            let before = r.lowerBound == text.startIndex ? nil : text[text.index(before: r.lowerBound)]
            let after = r.upperBound == text.endIndex ? nil : text[r.upperBound]
            let partOfWord: (Character?) -> Bool = { c in
                c.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } ?? false
            }
            if !partOfWord(before) && !partOfWord(after) { return true }
            rest = text[r.upperBound...]
        }
        return false
    }

    /// groff with every warning, else mandoc's linter.
    static var linter: (path: String, arguments: [String])? {
        if access("/usr/bin/groff", X_OK) == 0 { return ("/usr/bin/groff", ["-man", "-ww", "-z"]) }
        for dir in ["/usr/bin", "/usr/local/bin"] where access(dir + "/mandoc", X_OK) == 0 {
            return (dir + "/mandoc", ["-T", "lint", "-W", "warning"])
        }
        return nil
    }

    /// Runs a tool with stdout and stderr in one file (posix_spawn and waitpid, as `CLI.run`).
    static func spawn(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let outPath = dir + "/output"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([tool] + arguments).map { strdup($0) } + [nil]
        let envp = [String](["PATH=/usr/bin:/bin", "LANG=C.UTF-8"]).map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, tool, &actions, nil, argv, envp)
        guard rc == 0 else { throw CLI.CLIError(description: "cannot start \(tool): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitStatus: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let output = (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()
        return (exitStatus, String(decoding: output, as: UTF8.self))
    }
}
