import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `make demo`'s script end to end: sample data, a throwaway sshd, `expcards run`, the report,
/// and nothing left behind (no sshd of the sandbox, no directory).
@Suite struct DemoTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let script = repository + "/scripts/demo.sh"

    static let missingTools: [String] = ["/usr/sbin/sshd", "/usr/bin/python3", "/usr/bin/ssh-keygen"]
        .filter { !FileManager.default.isExecutableFile(atPath: $0) }
    static var toolsPresent: Bool { missingTools.isEmpty }

    @Test(
        "scripts/demo.sh prints a report with the damaged file, exits 0 and leaves nothing behind",
        .enabled(
            if: DemoTests.toolsPresent,
            "skipped: needs /usr/sbin/sshd, /usr/bin/python3 and /usr/bin/ssh-keygen (apt-get install -y openssh-server python3)"
        ),
        .timeLimit(.minutes(5)))
    func demoRunsAndCleansUp() throws {
        // The demo's temporary directory goes under this TMPDIR, so "nothing left" is checkable.
        let tmp = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: tmp) }

        let out = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try CLI.spawn([Self.script], environment: ["TMPDIR": tmp, "DEMO_OUT": out], program: "/bin/bash")
            .wait(timeout: 240)
        #expect(result.status == 0, "\(result)")

        // The report: its first line says PROBLEMS (the demo damages one file on purpose) ...
        let firstLine =
            result.stdout.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        #expect(firstLine.hasPrefix("PROBLEMS"), "first line: \(firstLine)\n\(result)")
        // ... and names that file, with the trailer's mismatch (long paths wrap: compare without blanks).
        let damagedLine = result.stderr.split(separator: "\n").first { $0.contains("damaged on purpose: ") }
        let damaged = damagedLine.flatMap { line -> String? in
            guard let start = line.range(of: "damaged on purpose: ")?.upperBound else { return nil }
            return String(line[start...].prefix { $0 != ")" })
        }
        #expect(damaged?.hasSuffix(".P.csv") == true, "no damaged file named on stderr\n\(result)")
        let report = result.stdout.components(separatedBy: "── expcards list").first ?? ""
        let compact = report.filter { !$0.isWhitespace }
        if let damaged {
            #expect(compact.contains("FAIL"), "\(result)")
            #expect(compact.contains(damaged), "the report does not name \(damaged)\n\(result)")
            #expect(report.contains("detail count"), "\(result)")
        }
        #expect(result.stderr.contains("exited 65"), "\(result)")

        // The report as a mail, and its screenshot where Chromium is installed, kept and named.
        let eml = out + "/expiring-cards.eml"
        let png = out + "/expiring-cards.png"
        #expect(result.stderr.contains(eml), "\(result)")
        let message = (try? String(contentsOfFile: eml, encoding: .utf8)) ?? ""
        #expect(
            message.hasPrefix("From: expcards@") && message.contains("Content-Type: multipart/mixed"),
            "\(message.prefix(300))")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") {
            #expect(result.stderr.contains(png), "\(result)")
            #expect(FileManager.default.fileExists(atPath: png))
        }

        // Nothing left: the demo's directory is gone and no process names it.
        let left = (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []
        #expect(left.isEmpty, "left in TMPDIR: \(left)")
        let survivors = Self.processes(mentioning: tmp)
        #expect(survivors.isEmpty, "still running: \(survivors)")
    }

    /// `pid: command line` of every process whose command line contains `text` (sshd's listener
    /// shows its `-f <sandbox>/sshd_config` there).
    static func processes(mentioning text: String) -> [String] {
        let own = getpid()
        var found: [String] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), pid != own,
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !data.isEmpty
            else { continue }
            let line = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            if line.contains(text) { found.append("\(pid): \(line)") }
        }
        return found
    }
}
