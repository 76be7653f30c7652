import Testing

@testable import ExpCardsCore

@Suite struct FileNameTests {
    @Test func companyName() throws {
        let n = try #require(ExpCardsFileName("201810.EXP_CARDS.MA-ENS.T.csv"))
        #expect(n.kind == .company)
        #expect(n.month == YearMonth(year: 2018, month: 10))
        #expect(n.shopId == nil)
        #expect(n.label == "MA-ENS")
        #expect(n.environment == .test)
        #expect(!n.compressed)
        #expect(n.canonicalName == "201810.EXP_CARDS.MA-ENS.T.csv")
    }

    @Test func shopName() throws {
        let n = try #require(ExpCardsFileName("201810.87654321.EXP_CARDS.PDV.P.csv"))
        #expect(n.kind == .shop)
        #expect(n.shopId == "87654321")
        #expect(n.label == "PDV")
        #expect(n.environment == .production)
    }

    @Test func labelsWithDotsAndDashes() throws {
        let c = try #require(ExpCardsFileName("202611.EXP_CARDS.Ma.Société-Générale.P.csv"))
        #expect(c.kind == .company)
        #expect(c.label == "Ma.Société-Générale")
        let s = try #require(ExpCardsFileName("202611.12345678.EXP_CARDS.shop.v2-fr.T.csv"))
        #expect(s.kind == .shop)
        #expect(s.label == "shop.v2-fr")
        // A label that itself reads EXP_CARDS stays a label.
        let odd = try #require(ExpCardsFileName("202611.EXP_CARDS.EXP_CARDS.P.csv"))
        #expect(odd.label == "EXP_CARDS")
    }

    @Test func gzippedNameIsTheSameFile() throws {
        let n = try #require(ExpCardsFileName("201810.87654321.EXP_CARDS.PDV.T.csv.gz"))
        #expect(n.compressed)
        #expect(n.canonicalName == "201810.87654321.EXP_CARDS.PDV.T.csv")
        #expect(n.shopId == "87654321")
    }

    @Test(arguments: [
        "", "readme.txt", "201810.EXP_CARDS.MA-ENS.T.txt", "201810.EXP_CARDS.MA-ENS.X.csv",
        "201813.EXP_CARDS.MA-ENS.T.csv", "201800.EXP_CARDS.MA-ENS.T.csv", "20181.EXP_CARDS.MA-ENS.T.csv",
        "201810.EXP_CARDS..T.csv", "201810.EXP_CARDS.T.csv", "201810.1234567.EXP_CARDS.PDV.T.csv.x",
        "201810.PAY.MA-ENS.T.csv", "201810.EXP_CARDS.MA-ENS.T.csv.replaced-20261101T040000Z",
        ".201810.EXP_CARDS.MA-ENS.T.csv.part", "201810.EXP_CARDS.A/B.T.csv", "201810.EXP_CARDS.A\u{1}B.T.csv",
        "201810.EXP_CARDS.MA-ENS.T.csv.gz.gz", "201810.EXP_CARDS.MA-ENS.t.csv",
    ])
    func notExpCardsNames(_ name: String) {
        #expect(ExpCardsFileName(name) == nil)
    }

    @Test func shopIdMustBeEightDigits() throws {
        // Seven digits: not a shop key, so the name does not match either grammar.
        #expect(ExpCardsFileName("201810.1234567.EXP_CARDS.PDV.T.csv") == nil)
    }
}
