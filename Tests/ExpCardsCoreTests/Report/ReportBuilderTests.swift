import Testing

@testable import ExpCardsCore

/// The report's semantics: statuses against D and D + N months, and how the company file and the
/// shop files merge by alias.
@Suite("Report builder")
struct ReportBuilderTests {
    static let shopAName = "201806.12345678.EXP_CARDS.A.P.csv"
    static let shopBName = "201806.87654321.EXP_CARDS.B.P.csv"
    static let companyName = "201806.EXP_CARDS.ENS.P.csv"

    static func company(_ details: [String]) -> (String, [UInt8]) {
        let text =
            (["00;EXP_CARDS;P;20180622;162639"] + details + ["01;\(details.count);20180622;162639"]).joined(
                separator: "\n") + "\n"
        return (companyName, Array(text.utf8))
    }

    static func shop(_ name: String, _ details: [String]) -> (String, [UInt8]) {
        let id = String(name.split(separator: ".")[1])
        let aliases = Set(details.map { $0.split(separator: ";")[1] }).count
        let text =
            ([#""00";"EXP_CARDS";"P";"\#(id)";"20180622";"162416""#] + details
            + [#""01";"\#(details.count)";"\#(aliases)";"20180622";"162416""#]).joined(separator: "\n") + "\n"
        return (name, Array(text.utf8))
    }

    static func sub(
        _ alias: String, name: String = "Ann Lee", email: String = "ann@x.fr", expiry: String = "20180731",
        id: String = "S1", rule: String = "FREQ=MONTHLY;BYMONTHDAY=15", amount: String = "1000"
    ) -> String {
        #""02";"\#(alias)";"\#(name)";"\#(email)";"\#(expiry)";"\#(id)";"1/12";"\#(rule)";"20180101";"\#(amount)";"";"0""#
    }

    /// Adds the files in the order given (not company first), to test both orders.
    static func build(_ files: [(String, [UInt8])], asOf: String = "2018-07-01", threshold: Int = 2) -> ExpiryReport {
        var options = ExpiryReport.Options(asOf: isoDay(asOf))
        options.thresholdMonths = threshold
        var builder = ReportBuilder(options: options)
        for (name, bytes) in files { builder.add(bytes, name: name) }
        let report = builder.finish()
        #expect(report.files.allSatisfy { $0.problems.isEmpty }, "\(report.files.map(\.problems))")
        return report
    }

    // MARK: Statuses

    @Test(arguments: [
        // The day before, of and after E.
        ("2018-07-21", "2018-07-22", 2, ExpiryStatus.expired),
        ("2018-07-22", "2018-07-22", 2, .expiring),
        ("2018-07-23", "2018-07-22", 2, .expiring),
        // The threshold: D + N months, and the day after.
        ("2018-09-22", "2018-07-22", 2, .expiring),
        ("2018-09-23", "2018-07-22", 2, .later),
        // Month-end clamping: Dec 31 + 2 months = Feb 28 (2025), Feb 29 (2024, leap).
        ("2025-02-28", "2024-12-31", 2, .expiring),
        ("2025-03-01", "2024-12-31", 2, .later),
        ("2024-02-29", "2023-12-31", 2, .expiring),
        ("2024-03-01", "2023-12-31", 2, .later),
        // Leap day to leap day + 12 months: Feb 28 of the next year.
        ("2025-02-28", "2024-02-29", 12, .expiring),
        ("2025-03-01", "2024-02-29", 12, .later),
        // 1900 is not a leap year, 2000 is.
        ("2000-02-29", "1999-12-31", 2, .expiring),
        ("2000-03-01", "1999-12-31", 2, .later),
        ("2100-02-28", "2099-12-31", 2, .expiring),
        ("2100-03-01", "2099-12-31", 2, .later),
        // Threshold 0: only the day itself; 24 months.
        ("2018-07-22", "2018-07-22", 0, .expiring),
        ("2018-07-23", "2018-07-22", 0, .later),
        ("2020-07-22", "2018-07-22", 24, .expiring),
        ("2020-07-23", "2018-07-22", 24, .later),
        // Across a year end.
        ("2019-01-30", "2018-11-30", 2, .expiring),
        ("2019-01-31", "2018-11-30", 2, .later),
    ])
    func status(expiry: String, asOf: String, threshold: Int, expected: ExpiryStatus) {
        #expect(ExpiryStatus(expiry: isoDay(expiry), asOf: isoDay(asOf), thresholdMonths: threshold) == expected)
        let yyyymmdd = expiry.replacingOccurrences(of: "-", with: "")
        let r = Self.build([Self.company(["02;A;Ann Lee;ann@x.fr;\(yyyymmdd);0"])], asOf: asOf, threshold: threshold)
        #expect(r.aliases.map(\.status) == [expected])
        #expect(r.summary[expected]?.aliases == 1)
    }

    @Test func thresholdEndClamps() {
        var o = ExpiryReport.Options(asOf: isoDay("2024-12-31"))
        o.thresholdMonths = 2
        o.horizonMonths = 2
        #expect(ExpiryReport(options: o).thresholdEnd == isoDay("2025-02-28"))
        #expect(ExpiryReport(options: o).horizonEnd == isoDay("2025-02-28"))
    }

    @Test func aliasesSortedByStatusExpiryAlias() {
        let r = Self.build([
            Self.company([
                "02;C;C;c@x.fr;20180801;0", "02;B;B;b@x.fr;20180601;0", "02;A;A;a@x.fr;20180801;0",
                "02;D;D;d@x.fr;20190101;0", "02;E;E;e@x.fr;20180630;0",
            ])
        ])
        #expect(r.aliases.map(\.alias) == ["B", "E", "A", "C", "D"])
        #expect(
            r.summary[.expired]?.aliases == 2 && r.summary[.expiring]?.aliases == 2 && r.summary[.later]?.aliases == 1)
    }

    // MARK: Merging

    @Test(arguments: [false, true])
    func companyNameAndEmailWin(companyFirst: Bool) {
        let company = Self.company(["02;A;Ann Lee;ann@x.fr;20180731;1"])
        let shop = Self.shop(Self.shopAName, [Self.sub("A", name: "ANN LEE", email: "ANN@X.FR")])
        let r = Self.build(companyFirst ? [company, shop] : [shop, company])
        #expect(r.aliases.count == 1)
        #expect(r.aliases[0].name == "Ann Lee" && r.aliases[0].email == "ann@x.fr")
        #expect(r.subscriptions[0].name == "Ann Lee" && r.subscriptions[0].email == "ann@x.fr")
        #expect(r.warnings.count == 1)
        #expect(r.warnings[0].description.contains("name/e-mail"))
        #expect(
            r.warnings[0].description.contains(
                companyFirst ? "the company file's are kept" : "the company file's are used"))
    }

    /// The platform writes `?` for what Latin-1 lacks: `Nguy?n` is `Nguyễn`, whichever file has it.
    @Test(arguments: [false, true])
    func wholeNameWinsOverOneWithQuestionMarks(latin1InCompany: Bool) {
        let cut = "Nguy?n V?n An"
        let whole = "Nguyễn Văn An"
        let company = Self.company(["02;A;\(latin1InCompany ? cut : whole);an@x.vn;20180731;1"])
        let shop = Self.shop(Self.shopAName, [Self.sub("A", name: latin1InCompany ? whole : cut, email: "an@x.vn")])
        let r = Self.build([company, shop])
        #expect(r.aliases[0].name == whole)
        #expect(r.subscriptions[0].name == whole)
        #expect(r.warnings.isEmpty, "\(r.warnings)")
        // A `?` standing for a Latin-1 letter, or another difference, is still a disagreement.
        let other = Self.build([
            Self.company(["02;A;Ren? Lee;an@x.vn;20180731;1"]),
            Self.shop(Self.shopAName, [Self.sub("A", name: "René Lee", email: "an@x.vn")]),
        ])
        #expect(other.aliases[0].name == "Ren? Lee")
        #expect(other.warnings.count == 1)
    }

    @Test func twoShopsDisagreeingWithoutCompany() {
        let r = Self.build([
            Self.shop(Self.shopAName, [Self.sub("A", name: "Ann Lee")]),
            Self.shop(Self.shopBName, [Self.sub("A", name: "Anne Lee")]),
        ])
        #expect(r.aliases[0].name == "Ann Lee")
        #expect(r.aliases[0].shops == ["12345678", "87654321"])
        #expect(r.aliases[0].subscriptions == 2)
        #expect(r.warnings.count == 1 && r.warnings[0].description.hasSuffix("the first are kept"))
    }

    @Test(arguments: [false, true])
    func earliestExpiryCounts(companyFirst: Bool) {
        let company = Self.company(["02;A;Ann Lee;ann@x.fr;20180731;1"])
        let shop = Self.shop(Self.shopAName, [Self.sub("A", expiry: "20180630")])
        let r = Self.build(companyFirst ? [company, shop] : [shop, company])
        #expect(r.aliases[0].expiry == isoDay("2018-06-30"))
        #expect(r.aliases[0].status == .expired)
        // The subscription takes the alias's merged expiry and status.
        #expect(r.subscriptions[0].expiry == isoDay("2018-06-30") && r.subscriptions[0].status == .expired)
        #expect(r.warnings.count == 1 && r.warnings[0].description.contains("the earliest counts"))
    }

    @Test func aliasOnlyInShopFiles() {
        let r = Self.build([
            Self.company(["02;B;Bob;bob@x.fr;20180731;0"]),
            Self.shop(Self.shopAName, [Self.sub("A"), Self.sub("A", id: "S2")]),
        ])
        let a = r.aliases.first { $0.alias == "A" }!
        #expect(a.recurrences == nil)
        #expect(a.subscriptions == 2 && a.shops == ["12345678"])
        #expect(a.name == "Ann Lee")
        #expect(r.warnings.isEmpty)
    }

    @Test func recurrenceCountDisagreement() {
        let r = Self.build([
            Self.company([
                "02;A;Ann Lee;ann@x.fr;20180731;3", "02;B;Bob;bob@x.fr;20180731;1", "02;C;Cy;c@x.fr;20180731;0",
            ]),
            Self.shop(Self.shopAName, [Self.sub("A")]),
        ])
        #expect(
            r.warnings.map(\.description) == [
                "alias A: the company file counts 3 active recurrences, the shop files list 1",
                "alias B: the company file counts 1 active recurrence, the shop files list 0",
            ])
        // Without any shop file, nothing to compare with.
        let alone = Self.build([Self.company(["02;A;Ann Lee;ann@x.fr;20180731;3"])])
        #expect(alone.warnings.isEmpty)
    }

    @Test func duplicateCompanyAlias() {
        let r = Self.build([Self.company(["02;A;Ann Lee;ann@x.fr;20180731;0", "02;A;Ann Lee;ann@x.fr;20180731;0"])])
        #expect(r.aliases.count == 1)
        #expect(r.warnings.count == 1 && r.warnings[0].description.contains("listed again in the company file"))
    }

    @Test func unknownScheduleIsKeptWithAWarning() {
        let r = Self.build([Self.shop(Self.shopAName, [Self.sub("A", rule: "FREQ=HOURLY")])])
        #expect(r.subscriptions.count == 1)
        #expect(r.subscriptions[0].risk.unknownReason?.kind == .unsupported)
        #expect(r.subscriptions[0].risk.amountAtRisk == nil)
        #expect(r.warnings.count == 1 && r.warnings[0].description.contains("schedule unknown"))
        #expect(r.summary[.expiring]?.subscriptions == 1 && r.summary[.expiring]?.amountAtRisk == [:])
    }

    @Test func amountsAtRiskPerAliasAndStatus() {
        // Expiry 2018-07-31, D = 2018-07-01: charges on the 15th from Aug 2018 to Jun 2019 = 11.
        let r = Self.build([Self.shop(Self.shopAName, [Self.sub("A"), Self.sub("A", id: "S2", amount: "250")])])
        #expect(r.subscriptions.map { $0.risk.chargesAtRisk } == [11, 11])
        #expect(r.aliases[0].amountAtRisk == ["EUR": 11 * 1250])
        #expect(r.summary[.expiring]?.amountAtRisk == ["EUR": 11 * 1250])
        #expect(r.summary[.expiring]?.subscriptions == 2)
    }

    /// Each subscription's risk saturates at Int64.max; so do the sums over an alias, a status
    /// and the whole report: money at risk never wraps to a negative total.
    @Test func totalsAtRiskSaturateInsteadOfWrapping() {
        // 300 daily subscriptions of 999,999,999,999 over a 100-year horizon: ~1.1e19 in all.
        let details = (0..<300).map { Self.sub("A", id: "S\($0)", rule: "FREQ=DAILY", amount: "999999999999") }
        var options = ExpiryReport.Options(asOf: isoDay("2018-07-01"))
        options.horizonMonths = 1200
        var builder = ReportBuilder(options: options)
        builder.add(Self.shop(Self.shopAName, details).1, name: Self.shopAName)
        let r = builder.finish()
        #expect(r.files.allSatisfy { $0.problems.isEmpty }, "\(r.files.map(\.problems))")
        #expect(
            r.subscriptions.allSatisfy {
                ($0.risk.amountAtRisk ?? 0) > 0 && ($0.risk.amountAtRisk ?? .max) < Int64.max / 250
            })
        #expect(r.aliases[0].amountAtRisk == ["EUR": Int64.max])
        #expect(r.summary[.expiring]?.amountAtRisk == ["EUR": Int64.max])
        let text = TextReport.render(r, color: false, mask: false)
        #expect(!text.contains("EUR -"), "\(text.prefix(300))")
    }

    @Test func subscriptionsSortedByShopThenFirstChargeAfterExpiry() {
        let r = Self.build([
            Self.shop(Self.shopBName, [Self.sub("A", id: "B1")]),
            Self.shop(
                Self.shopAName,
                [
                    Self.sub("A", id: "late", rule: "FREQ=MONTHLY;BYMONTHDAY=20"),
                    Self.sub("A", id: "unknown", rule: "FREQ=HOURLY"),
                    Self.sub("A", id: "early", rule: "FREQ=MONTHLY;BYMONTHDAY=5"),
                ]),
        ])
        #expect(r.subscriptions.map(\.subscriptionId) == ["early", "late", "unknown", "B1"])
    }

    @Test func warningOrderIsDeterministic() {
        // Many recurrence warnings: their order must not depend on hashing.
        let details = (0..<40).map { "02;A\($0);N;n@x.fr;20180731;2" }
        let files = [Self.company(details), Self.shop(Self.shopAName, [Self.sub("zzz")])]
        let first = Self.build(files).warnings.map(\.description)
        let aliases = (0..<40).map { "A\($0)" }.sorted()
        #expect(
            first == aliases.map { "alias \($0): the company file counts 2 active recurrences, the shop files list 0" })
        #expect(first.count == 40)
    }
}
