import Foundation
import Testing

@testable import ExpCardsCore

/// One test per kind of defect: each names the line, the field and what was expected.
@Suite struct ProblemTests {
    let good = "02;abc;Ann Lee;ann@example.com;20181231;1"

    /// Replaces field `index` (1-based) of the good company detail and returns the problems' places.
    func companyDetail(field index: Int, _ value: String) -> Parsed {
        var fields = good.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        fields[index - 1] = value
        return parse(companyFile([fields.joined(separator: ";")]))
    }

    @Test(arguments: [
        (1, "03"), (1, "2"), (1, "x2"),
        (2, ""), (2, String(repeating: "a", count: 51)), (2, "ab\u{1}c"), (2, "àb"),
        (3, String(repeating: "é", count: 128)), (3, "Ann\u{0}Lee"),
        (4, String(repeating: "e", count: 128)),
        (5, "20180231"), (5, "2018123"), (5, "201812311"), (5, "2018-12-31"), (5, "20181300"), (5, ""),
        (6, ""), (6, "1234567"), (6, "-1"), (6, "1.0"),
    ])
    func malformedCompanyDetailField(_ index: Int, _ value: String) throws {
        let r = companyDetail(field: index, value)
        #expect(r.companyDetails.isEmpty, "an invalid detail is not handed on")
        let p = try #require(r.problems.first)
        #expect(p.line == 2)
        #expect(p.field == index)
        #expect(p.fieldName != nil)
        #expect(p.found != nil)
        #expect(p.description.hasPrefix("\(Guide.companyName):2:\(index): "))
        if index == 1 {
            // An unknown record code is no detail: the trailer's count then disagrees too.
            #expect(r.places == ["2:1", "3:2"])
        } else {
            // The detail still counts as a record: no spurious trailer-count problem on top.
            #expect(r.problems.count == 1, "\(r.problems)")
        }
    }

    @Test func longestValidFields() {
        let r = companyDetail(field: 3, String(repeating: "é", count: 127))
        #expect(r.problems.isEmpty)
        #expect(companyDetail(field: 2, String(repeating: "a", count: 50)).problems.isEmpty)
        #expect(companyDetail(field: 6, "999999").problems.isEmpty)
    }

    @Test(arguments: [
        (6, String(repeating: "s", count: 51)), (9, "20180431"), (10, "12345678901234"), (10, ""), (10, "20.00"),
        (11, "abc"), (12, "1234"), (6, ""), (8, ""),
    ])
    func malformedShopDetailField(_ index: Int, _ value: String) throws {
        var fields = goodShopDetail.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        // The rule holds `;` inside quotes: rebuild by position on the quoted form instead.
        fields = [
            "02", "91ca494b80d338a67ef06f3450b845cf", "Dupont Durant", "Durant@e-mail.com", "20180630", "REC_1",
            "0/12", "RRULE:FREQ=MONTHLY;COUNT=12;BYMONTHDAY=15", "20180501", "2000", "", "0",
        ]
        fields[index - 1] = value
        let line = fields.map { "\"\($0)\"" }.joined(separator: ";")
        let r = parse(shopFile([line]), name: Guide.shopName)
        #expect(r.shopDetails.isEmpty)
        #expect(r.places.first == "2:\(index)", "\(r.problems)")
    }

    @Test func headerProblems() {
        #expect(
            parse(Guide.company.replacingOccurrences(of: "00;EXP_CARDS;T", with: "00;EXP_CARD;T")).places.first == "1:2"
        )
        #expect(
            parse(Guide.company.replacingOccurrences(of: "00;EXP_CARDS;T", with: "00;EXP_CARDS;X")).places.first
                == "1:3")
        #expect(
            parse(Guide.company.replacingOccurrences(of: "T;20180622;162639", with: "T;20180622;246060")).places.first
                == "1:5")
        // Environment disagreeing with the name.
        let env = parse(Guide.company.replacingOccurrences(of: "00;EXP_CARDS;T", with: "00;EXP_CARDS;P"))
        #expect(env.problems.first?.fieldName == "environment")
        #expect(env.problems.first?.message.contains("as in the file name") == true)
        // Shop id disagreeing with the name.
        let shop = parse(
            Guide.shop.replacingOccurrences(of: #""87654321";"2018"#, with: #""11111111";"2018"#), name: Guide.shopName)
        #expect(shop.problems.map(\.fieldName) == ["shop id"])
        // Neither field looks like a shop id.
        let neither = parse(
            Guide.shop.replacingOccurrences(of: #""87654321";"2018"#, with: #""8765";"2018"#), name: Guide.shopName)
        #expect(neither.places.first == "1:3")
    }

    @Test func trailerProblems() {
        let aliases = parse(shopFile([goodShopDetail], aliases: 2), name: Guide.shopName)
        #expect(aliases.places == ["3:3"])
        #expect(aliases.problems[0].fieldName == "alias count")
        // Two subscriptions of one alias: one distinct alias.
        let sameAlias = parse(
            shopFile([goodShopDetail, goodShopDetail.replacingOccurrences(of: "REC_1", with: "REC_2")], aliases: 1),
            name: Guide.shopName)
        #expect(sameAlias.problems.isEmpty)
        #expect(sameAlias.shopDetails.count == 2)
        #expect(parse(Guide.company.replacingOccurrences(of: "01;6;", with: "01;x;")).places.first == "4:2")
        #expect(parse(Guide.company.replacingOccurrences(of: "01;6;", with: "01;999999;")).places == ["4:2"])
    }

    @Test func shortAndLongRecords() {
        let short = parse(companyFile(["02;abc;Ann Lee;ann@example.com;20181231"]))
        #expect(short.places == ["2:0"])
        #expect(short.problems[0].message.contains("expected 6 fields"))
        #expect(short.problems[0].found == "5 fields")
        let long = parse(companyFile(["02;abc;Ann Lee;ann@example.com;20181231;1;x;y"]))
        #expect(long.places == ["2:0"])
        #expect(long.problems[0].found?.hasPrefix("8 fields") == true)
        // A company-shaped detail in a shop file.
        let mixed = parse(shopFile([good]), name: Guide.shopName)
        // The record is unreadable, so its alias is not counted either.
        #expect(mixed.places == ["2:0", "3:3"])
        #expect(mixed.problems[0].message.contains("12 fields"))
    }

    @Test func missingHeaderAndTrailer() {
        let noHeader = parse("\(good)\n01;1;20180622;162639\n")
        #expect(noHeader.problems.contains { $0.line == 1 && $0.message.contains("header record 00 first") })
        #expect(noHeader.problems.contains { $0.line == 0 && $0.message.contains("header") })
        #expect(noHeader.companyDetails.count == 1, "details are still read")
        let noTrailer = parse("00;EXP_CARDS;T;20180622;162639\n\(good)\n")
        #expect(noTrailer.places == ["0:0"])
        #expect(noTrailer.problems[0].message.contains("trailer"))
        #expect(noTrailer.problems[0].message.contains("truncated"))
    }

    @Test func recordsAfterTheTrailerAndDuplicateHeaders() {
        let after = parse(Guide.company.replacingOccurrences(of: "01;6;", with: "01;2;") + "\(good)\n")
        #expect(after.places == ["5:0", "4:2"])
        #expect(after.problems[0].message.contains("nothing after the trailer"))
        let twoHeaders = parse("00;EXP_CARDS;T;20180622;162639\n" + companyFile([good]))
        #expect(twoHeaders.places == ["2:0"])
        #expect(twoHeaders.problems[0].message.contains("single header"))
    }

    @Test func quoteDefects() {
        let unterminated = parse(companyFile([#"02;abc;"Ann Lee;ann@example.com;20181231;1"#]))
        #expect(unterminated.problems.first?.message.contains("closing quote") == true)
        #expect(unterminated.places.first == "2:3")
        // The next line is read normally: a stray quote never swallows the file.
        #expect(unterminated.file.trailer != nil)
        let stray = parse(companyFile([#"02;abc;Ann "Nan" Lee;ann@example.com;20181231;1"#]))
        #expect(stray.places == ["2:3"])
        let after = parse(companyFile([#"02;abc;"Ann"x;ann@example.com;20181231;1"#]))
        #expect(after.places == ["2:3"])
    }

    @Test func emptyFile() {
        let r = parse("")
        #expect(r.places == ["0:0", "0:0"])
        #expect(r.problems[0].found == "an empty file")
    }

    @Test func emptyLinesAreOneWarningPerRun() {
        let text = companyFile([good]).replacingOccurrences(of: "\n02", with: "\n\n\n\n02")
        let r = parse(text)
        #expect(r.problems.isEmpty)
        #expect(r.file.warnings == ["lines 2–4 are empty (3 lines)"])
        #expect(r.companyDetails.first?.line == 5)
    }

    @Test func binaryGarbageGivesBoundedProblems() {
        var rng = SplitMix64(seed: 7)
        let bytes = (0..<200_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let r = parse(bytes)
        #expect(!r.problems.isEmpty)
        #expect(r.problems.count <= ExpCardsParser.Limits().maxProblems + 1)
        #expect(r.problems.last?.message.contains("more not listed") == true)
        #expect(r.details.isEmpty)
    }

    @Test func oneMegabyteLineIsReportedAndSkipped() {
        let huge = "02;abc;" + String(repeating: "x", count: 1 << 20) + ";ann@example.com;20181231;1"
        let text = "00;EXP_CARDS;T;20180622;162639\n\(huge)\n\(good)\n01;2;20180622;162639\n"
        for chunk in [.max, 4096] {
            let r = parse(text, chunk: chunk)
            #expect(r.places == ["2:0", "4:2"], "chunk \(chunk): \(r.problems)")
            #expect(r.problems[0].message.contains("at most 65536 bytes"))
            #expect(r.companyDetails.map(\.line) == [3], "the line after is read")
        }
    }

    @Test func abbreviationBoundsWhatIsShown() {
        let long = Array(repeating: UInt8(ascii: "a"), count: 5000)
        let s = abbreviated(long)
        #expect(s.count < 80)
        #expect(s.hasSuffix("… (5000 bytes)"))
        #expect(abbreviated(Array("a\u{1}b\n".utf8)) == #""a\x01b\n""#)
        // One list of display controls for every escape: bidi marks too.
        #expect(abbreviated(Array("a\u{200F}b\u{202E}".utf8)) == #""a\u{200F}b\u{202E}""#)
    }
}

/// A small seeded generator: tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
