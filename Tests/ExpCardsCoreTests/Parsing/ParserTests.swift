import Foundation
import Testing

@testable import ExpCardsCore

@Suite struct GuideExampleTests {
    @Test func companyExampleReportsItsWrongTrailerCount() throws {
        let r = parse(Guide.company)
        #expect(r.companyDetails.count == 2)
        #expect(
            r.file.header
                == Header(
                    environment: .test, shopId: nil, created: Day(year: 2018, month: 6, day: 22)!,
                    createdTime: TimeOfDay(hour: 16, minute: 26, second: 39)!))
        #expect(r.file.trailer?.detailCount == 6)
        // The guide's trailer says 6 for 2 details: a damaged file, never passed off as clean.
        #expect(r.places == ["4:2"])
        #expect(r.problems[0].message.contains("expected 2"))
        #expect(r.problems[0].found?.contains("6") == true)
        let first = try #require(r.companyDetails.first)
        #expect(first.alias == "0cbb70b8f9634f2ebdb10674a8e3af4f")
        #expect(first.name == "Dupont Durant")
        #expect(first.email == "Durant@e-mail.com")
        #expect(first.expiry == Day(year: 2018, month: 7, day: 22))
        #expect(first.recurrences == 0)
        #expect(first.line == 2)
    }

    @Test func shopExampleIsClean() throws {
        let r = parse(Guide.shop, name: Guide.shopName)
        #expect(r.problems.isEmpty)
        #expect(r.file.warnings.isEmpty)
        #expect(r.file.header?.shopId == "87654321")
        #expect(r.file.header?.environment == .production)
        #expect(
            r.file.trailer
                == Trailer(
                    detailCount: 1, aliasCount: 1, ended: Day(year: 2018, month: 6, day: 22)!,
                    endedTime: TimeOfDay(hour: 16, minute: 24, second: 16)!))
        let d = try #require(r.shopDetails.first)
        #expect(d.subscriptionId == "REC_91ca494b80d338a67ef06f3450b845cf")
        #expect(d.recurrenceCounter == "0/12")
        #expect(d.rule == "RRULE:FREQ=MONTHLY;COUNT=12;BYMONTHDAY=15")
        #expect(d.effectDate == Day(year: 2018, month: 5, day: 1))
        #expect(d.amount == 2000)
        #expect(d.initialAmount == nil)
        #expect(d.initialCount == 0)
    }

    @Test func gzippedExamplesReadTheSameAsPlain() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, text) in [(Guide.companyName, Guide.company), (Guide.shopName, Guide.shop)] {
            let plain = dir.appendingPathComponent(name)
            try Data(text.utf8).write(to: plain)
            let p = ExpCardsParser.parse(path: plain.path)
            #expect(try runProcess("/bin/gzip", ["-k", plain.path]).status == 0)
            var details: [Detail] = []
            let z = ExpCardsParser.parse(path: plain.path + ".gz") { details.append($0) }
            #expect(z.compressed)
            #expect(!p.compressed)
            #expect(z.problems.map(\.message) == p.problems.map(\.message))
            #expect(z.header == p.header)
            #expect(z.trailer == p.trailer)
            #expect(z.detailRecords == p.detailRecords)
            #expect(details.count == p.validDetails)
        }
    }

    @Test func truncatedGzipIsAProblem() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent(Guide.shopName)
        try Data(Guide.shop.utf8).write(to: plain)
        try runProcess("/bin/gzip", [plain.path])
        let gz = plain.path + ".gz"
        let data = try Data(contentsOf: URL(fileURLWithPath: gz))
        try data.prefix(data.count - 10).write(to: URL(fileURLWithPath: gz))
        let r = ExpCardsParser.parse(path: gz)
        #expect(r.problems.contains { $0.message.contains("gzip") })
        // Garbage after the gzip stream is a problem too, never silently ignored.
        try (data + Data("junk".utf8)).write(to: URL(fileURLWithPath: gz))
        #expect(ExpCardsParser.parse(path: gz).problems.contains { $0.message.contains("gzip") })
    }

    @Test func unreadablePath() {
        let r = ExpCardsParser.parse(path: "/nonexistent/201806.EXP_CARDS.MA-ENS.T.csv")
        #expect(r.unreadable != nil)
        #expect(!r.isClean)
        let other = ExpCardsParser.parse(path: "/nonexistent/notes.txt")
        #expect(other.unreadable != nil)
    }

    @Test func notAnExpCardsNameIsNeverParsed() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dir.appendingPathComponent("notes.csv")
        try Data(Guide.company.utf8).write(to: f)
        var seen = 0
        let r = ExpCardsParser.parse(path: f.path) { _ in seen += 1 }
        #expect(seen == 0)
        #expect(r.kind == nil)
        #expect(r.problems.count == 1)
        #expect(r.problems[0].message.contains("EXP_CARDS file name"))
    }
}

@Suite struct ReadingDecisionTests {
    let detail = "02;abc;Ann Lee;ann@example.com;20181231;1"

    @Test func quotedAndUnquotedFieldsMix() throws {
        let r = parse(companyFile([#""02";abc;"Ann Lee";ann@example.com;"20181231";1"#]))
        #expect(r.problems.isEmpty)
        #expect(r.companyDetails.first?.name == "Ann Lee")
    }

    @Test func semicolonInsideQuotesAndDoubledQuotes() throws {
        let r = parse(companyFile([#"02;abc;"Lee; Ann ""Nan""";"a;b@example.com";20181231;1"#]))
        #expect(r.problems.isEmpty)
        #expect(r.companyDetails.first?.name == #"Lee; Ann "Nan""#)
        #expect(r.companyDetails.first?.email == "a;b@example.com")
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func lineEnds(_ end: String) throws {
        let text = companyFile([detail, detail.replacingOccurrences(of: "abc", with: "def")], lineEnd: end)
        for withFinal in [true, false] {
            let body = withFinal ? text : String(text.dropLast(end.count))
            // Every chunk size, so a \r\n split across two reads is seen too.
            for chunk in [1, 2, 3, 7, 64, .max] {
                let r = parse(body, chunk: chunk)
                #expect(r.problems.isEmpty, "end \(end.debugDescription) chunk \(chunk)")
                #expect(r.companyDetails.map(\.alias) == ["abc", "def"])
                #expect(r.companyDetails.map(\.line) == [2, 3])
                #expect(r.file.warnings.isEmpty)
            }
        }
    }

    @Test func latin1FallbackIsOneWarningNotAProblem() throws {
        var bytes = Array(companyFile([detail, detail]).utf8)
        // "Ann Lee" -> "Ann Lé" in Latin-1 (0xE9) on both details.
        let name = Array("Ann Lee".utf8)
        var replaced = 0
        var i = 0
        while i + name.count <= bytes.count {
            if Array(bytes[i..<(i + name.count)]) == name {
                bytes.replaceSubrange(i..<(i + name.count), with: Array("Ann L".utf8) + [0xE9])
                replaced += 1
            }
            i += 1
        }
        #expect(replaced == 2)
        let r = parse(bytes)
        #expect(r.problems.isEmpty)
        #expect(r.companyDetails.map(\.name) == ["Ann Lé", "Ann Lé"])
        #expect(r.file.warnings.count == 1)
        #expect(r.file.warnings[0].contains("Latin-1"))
    }

    @Test func utf8AccentsAreRead() {
        let r = parse(companyFile(["02;abc;Zoé Ñúñez-Øster;zoé@exämple.fr;20181231;1"]))
        #expect(r.problems.isEmpty)
        #expect(r.file.warnings.isEmpty)
        #expect(r.companyDetails.first?.name == "Zoé Ñúñez-Øster")
    }

    @Test func shopHeaderInBothOrders() throws {
        let table = #""00";"EXP_CARDS";"87654321";"P";"20180622";"162416""#
        let text = Guide.shop.replacingOccurrences(
            of: #""00";"EXP_CARDS";"P";"87654321";"20180622";"162416""#, with: table)
        #expect(text != Guide.shop)
        let r = parse(text, name: Guide.shopName)
        #expect(r.problems.isEmpty)
        #expect(r.file.header?.shopId == "87654321")
        #expect(r.file.header?.environment == .production)
        let example = parse(Guide.shop, name: Guide.shopName)
        #expect(example.file.header == r.file.header)
    }

    @Test func oneTrailingSemicolonIsAccepted() {
        let text = "00;EXP_CARDS;T;20180622;162639;\n\(detail);\n01;1;20180622;162639\n"
        let r = parse(text)
        #expect(r.problems.isEmpty)
        #expect(r.companyDetails.count == 1)
        // Two are one field too many.
        let two = parse("00;EXP_CARDS;T;20180622;162639\n\(detail);;\n01;1;20180622;162639\n")
        #expect(two.places == ["2:0"])
        #expect(two.problems[0].message.contains("6 fields"))
    }

    @Test func emptyNameAndEmailAreAccepted() {
        let r = parse(companyFile(["02;abc;;;20181231;0"]))
        #expect(r.problems.isEmpty)
        #expect(r.companyDetails.first?.name == "")
    }

    @Test func headerDateOutsideTheNamesMonthIsAWarning() {
        let r = parse(
            Guide.company.replacingOccurrences(of: "01;6;", with: "01;2;").replacingOccurrences(
                of: "T;20180622", with: "T;20180522"))
        #expect(r.problems.isEmpty)
        #expect(r.file.warnings.count == 1)
        #expect(r.file.warnings[0].contains("2018-05-22"))
    }

    @Test func initialAmountsAreRead() throws {
        let d = goodShopDetail.replacingOccurrences(of: #""2000";"";"0""#, with: #""2000";"4990";"2""#)
        let r = parse(shopFile([d]), name: Guide.shopName)
        #expect(r.problems.isEmpty)
        #expect(r.shopDetails.first?.initialAmount == 4990)
        #expect(r.shopDetails.first?.initialCount == 2)
    }

    @Test func recurrenceCounterForms() {
        for counter in ["0/12", "3", "12/12"] {
            let d = goodShopDetail.replacingOccurrences(of: #""0/12""#, with: "\"\(counter)\"")
            #expect(parse(shopFile([d]), name: Guide.shopName).shopDetails.first?.recurrenceCounter == counter)
        }
        for bad in ["", "1/", "/3", "a/b", "1/2/3"] {
            let d = goodShopDetail.replacingOccurrences(of: #""0/12""#, with: "\"\(bad)\"")
            #expect(parse(shopFile([d]), name: Guide.shopName).places == ["2:7"], "\(bad)")
        }
    }
}
