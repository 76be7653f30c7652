import Foundation
import Testing

@testable import ExpCardsCore

// Golden files live in Tests/ExpCardsCoreTests/Report/Golden/ and are found through #filePath (no
// SwiftPM resources). Any byte difference fails. After an intended change, regenerate them with
//
//     EXPCARDS_UPDATE_GOLDEN=1 swift test --filter Report
//
// then read the diff (`git diff Tests/ExpCardsCoreTests/Report/Golden`) before committing it.

enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static var updating: Bool { ProcessInfo.processInfo.environment["EXPCARDS_UPDATE_GOLDEN"] == "1" }

    static func check(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = directory.appendingPathComponent(name)
        let bytes = Data(actual.utf8)
        if updating {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try bytes.write(to: url)
            return
        }
        guard let expected = FileManager.default.contents(atPath: url.path) else {
            Issue.record(
                "missing golden file \(name): run with EXPCARDS_UPDATE_GOLDEN=1", sourceLocation: sourceLocation)
            return
        }
        if expected != bytes {
            let a = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            let e = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            let i = Array(zip(a, e)).firstIndex { $0 != $1 } ?? min(a.count, e.count)
            Issue.record(
                """
                \(name) differs from its golden file (\(bytes.count) vs \(expected.count) bytes), first at line \(i + 1):
                  expected: \(i < e.count ? String(reflecting: String(e[i])) : "end of file")
                  actual:   \(i < a.count ? String(reflecting: String(a[i])) : "end of file")
                """, sourceLocation: sourceLocation)
        }
    }
}

/// Builds a report from in-memory files as `ReportBuilder.build` does: company file first.
func buildReport(
    _ files: [(name: String, bytes: [UInt8])], options: ExpiryReport.Options, environment: Environment? = nil,
    month: YearMonth? = nil, excluded: [ExpiryReport.Excluded] = []
) -> ExpiryReport {
    var builder = ReportBuilder(options: options)
    let bytes = Dictionary(uniqueKeysWithValues: files.map { ($0.name, $0.bytes) })
    for f in ReportBuilder.readingOrder(files.map { ($0.name, ExpCardsFileName($0.name)!) }) {
        builder.add(bytes[f.path]!, name: f.path)
    }
    var report = builder.finish()
    report.environment = environment
    report.month = month
    report.excluded = excluded
    return report
}

func isoDay(_ iso: String) -> Day { Day(iso: iso)! }

/// The reports the golden files show.
enum Fixture {
    /// The guide's two examples, read on the 1st of the next month.
    static var guide: ExpiryReport {
        buildReport(
            [(Guide.companyName, Array(Guide.company.utf8)), (Guide.shopName, Array(Guide.shop.utf8))],
            options: .init(asOf: isoDay("2018-07-01")), environment: .production, month: YearMonth("2018-06"))
    }

    static let companyName = "202611.EXP_CARDS.MA-ENS.P.csv"
    static let shopAName = "202611.12345678.EXP_CARDS.BOUTIQUE-A.P.csv"
    static let shopBName = "202611.87654321.EXP_CARDS.BOUTIQUE-B.P.csv"

    static let a1 = "a1d00000000000000000000000dupont"
    static let a2 = "a2m00000000000000000000000muller"
    static let a3 = "a3f0000000000000000000000formula"
    static let a4 = "a4k0000000000000000000000000kant"
    static let a5 = "a5m00000000000000000000000martin"

    /// Unquoted, with a Latin-1 name (É, ü as single bytes) and an ESC in another.
    static var company: [UInt8] {
        var b: [UInt8] = []
        func add(_ s: String) { b += Array(s.utf8) }
        add("00;EXP_CARDS;P;20261101;040000\r\n")
        add("02;\(a1);Dupont Durant;durant@e-mail.com;20261031;1\r\n")
        add("02;\(a2);")
        b += [0xC9] + Array("lodie M".utf8) + [0xFC] + Array("ller".utf8)
        add(";elodie.muller@exemple.fr;20261130;2\r\n")
        add("02;\(a3);\"=HYPERLINK(\"\"http://evil.example\"\")\";+33612345678@sms.example;20261231;1\r\n")
        add("02;\(a4);Axel\u{1B}[31m Kant;kant@e-mail.com;20270630;1\r\n")
        add("01;4;20261101;040000\r\n")
        return b
    }

    static func q(_ fields: [String]) -> String {
        fields.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ";")
    }

    static var shopA: [UInt8] {
        Array(
            ([
                q(["00", "EXP_CARDS", "P", "12345678", "20261101", "040100"]),
                // The e-mail's case and the expiry disagree with the company file.
                q([
                    "02", a1, "Dupont Durant", "Durant@e-mail.com", "20261130", "SUB-A1", "10/24",
                    "RRULE:FREQ=MONTHLY;COUNT=24;BYMONTHDAY=15", "20260115", "2000", "", "0",
                ]),
                // An initial amount for the first 3 charges, two of them after the expiry.
                q([
                    "02", a2, "Élodie Müller", "elodie.muller@exemple.fr", "20261130", "SUB-A2", "0/12",
                    "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=12", "20261101", "1500", "990", "3",
                ]),
                q(["01", "2", "2", "20261101", "040100"]),
            ].joined(separator: "\n") + "\n").utf8)
    }

    static var shopB: [UInt8] {
        Array(
            ([
                q(["00", "EXP_CARDS", "P", "87654321", "20261101", "040200"]),
                q([
                    "02", a2, "Élodie Müller", "elodie.muller@exemple.fr", "20261130", "SUB-B2", "1",
                    "FREQ=HOURLY;INTERVAL=6", "20261001", "500", "", "0",
                ]),
                // Finished before the expiry: nothing at risk.
                q([
                    "02", a3, "=HYPERLINK(\"http://evil.example\")", "+33612345678@sms.example", "20261231", "SUB-B3",
                    "3/3", "FREQ=MONTHLY;COUNT=3;BYMONTHDAY=5", "20260101", "4900", "", "0",
                ]),
                // Only in this shop file; expires on D + 2 months exactly.
                q([
                    "02", a5, "Zoé Martin", "zoe@exemple.fr", "20270101", "SUB-B5", "7", "FREQ=WEEKLY;BYDAY=MO",
                    "20260907", "500", "", "0",
                ]),
                q([
                    "02", "a6bad", "Bad Date", "bad@exemple.fr", "20261331", "SUB-B6", "1", "FREQ=WEEKLY", "20260907",
                    "500", "", "0",
                ]),
                q(["01", "4", "4", "20261101", "040200"]),
            ].joined(separator: "\n") + "\n").utf8)
    }

    static var rich: ExpiryReport {
        var options = ExpiryReport.Options(asOf: isoDay("2026-11-01"))
        options.shopCurrencies["87654321"] = Currency(code: "CHF")!
        return buildReport(
            [(shopBName, shopB), (companyName, company), (shopAName, shopA)], options: options,
            environment: .production, month: YearMonth("2026-11"),
            excluded: [
                .init(path: "archive/ROOT/expired/202611.EXP_CARDS.MA-ENS.T.csv", reason: "test environment"),
                .init(path: "archive/ROOT/expired/notes.txt", reason: "not an EXP_CARDS file name"),
            ])
    }

    /// Long names, e-mails, aliases and many shops: the 100-column limit under stress.
    static var wide: ExpiryReport {
        let long = String(repeating: "Wolfeschlegelsteinhausenbergerdorff ", count: 3)
        var details: [String] = []
        var shopDetails: [String] = []
        for i in 0..<3 {
            let alias = String(repeating: "z", count: 45) + "\(i)"
            details.append(
                "02;\(alias);\(long)\(i);\(String(repeating: "x", count: 90))\(i)@\(String(repeating: "d", count: 30)).com;2026121\(i);1"
            )
            shopDetails.append(
                q([
                    "02", alias, "\(long)\(i)", "y\(i)@e.com", "2026121\(i)",
                    String(repeating: "S", count: 49) + "\(i)", "1/3",
                    "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=12", "20261101", "123456789012", "", "0",
                ]))
        }
        let company =
            (["00;EXP_CARDS;P;20261101;040000"] + details + ["01;3;20261101;040000"]).joined(separator: "\n") + "\n"
        var files: [(String, [UInt8])] = [(companyName, Array(company.utf8))]
        for shop in ["11111111", "22222222", "33333333"] {
            let text =
                ([q(["00", "EXP_CARDS", "P", shop, "20261101", "040000"])] + shopDetails
                + [q(["01", "3", "3", "20261101", "040000"])]).joined(separator: "\n") + "\n"
            files.append(("202611.\(shop).EXP_CARDS.\(String(repeating: "L", count: 60)).P.csv", Array(text.utf8)))
        }
        return buildReport(
            files, options: .init(asOf: isoDay("2026-11-01")), environment: .production, month: YearMonth("2026-11"))
    }
}

@Suite("Report rendering")
struct ReportRenderingTests {
    // MARK: Golden files

    @Test func guideText() throws {
        try Golden.check(TextReport.render(Fixture.guide, color: false, mask: false), "guide.txt")
    }
    @Test func guideCSV() throws {
        try Golden.check(CSVReport.render(Fixture.guide, dialect: .rfc4180, mask: false), "guide.csv")
    }
    @Test func guideJSON() throws { try Golden.check(try JSONReport.render(Fixture.guide, mask: false), "guide.json") }

    @Test func richText() throws {
        try Golden.check(TextReport.render(Fixture.rich, color: false, mask: false), "rich.txt")
    }
    @Test func richTextColor() throws {
        try Golden.check(TextReport.render(Fixture.rich, color: true, mask: false), "rich-color.txt")
    }
    @Test func richTextMasked() throws {
        try Golden.check(TextReport.render(Fixture.rich, color: false, mask: true), "rich-masked.txt")
    }
    @Test func richCSV() throws {
        try Golden.check(CSVReport.render(Fixture.rich, dialect: .rfc4180, mask: false), "rich.csv")
    }
    @Test func richCSVExcelFR() throws {
        try Golden.check(CSVReport.render(Fixture.rich, dialect: .excelFR, mask: false), "rich-excel-fr.csv")
    }
    @Test func richCSVMasked() throws {
        try Golden.check(CSVReport.render(Fixture.rich, dialect: .rfc4180, mask: true), "rich-masked.csv")
    }
    @Test func richJSON() throws { try Golden.check(try JSONReport.render(Fixture.rich, mask: false), "rich.json") }
    @Test func richJSONMasked() throws {
        try Golden.check(try JSONReport.render(Fixture.rich, mask: true), "rich-masked.json")
    }
    @Test func wideText() throws {
        try Golden.check(TextReport.render(Fixture.wide, color: false, mask: false), "wide.txt")
    }

    // MARK: Text

    @Test(arguments: [false, true])
    func textLinesFitIn100Columns(mask: Bool) {
        for report in [Fixture.guide, Fixture.rich, Fixture.wide] {
            let text = TextReport.render(report, color: false, mask: mask)
            #expect(text.hasSuffix("\n"))
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                #expect(displayWidth(String(line)) <= 100, "\(line)")
            }
        }
    }

    /// Lines joined back: a name broken at spaces reads with a space, an e-mail or alias cut into
    /// pieces (longer than a whole line) with nothing.
    static func unwrapped(_ text: String, joiner: String) -> String {
        text.replacing(#/\n {4,}/#, with: joiner)
    }

    @Test(arguments: [false, true])
    func textCutsNoContactDetail(mask: Bool) {
        for report in [Fixture.guide, Fixture.rich, Fixture.wide] {
            let text = TextReport.render(report, color: false, mask: mask)
            // Warnings quote excerpts of what they compare; the cards and subscriptions cut nothing.
            let cards = text.components(separatedBy: "FILES READ")[0]
            if !mask { #expect(!cards.contains("…"), "\(cards)") }
            let spaced = Self.unwrapped(text, joiner: " ")
            let joined = Self.unwrapped(text, joiner: "")
            for a in report.aliases {
                let name = displaySafe(mask ? Masking.name(a.name) : a.name)
                let email = displaySafe(mask ? Masking.email(a.email) : a.email)
                #expect(spaced.contains(name), "name \(name)")
                #expect(joined.contains(email), "e-mail \(email)")
                #expect(joined.contains(a.alias), "alias \(a.alias)")
            }
            for s in report.subscriptions where s.risk.firstChargeAfterExpiry != nil || !s.risk.isScheduleKnown {
                #expect(text.contains(s.subscriptionId), "subscription \(s.subscriptionId)")
                #expect(spaced.contains(displaySafe(mask ? Masking.name(s.name) : s.name)), "name \(s.name)")
            }
        }
    }

    @Test func colorOnlyWhenAsked() {
        let plain = TextReport.render(Fixture.rich, color: false, mask: false)
        let colored = TextReport.render(Fixture.rich, color: true, mask: false)
        #expect(!plain.contains("\u{1B}"))
        #expect(colored.contains("\u{1B}[31m2026-10-31\u{1B}[0m"))  // expired: red
        #expect(colored.contains("\u{1B}[38;5;208m2026-11-30\u{1B}[0m"))  // expiring: orange
        // Without its escape codes, the coloured report is the plain one.
        let stripped = colored.replacing(#/\x1B\[[0-9;]*m/#, with: "")
        #expect(stripped == plain)
    }

    @Test func textNeverHoldsRawControlCharacters() {
        for mask in [false, true] {
            let text = TextReport.render(Fixture.rich, color: false, mask: mask)
            let bad = text.unicodeScalars.filter { $0 != "\n" && needsEscape($0) }
            #expect(bad.isEmpty, "\(bad.map { String($0.value, radix: 16) })")
        }
        let text = TextReport.render(Fixture.rich, color: false, mask: false)
        #expect(text.contains(#"Axel\x1B["#))
        #expect(text.contains("Élodie Müller"))
    }

    @Test func verdicts() {
        #expect(
            TextReport.render(Fixture.guide, color: false, mask: false).hasPrefix(
                "PROBLEMS: 1 file with 1 problem · 1 expired, 2 expiring within 2 months · EUR 200.00 at risk\n"))
        // A clean company file alone.
        let clean = buildReport(
            [(Guide.companyName, Array(companyFile(["02;A;Ann Lee;ann@x.fr;20180722;0"]).utf8))],
            options: .init(asOf: isoDay("2018-07-01")))
        #expect(
            TextReport.render(clean, color: false, mask: false).hasPrefix(
                "OK · 0 expired, 1 expiring within 2 months\n"))
        // Warnings only.
        let warned = buildReport(
            [
                (
                    Guide.companyName,
                    Array(companyFile(["02;A;Ann Lee;ann@x.fr;20180722;0", "02;A;Ann Lee;ann@x.fr;20180722;0"]).utf8)
                )
            ],
            options: .init(asOf: isoDay("2018-07-01")))
        #expect(
            TextReport.render(warned, color: false, mask: false).hasPrefix(
                "WARNING: 1 warning · 0 expired, 1 expiring within 2 months\n"))
        var zero = ExpiryReport.Options(asOf: isoDay("2018-07-22"))
        zero.thresholdMonths = 0
        let today = buildReport(
            [(Guide.companyName, Array(companyFile(["02;A;Ann Lee;ann@x.fr;20180722;0"]).utf8))], options: zero)
        #expect(
            TextReport.render(today, color: false, mask: false).hasPrefix("OK · 0 expired, 1 expiring on 2018-07-22\n"))
    }

    @Test func emptyReportRenders() throws {
        let empty = ExpiryReport(options: .init(asOf: isoDay("2026-11-01")))
        let text = TextReport.render(empty, color: false, mask: false)
        #expect(text.hasPrefix("OK · 0 expired, 0 expiring within 2 months\n"))
        #expect(text.contains("EXPIRED · none expired before 2026-11-01"))
        #expect(text.contains("SUBSCRIPTIONS AT RISK · none (no shop file read)"))
        #expect(
            CSVReport.render(empty, dialect: .rfc4180, mask: false) == CSVReport.columns.joined(separator: ",") + "\r\n"
        )
        let json =
            try JSONSerialization.jsonObject(with: Data(try JSONReport.render(empty, mask: false).utf8))
            as! [String: Any]
        #expect(json["month"] is NSNull)
        #expect((json["aliases"] as! [Any]).isEmpty)
    }

    // MARK: CSV

    /// A strict RFC 4180 reader, to check what a spreadsheet would see.
    static func readCSV(_ text: String, separator: Character = ",") -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var cell = ""
        var quoted = false
        var chars = Array(text)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" {
                        cell.append("\"")
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    cell.append(c)
                }
            } else if c == "\"" && cell.isEmpty {
                quoted = true
            } else if c == separator {
                row.append(cell)
                cell = ""
            } else if c == "\r\n" {
                row.append(cell)
                rows.append(row)
                row = []
                cell = ""
            } else {
                #expect(c != "\n" && c != "\r" && c != "\"", "bare \(c) in an unquoted cell")
                cell.append(c)
            }
            i += 1
        }
        #expect(row.isEmpty && cell.isEmpty, "the last line must end with CRLF")
        return rows
    }

    @Test(arguments: [CSVReport.Dialect.rfc4180, .excelFR])
    func csvRows(dialect: CSVReport.Dialect) {
        let text = CSVReport.render(Fixture.rich, dialect: dialect, mask: false)
        #expect(text.hasPrefix("\u{FEFF}") == (dialect == .excelFR))
        let rows = Self.readCSV(text, separator: dialect == .excelFR ? ";" : ",")
        #expect(rows.first == CSVReport.columns)
        #expect(rows.allSatisfy { $0.count == CSVReport.columns.count })
        // a1, a2 ×2, a3, a5: subscriptions; a4: one row without.
        #expect(rows.count == 1 + 5 + 1)
        let byAlias = Dictionary(grouping: rows.dropFirst(), by: { $0[2] })
        #expect(byAlias[Fixture.a4]?.count == 1 && byAlias[Fixture.a4]?[0][7] == "")
        #expect(byAlias[Fixture.a2]?.count == 2)
        let a3 = byAlias[Fixture.a3]![0]
        #expect(a3[3] == #"'=HYPERLINK("http://evil.example")"#)
        #expect(a3[4] == "'+33612345678@sms.example")
        #expect(byAlias[Fixture.a4]![0][3] == #"Axel\x1B[31m Kant"#)
        let a2 = byAlias[Fixture.a2]!.first { $0[8] == "SUB-A2" }!
        #expect(a2[13] == (dialect == .excelFR ? "15,00" : "15.00"))
        #expect(a2[14] == (dialect == .excelFR ? "9,90" : "9.90"))
        #expect(a2[19] == (dialect == .excelFR ? "154,80" : "154.80"))
        let b2 = byAlias[Fixture.a2]!.first { $0[8] == "SUB-B2" }!
        #expect(b2[12] == "CHF" && b2[17] == "" && b2[19] == "" && b2[20].hasPrefix("unsupported rule"))
    }

    @Test(arguments: ["=1+1", "+1", "-1", "@SUM(A1)"])
    func csvNeutralisesFormulas(cell: String) {
        #expect(CSVReport.text(cell) == "'" + cell)
    }

    @Test func csvEscapesControlsBeforeAnySpreadsheetSeesThem() {
        // A leading tab or CR is escaped to `\t` / `\r`: no longer a formula lead-in.
        #expect(CSVReport.text("\t=1") == #"\t=1"#)
        #expect(CSVReport.text("\r=1") == #"\r=1"#)
        #expect(CSVReport.text("a\u{1B}b\u{202E}c") == #"a\x1Bb\u{202E}c"#)
        #expect(CSVReport.text("Zoé") == "Zoé")
    }

    @Test func csvQuotesOnlyWhenNeeded() {
        #expect(CSVReport.quoted("plain", separator: ",") == "plain")
        #expect(CSVReport.quoted("a,b", separator: ",") == "\"a,b\"")
        #expect(CSVReport.quoted("a,b", separator: ";") == "a,b")
        #expect(CSVReport.quoted("say \"hi\"", separator: ",") == "\"say \"\"hi\"\"\"")
    }

    /// A reader splits on bytes: a separator or quote followed by a combining mark (one Swift
    /// Character with it) is still quoted or doubled, so no cell can end early and start with `=`.
    @Test func csvQuotesSeparatorsAndQuotesFollowedByCombiningMarks() {
        #expect(Array(CSVReport.quoted("a,\u{301}b", separator: ",").utf8) == Array("\"a,\u{301}b\"".utf8))
        #expect(Array(CSVReport.quoted("a;\u{301}b", separator: ";").utf8) == Array("\"a;\u{301}b\"".utf8))
        #expect(Array(CSVReport.quoted("a\"\u{301},=1+2", separator: ",").utf8) == Array("\"a\"\"\u{301},=1+2\"".utf8))
        var bytes: [UInt8] = []
        let collect = ByteOutput { bytes += $0 }
        Array("a\"\u{301},=1+2".utf8).withUnsafeBytes {
            CSVReport.textCell($0, separator: UInt8(ascii: ","), to: collect)
        }
        collect.flush()
        #expect(bytes == Array("\"a\"\"\u{301},=1+2\"".utf8))
    }

    // MARK: JSON

    @Test func jsonShape() throws {
        let text = try JSONReport.render(Fixture.rich, mask: false)
        #expect(text.hasSuffix("}\n"))
        let o = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect(o["version"] as? Int == 1)
        #expect(o["asOf"] as? String == "2026-11-01")
        #expect(o["thresholdMonths"] as? Int == 2)
        #expect(o["month"] as? String == "2026-11")
        #expect(o["environment"] as? String == "production")
        #expect((o["files"] as! [Any]).count == 3)
        let summary = o["summary"] as! [String: [String: Any]]
        #expect(Set(summary.keys) == ["expired", "expiring", "later"])
        #expect(summary["expiring"]!["amountAtRisk"] as? [String: Int] == ["CHF": 22000, "EUR": 15480])
        let aliases = o["aliases"] as! [[String: Any]]
        #expect(aliases.map { $0["alias"] as! String } == [Fixture.a1, Fixture.a2, Fixture.a3, Fixture.a5, Fixture.a4])
        let a5 = aliases[3]
        #expect(a5["recurrences"] is NSNull)
        #expect(a5["shops"] as? [String] == ["87654321"])
        #expect(aliases[1]["name"] as? String == "Élodie Müller")
        let subs = o["subscriptions"] as! [[String: Any]]
        let keys: Set<String> = [
            "shopId", "alias", "subscriptionId", "expiry", "status", "rule", "effectDate", "recurrenceCounter",
            "amount",
            "initialAmount", "initialCount", "currency", "nextCharge", "firstChargeAfterExpiry", "chargesAtRisk",
            "amountAtRisk", "scheduleUnknown",
        ]
        #expect(subs.allSatisfy { Set($0.keys) == keys })
        let unknown = subs.first { $0["subscriptionId"] as? String == "SUB-B2" }!
        for k in ["nextCharge", "firstChargeAfterExpiry", "chargesAtRisk", "amountAtRisk", "initialAmount"] {
            #expect(unknown[k] is NSNull, "\(k)")
        }
        #expect((unknown["scheduleUnknown"] as? String)?.hasPrefix("unsupported rule") == true)
        let a2 = subs.first { $0["subscriptionId"] as? String == "SUB-A2" }!
        #expect(
            a2["initialAmount"] as? Int == 990 && a2["chargesAtRisk"] as? Int == 11
                && a2["amountAtRisk"] as? Int == 15480)
        let finished = subs.first { $0["subscriptionId"] as? String == "SUB-B3" }!
        #expect(finished["nextCharge"] is NSNull && finished["chargesAtRisk"] as? Int == 0)
        #expect(
            (o["excluded"] as! [[String: String]]).first == [
                "path": "archive/ROOT/expired/202611.EXP_CARDS.MA-ENS.T.csv", "reason": "test environment",
            ])
        #expect((o["warnings"] as! [String]).count == Fixture.rich.warnings.count)
    }

    @Test func jsonEscapesDisplayControls() throws {
        var out: [UInt8] = []
        let writer = JSONWriter { out += $0 }
        writer.raw("{\"n\": ")
        writer.string("a\u{202E}b\u{85}c\u{7F}é")
        writer.raw("}")
        writer.finish()
        #expect(String(decoding: out, as: UTF8.self) == #"{"n": "a\u202eb\u0085c\u007fé"}"#)
        let text = try JSONReport.render(Fixture.rich, mask: false)
        #expect(!text.unicodeScalars.contains { $0 != "\n" && needsEscape($0) })
        #expect(text.contains(#""Axel\u001b[31m Kant""#))
    }

    // MARK: Masking

    @Test(arguments: [
        ("Dupont Durant", "D. D."), ("Jean-Pierre  Martin", "J.-P. M."), ("Élodie", "É."), ("", ""), ("=cmd", "=."),
    ])
    func maskedNames(name: String, masked: String) { #expect(Masking.name(name) == masked) }

    @Test(arguments: [
        ("durant@e-mail.com", "d…@e-mail.com"), ("Durant@e-mail.com", "D…@e-mail.com"), ("no-at-sign", "n…"),
        ("", ""), ("@x.fr", "@x.fr"), ("a@b@c.fr", "a…@c.fr"),
    ])
    func maskedEmails(email: String, masked: String) { #expect(Masking.email(email) == masked) }

    @Test func maskingHidesEveryNameAndEmail() throws {
        let r = Fixture.rich
        let outputs = [
            TextReport.render(r, color: false, mask: true), CSVReport.render(r, dialect: .rfc4180, mask: true),
            try JSONReport.render(r, mask: true),
        ]
        for out in outputs {
            for secret in [
                "Dupont", "Durant", "durant@", "lodie", "Müller", "elodie.muller", "Kant", "kant@", "Zoé", "zoe@",
                "HYPERLINK", "33612345678",
            ] {
                #expect(!out.contains(secret), "\(secret)")
            }
        }
        #expect(outputs[0].contains("D. D."))
        #expect(outputs[0].contains("d…@e-mail.com"))
    }

    @Test func maskingWarningsAndProblems() {
        let w = ReportWarning.contactsDiffer(
            place: "f.csv:2", alias: "X", found: .init(name: "Dupont Durant", email: "Durant@e-mail.com"),
            known: .init(name: "Ann\u{1} Lee", email: "ann@x.fr"), origin: "c.csv:3",
            outcome: "the company file's are kept")
        #expect(
            w.text(masked: false)
                == #"f.csv:2: alias X: name/e-mail "Dupont Durant" <"Durant@e-mail.com"> differ from "Ann\x01 Lee" <"ann@x.fr"> at c.csv:3; the company file's are kept"#
        )
        #expect(
            w.text(masked: true)
                == #"f.csv:2: alias X: name/e-mail "D. D." <"D…@e-mail.com"> differ from "A. L." <"a…@x.fr"> at c.csv:3; the company file's are kept"#
        )
        // A long name is masked as far as an unmasked report quotes it.
        let long = String(repeating: "Ab ", count: 30) + "Zed"
        let cut = ReportWarning.contactsDiffer(
            place: "f", alias: "X", found: .init(name: long, email: "a@x"), known: .init(name: "B", email: "b@x"),
            origin: "c",
            outcome: "kept")
        #expect(
            cut.text(masked: true).hasPrefix(
                #"f: alias X: name/e-mail ""# + Array(repeating: "A.", count: 20).joined(separator: " ") + #"" <"#))
        #expect(
            ReportWarning.other("alias X: expiry 2026-01-01 differs").text(masked: true)
                == "alias X: expiry 2026-01-01 differs")
        let p = Problem(
            file: "f", line: 2, field: 3, fieldName: "cardholder name", expected: "x",
            found: #""Dupont \"D\" Durant"… (300 bytes)"#)
        #expect(Masking.problem(p).found == #""D. \". D.""#)
        let other = Problem(file: "f", line: 2, field: 5, fieldName: "expiry date", expected: "x", found: #""2018""#)
        #expect(Masking.problem(other) == other)
    }

    // MARK: Determinism

    @Test func sameFilesSameBytes() throws {
        // Built twice, with the shop files handed over in another order: identical output.
        let a = Fixture.rich
        var options = ExpiryReport.Options(asOf: isoDay("2026-11-01"))
        options.shopCurrencies["87654321"] = Currency(code: "CHF")!
        var builder = ReportBuilder(options: options)
        for (name, bytes) in [
            (Fixture.companyName, Fixture.company), (Fixture.shopAName, Fixture.shopA),
            (Fixture.shopBName, Fixture.shopB),
        ] {
            builder.add(bytes, name: name)
        }
        var b = builder.finish()
        b.environment = a.environment
        b.month = a.month
        b.excluded = a.excluded
        for color in [false, true] {
            #expect(TextReport.render(a, color: color, mask: false) == TextReport.render(b, color: color, mask: false))
        }
        #expect(
            CSVReport.render(a, dialect: .rfc4180, mask: false) == CSVReport.render(b, dialect: .rfc4180, mask: false))
        #expect(try JSONReport.render(a, mask: false) == JSONReport.render(b, mask: false))
    }

    // MARK: Display helpers

    @Test func displaySafeEscapesControlsOnly() {
        #expect(displaySafe("Zoé \"Z\" \\ Martin") == "Zoé \"Z\" \\ Martin")
        #expect(
            displaySafe("a\u{1B}[2Jb\u{7}c\u{9B}d\u{202E}e\u{200F}f\tg") == #"a\x1B[2Jb\x07c\x9Bd\u{202E}e\u{200F}f\tg"#
        )
    }

    @Test func truncationAndWrapping() {
        #expect(truncated("abcdef", to: 4) == "abc…")
        #expect(truncated("abc", to: 4) == "abc")
        #expect(displayWidth("日本") == 4)
        #expect(truncated("日本語", to: 5) == "日本…")
        // Emoji (by default or with U+FE0F) take two columns; format characters none.
        #expect(displayWidth("🚀☕🪐") == 6)
        #expect(displayWidth("\u{2764}\u{FE0F}") == 2 && displayWidth("\u{2764}") == 1)
        #expect(displayWidth("a\u{200B}b\u{2060}c") == 3)
        #expect(
            displayWidth("\u{A9}\u{FE0F}") == 2 && displayWidth("1\u{FE0F}\u{20E3}") == 2 && displayWidth("\u{A9}") == 1
        )
        #expect(displayWidth("\u{2615}\u{FE0E}") == 1)
        #expect(displayWidth("\u{0600}1") == 1)
        #expect(displayWidth("Zoé Lefe\u{300}vre") == 11)
        #expect(displayWidth(String(repeating: "🚀", count: 20)) == 40)
        #expect(truncated(String(repeating: "🚀", count: 20), to: 9) == "🚀🚀🚀🚀…")
        #expect(padded("ab", to: 4) == "ab  ")
        #expect(wrapped("aaa bbb ccc", width: 9, firstIndent: "  ", indent: "    ") == ["  aaa bbb", "    ccc"])
        #expect(
            wrapped(String(repeating: "x", count: 12), width: 6, firstIndent: "", indent: "  ") == [
                "xxxxxx", "  xxxx", "  xx",
            ])
        #expect(wrapped("", width: 9, firstIndent: "  ", indent: "  ") == ["  "])
    }
}
