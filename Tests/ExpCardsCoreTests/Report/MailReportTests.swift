import Foundation
import Testing

@testable import ExpCardsCore

/// The message as Python's email package (default policy) reads it: a real MIME parser.
struct ParsedMail {
    static let python = "/usr/bin/python3"
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/mailcheck.py").path
    static var available: Bool { FileManager.default.isExecutableFile(atPath: python) }

    let json: [String: Any]

    init(_ message: String) throws {
        let path = NSTemporaryDirectory() + "expcards-mail-\(UUID().uuidString).eml"
        try Data(message.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.python)
        p.arguments = [Self.script, path]
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            throw ParseError(description: "mailcheck.py failed: " + String(decoding: errors, as: UTF8.self))
        }
        json = object
    }

    struct ParseError: Error, CustomStringConvertible { var description: String }

    var headers: [String: String] { json["headers"] as? [String: String] ?? [:] }
    var text: String { json["text"] as? String ?? "" }
    var html: String { json["html"] as? String ?? "" }
    var attachments: [[String: Any]] { json["attachments"] as? [[String: Any]] ?? [] }
    var defects: [String] { json["defects"] as? [String] ?? [] }
    var maxLine: Int { json["maxLine"] as? Int ?? .max }
    /// The MIME tree as `type(child, child)`.
    var shape: String {
        func walk(_ node: [String: Any]) -> String {
            let type = node["type"] as? String ?? "?"
            guard let parts = node["parts"] as? [[String: Any]] else { return type }
            return type + "(" + parts.map(walk).joined(separator: ", ") + ")"
        }
        return walk(json["tree"] as? [String: Any] ?? [:])
    }
}

@Suite("Mail report", .enabled(if: ParsedMail.available, "no /usr/bin/python3"))
struct MailReportTests {
    /// 2026-11-01 04:30:00 UTC.
    static let date: Int64 = 1_793_507_400

    static func options(mask: Bool = false) -> MailReport.Options {
        var o = MailReport.Options(
            from: MailAddress("expcards@host.example")!,
            to: [MailAddress("ops@example.com")!, MailAddress("Équipe Relation <care@example.com>")!],
            date: date, host: "host.example", token: "0123456789abcdef0123456789abcdef")
        o.mask = mask
        return o
    }

    @Test func structureAndHeaders() throws {
        let r = Fixture.rich
        let message = MailReport.render(r, Self.options())
        let m = try ParsedMail(message)
        #expect(m.defects.isEmpty, "\(m.defects)")
        #expect(m.shape == "multipart/mixed(multipart/alternative(text/plain, text/html), text/csv)")
        #expect(m.headers["From"] == "expcards@host.example")
        #expect(m.json["to"] as? [String] == ["ops@example.com", "care@example.com"])
        #expect(m.headers["To"]?.contains("Équipe Relation") == true)
        #expect(m.headers["Subject"] == "[expcards] PROBLEMS 1 expired, 3 expiring · MA-ENS 2026-11")
        #expect(m.headers["Date"] == "Sun, 01 Nov 2026 04:30:00 +0000")
        #expect(m.json["date"] as? String == "2026-11-01T04:30:00+00:00")
        #expect(m.headers["Message-ID"] == "<0123456789abcdef0123456789abcdef.expcards@host.example>")
        #expect(m.headers["MIME-Version"] == "1.0")
        #expect(m.json["ascii"] as? Bool == true, "7-bit clean: every relay takes it")
        #expect(m.maxLine <= 78)
        // The text alternative is the text report, whole.
        #expect(m.text == TextReport.render(r, color: false, mask: false))
        let csv = try #require(m.attachments.first)
        #expect(csv["filename"] as? String == "expiring-cards-MA-ENS-2026-11.csv")
        #expect(csv["disposition"] as? String == "attachment")
        #expect(csv["content"] as? String == CSVReport.render(r, dialect: .rfc4180, mask: false))
    }

    @Test func everyExpiredAndExpiringContactWholeInBothAlternatives() throws {
        for r in [Fixture.rich, Fixture.wide] {
            let m = try ParsedMail(MailReport.render(r, Self.options()))
            let joined = m.text.replacing(#/\n {4,}/#, with: "")
            for a in r.aliases where a.status != .later {
                #expect(joined.contains(a.email), "text: \(a.email)")
                #expect(m.html.contains(">" + htmlEscaped(displaySafe(a.email)) + "</a>"), "html: \(a.email)")
                #expect(m.html.contains(htmlEscaped(displaySafe(a.name))), "html: \(a.name)")
            }
            #expect(m.maxLine <= 78)
        }
    }

    @Test func htmlIsSelfContainedAndEscapesBuyersText() throws {
        var company = companyFile([
            "02;A1;<script>alert(1)</script> Lee;lee@x.fr;20180722;0", "02;A2;Ann \"Q\" & Co;ann@x.fr;20180701;0",
        ])
        company = company.replacingOccurrences(of: "\"Q\"", with: "'Q'")
        let r = buildReport([(Guide.companyName, Array(company.utf8))], options: .init(asOf: isoDay("2018-07-01")))
        let m = try ParsedMail(MailReport.render(r, Self.options()))
        #expect(!m.html.contains("<script"))
        #expect(m.html.contains("&lt;script&gt;alert(1)&lt;/script&gt; Lee"))
        #expect(m.html.contains("Ann &#39;Q&#39; &amp; Co"))
        #expect(m.html.contains("href=\"mailto:lee@x.fr\""))
        // Nothing to fetch: no URL but the mailto links.
        let urls = m.html.matches(of: #/(?i)(src|href|url)\s*[=(]\s*["']?([^"' >)]*)/#).map { String($0.output.2) }
        #expect(urls.allSatisfy { $0.hasPrefix("mailto:") }, "\(urls)")
        #expect(!m.html.contains("<img") && !m.html.contains("<link") && !m.html.contains("<style"))
    }

    /// The mail's HTML: the network's lists after the summary, closed before suspended, the
    /// renewals apart; the tables by status say the network's word; the text part is the text
    /// report and the attachment the CSV, both with the same reconciliation.
    @Test func theNetworksListsInEveryPart() throws {
        let r = Fixture.richNetwork
        let m = try ParsedMail(MailReport.render(r, Self.options()))
        #expect(m.defects.isEmpty, "\(m.defects)")
        #expect(m.text == TextReport.render(r, color: false, mask: false))
        #expect(m.attachments.first?["content"] as? String == CSVReport.render(r, dialect: .rfc4180, mask: false))
        let html = m.html
        func at(_ s: String) throws -> String.Index { try #require(html.range(of: s), "\(s)").lowerBound }
        let section = try at("NETWORK NOTIFICATIONS (ITN) · 4 of the files to contact, 1 renewed by the network")
        let first = try at("Contact first: suspended or closed by the network")
        let cancelled = try at("Alias cancelled while subscriptions remain")
        let renewed = try at("Renewed by the network: no action")
        let absent = try at("Not in this month's files, suspended or closed since 2026-10-01")
        let expired = try at("EXPIRED ·")
        #expect(section < first && first < cancelled && cancelled < renewed && renewed < absent && absent < expired)
        let contactList = html[first..<cancelled]
        let martin = try #require(contactList.range(of: Fixture.a5)).lowerBound
        let muller = try #require(contactList.range(of: Fixture.a2)).lowerBound
        #expect(martin < muller, "the closed account before the suspended card")
        #expect(contactList.contains("account CLOSED (token DELETED) on 2026-10-28, CB …1117"))
        #expect(html[renewed..<absent].contains(Fixture.a1))
        #expect(html[renewed..<absent].contains("card now expires 2029-10, VISA …4242"))
        #expect(html[absent..<expired].contains(Fixture.absentAlias))
        #expect(html[expired...].contains("renewed</span> → 2029-10: no action"))
        #expect(html[expired...].contains("SUSPENDED</span> on 2026-10-25"))
        // The subscriptions at risk say it too, under the card's expiry.
        let atRisk = try at("SUBSCRIPTIONS AT RISK")
        #expect(
            html[atRisk...].contains("2026-10-31<br><span style=\"color:#1b5e20;font-weight:bold;\">renewed</span>"))
        #expect(
            html[atRisk...].contains("2026-11-30<br><span style=\"color:#b71c1c;font-weight:bold;\">SUSPENDED</span>"))
        // Without a reconciliation, none of it.
        let bare = try ParsedMail(MailReport.render(Fixture.rich, Self.options())).html
        #expect(!bare.contains("NETWORK NOTIFICATIONS") && !bare.contains(">Network</th>"))
    }

    @Test func maskHoldsInEveryPart() throws {
        let r = Fixture.rich
        let message = MailReport.render(r, Self.options(mask: true))
        let m = try ParsedMail(message)
        let parts = [m.text, m.html] + m.attachments.map { $0["content"] as? String ?? "" }
        for a in r.aliases {
            for part in parts {
                #expect(!part.contains(a.email), "\(a.email)")
                #expect(!part.contains(a.name) || a.name.count < 3, "\(a.name)")
            }
        }
        #expect(m.html.contains("D. D."))
        #expect(!m.html.contains("mailto:"))
        #expect(m.text == TextReport.render(r, color: false, mask: true))
    }

    @Test func nonASCIISubjectIsEncoded() throws {
        var o = Self.options()
        o.subject = "Cartes expirées – Zoé et Élodie, un sujet assez long pour être plié sur plusieurs lignes"
        let message = MailReport.render(Fixture.rich, o)
        #expect(message.contains("Subject: =?utf-8?b?"))
        let m = try ParsedMail(message)
        #expect(m.headers["Subject"] == o.subject)
        #expect(m.defects.isEmpty)
        // A subject cannot add a header.
        o.subject = "hello\nBcc: evil@example.com"
        let injected = try ParsedMail(MailReport.render(Fixture.rich, o))
        #expect(injected.headers["Subject"] == "hello Bcc: evil@example.com")
    }

    @Test func boundedSizes() throws {
        let r = Fixture.rich
        let csv = CSVReport.render(r, dialect: .rfc4180, mask: false)
        // Past the HTML row limit, and past the attachment limit: gzip.
        var o = Self.options()
        o.limits.htmlRows = 2
        o.limits.attachmentBytes = csv.utf8.count - 1
        let m = try ParsedMail(MailReport.render(r, o))
        #expect(m.defects.isEmpty)
        #expect(m.html.contains("more expiring cards not shown here"), "\(m.html)")
        #expect(m.html.contains("more subscriptions at risk not shown here"))
        let gz = try #require(m.attachments.first)
        #expect(gz["type"] as? String == "application/gzip")
        #expect(gz["filename"] as? String == "expiring-cards-MA-ENS-2026-11.csv.gz")
        #expect(gz["content"] as? String == csv)
        // Too large even compressed: a note with the command that rebuilds it.
        o.limits.attachmentBytes = 100
        o.rebuildCommand = "expcards report --format csv --month 2026-11"
        let n = try ParsedMail(MailReport.render(r, o))
        #expect(n.shape == "multipart/mixed(multipart/alternative(text/plain, text/html), text/plain)")
        let leaves = n.json["leaves"] as? [[String: Any]] ?? []
        #expect(
            (leaves.last?["content"] as? String)?.contains("expcards report --format csv --month 2026-11") == true,
            "\(leaves)")
        #expect(n.html.contains("<code>expcards report --format csv --month 2026-11</code>"))
        // The text alternative cut at a line end.
        o.limits.textBytes = 500
        let t = try ParsedMail(MailReport.render(r, o))
        #expect(t.text.contains("[The text report stops here:"))
        #expect(t.text.utf8.count < 700)
    }

    @Test func quotedPrintableEdges() {
        var out: [UInt8] = []
        MIMEEncoding.quotedPrintable(
            Array("From here\n.\ntrailing \nx=y é\n".utf8) + Array(repeating: 0x61, count: 200), into: &out)
        let s = String(decoding: out, as: UTF8.self)
        #expect(s.hasPrefix("=46rom here\n=2E\ntrailing=20\nx=3Dy =C3=A9\n"))
        #expect(s.split(separator: "\n").allSatisfy { $0.utf8.count <= 76 })
    }

    @Test func rfc5322Dates() {
        #expect(MailDate.format(secondsSinceEpoch: 0) == "Thu, 01 Jan 1970 00:00:00 +0000")
        #expect(MailDate.format(secondsSinceEpoch: 1_709_164_799) == "Wed, 28 Feb 2024 23:59:59 +0000")
        #expect(MailDate.format(secondsSinceEpoch: 1_709_164_800) == "Thu, 29 Feb 2024 00:00:00 +0000")
    }

    @Test func addresses() {
        #expect(MailAddress("ops@example.com")?.address == "ops@example.com")
        #expect(MailAddress("Ops <ops@example.com>")?.displayName == "Ops")
        #expect(MailAddress("no-at-sign") == nil)
        #expect(MailAddress("a@b.c\r\nBcc: x@y") == nil)
        #expect(MailAddress("a b@c.d") == nil)
    }
}
