import Foundation
import Testing

/// The HTML alternative rendered by headless Chromium (scripts/mail-screenshot.py), with the
/// network shut and Chromium's net log read back: the page asks for nothing.
@Suite struct MailScreenshotTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/mail-screenshot.py").path
    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") }

    @Test(
        .enabled(if: MailScreenshotTests.available, "needs Debian's chromium (apt-get install -y chromium)"),
        .timeLimit(.minutes(3)))
    func rendersWithNoRequestGoingOut() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shop = dir + "/" + Samples.shopName
        let company = dir + "/" + Samples.companyName
        try Samples.shop.write(toFile: shop, atomically: true, encoding: .utf8)
        try Samples.company.write(toFile: company, atomically: true, encoding: .utf8)
        let mail = try CLI.run([
            "report", "--as-of", "2018-07-01", "--format", "mail", "--mail-to", "ops@example.com", shop,
        ])
        #expect(mail.status == 0, "\(mail)")
        let eml = dir + "/report.eml"
        let png = dir + "/report.png"
        try mail.stdout.write(toFile: eml, atomically: true, encoding: .utf8)
        let (status, out) = try MailDeliveryTests.run("/usr/bin/python3", [Self.script, eml, png])
        #expect(status == 0, "\(out)")
        let result =
            try JSONSerialization.jsonObject(with: Data((out.split(separator: "\n").last ?? "").utf8)) as? [String: Any]
        #expect((result?["pageRequests"] as? [String])?.isEmpty == true, "\(out)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "a PNG")
        #expect(bytes.count > 10_000, "\(bytes.count) bytes: more than a blank page")
    }

    @Test(.enabled(if: MailScreenshotTests.available, "needs Debian's chromium"), .timeLimit(.minutes(3)))
    func theCheckSeesARequest() throws {
        // The net log check itself: a page with an external image is refused.
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let eml = dir + "/bad.eml"
        try
            "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<p>x<img src=\"http://tracker.example/p.gif\"></p>\n"
            .write(toFile: eml, atomically: true, encoding: .utf8)
        let (status, out) = try MailDeliveryTests.run("/usr/bin/python3", [Self.script, eml, dir + "/bad.png"])
        #expect(status == 1, "\(out)")
        #expect(out.contains("http://tracker.example/p.gif"))
    }
}
