import Foundation
import Testing

/// `expcards report --format mail | msmtp -t` into a real SMTP server on 127.0.0.1 (Python's
/// aiosmtpd), and the message read back as it arrived on the wire.
@Suite struct MailDeliveryTests {
    static let tools = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("tools").path
    static let msmtp = "/usr/bin/msmtp"
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: msmtp)
            && FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/aiosmtpd")
    }

    /// Runs `program` with `input` on stdin; returns its exit status and stdout.
    static func run(_ program: String, _ args: [String], input: Data = Data()) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = args
        let stdin = Pipe()
        let stdout = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        p.standardError = stdout
        try p.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }

    @Test(
        .enabled(
            if: MailDeliveryTests.available,
            "needs msmtp and python3-aiosmtpd (apt-get install -y msmtp python3-aiosmtpd)"), .timeLimit(.minutes(2)))
    func deliveredThroughARealSMTPServer() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shop = dir + "/" + Samples.shopName
        try Samples.shop.write(toFile: shop, atomically: true, encoding: .utf8)
        let report = try CLI.run([
            "report", "--as-of", "2018-07-01", "--format", "mail", "--mail-to", "ops@example.com", "--mail-to",
            "care@example.com",
            "--mail-from", "expcards@example.com", shop,
        ])
        #expect(report.status == 0, "\(report)")

        let inbox = dir + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let sink = Process()
        sink.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        sink.arguments = [Self.tools + "/smtp_sink.py", inbox]
        let sinkIn = Pipe()
        let sinkOut = Pipe()
        sink.standardInput = sinkIn
        sink.standardOutput = sinkOut
        try sink.run()
        defer {
            try? sinkIn.fileHandleForWriting.close()
            sink.waitUntilExit()
        }
        var portLine = Data()
        while !portLine.contains(0x0A) {
            let d = sinkOut.fileHandleForReading.availableData
            if d.isEmpty { break }
            portLine += d
        }
        let port = try #require(
            Int(String(decoding: portLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))

        let (status, said) = try Self.run(
            Self.msmtp,
            ["--host=127.0.0.1", "--port=\(port)", "--auth=off", "--tls=off", "--read-envelope-from", "-t"],
            input: Data(report.stdout.utf8))
        #expect(status == 0, "msmtp: \(said)")
        let envelope =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: inbox + "/1.json")))
            as? [String: Any]
        #expect(envelope?["from"] as? String == "expcards@example.com")
        #expect(envelope?["to"] as? [String] == ["ops@example.com", "care@example.com"])
        // What arrived parses to the same parts as what expcards printed.
        let (_, sent) = try Self.run(
            "/usr/bin/python3", [Self.tools + "/mailcheck.py", "/dev/stdin"], input: Data(report.stdout.utf8))
        let (_, received) = try Self.run("/usr/bin/python3", [Self.tools + "/mailcheck.py", inbox + "/1.eml"])
        let a = try #require(try JSONSerialization.jsonObject(with: Data(sent.utf8)) as? [String: Any])
        let b = try #require(try JSONSerialization.jsonObject(with: Data(received.utf8)) as? [String: Any])
        #expect((b["defects"] as? [String])?.isEmpty == true, "\(received)")
        // On the wire lines end with CRLF (the MTA's doing); the text is the same.
        func lf(_ v: Any?) -> String? { (v as? String)?.replacingOccurrences(of: "\r\n", with: "\n") }
        #expect(lf(b["text"]) == lf(a["text"]))
        #expect(lf(b["html"]) == lf(a["html"]))
        #expect(
            (b["attachments"] as? [[String: Any]])?.first?["content"] as? String
                == (a["attachments"] as? [[String: Any]])?.first?["content"] as? String)
        #expect((b["text"] as? String)?.contains("Durant@e-mail.com") == true)
    }
}
