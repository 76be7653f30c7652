import Testing

@testable import ExpCardsCore

@Suite struct ReportSelectionTests {
    let files = [
        "ROOT/expired/202510.EXP_CARDS.ACME.P.csv", "ROOT/expired/202511.EXP_CARDS.ACME.P.csv",
        "ROOT/expired/202512.EXP_CARDS.ACME.P.csv", "ROOT/expired/209912.EXP_CARDS.X.P.csv",
    ]

    @Test func monthsAfterNextMonthAreLeftOutWithAWarning() {
        let s = ReportSelection(paths: files, asOf: Day(iso: "2025-11-20")!)
        #expect(s.month == YearMonth("2025-12"))  // next month's file may already exist
        #expect(s.selected.map(\.path) == ["ROOT/expired/202512.EXP_CARDS.ACME.P.csv"])
        #expect(s.warnings.count == 1)
        #expect(s.warnings.first?.hasPrefix("ROOT/expired/209912.EXP_CARDS.X.P.csv: month 2099-12 is later") == true)
        #expect(
            s.excluded.contains {
                $0.path.hasPrefix("ROOT/expired/209912") && $0.reason.contains("later than next month")
            })
    }

    @Test func theReferenceDateDecides() {
        // Seen from October, December is after next month too.
        let s = ReportSelection(paths: files, asOf: Day(iso: "2025-10-31")!)
        #expect(s.month == YearMonth("2025-11"))
        #expect(s.warnings.count == 2)
    }

    @Test func onlyAFutureFileSelectsNothing() {
        let s = ReportSelection(paths: ["209912.EXP_CARDS.X.P.csv"], asOf: Day(iso: "2025-11-20")!)
        #expect(s.selected.isEmpty)
        #expect(s.month == nil)
        #expect(s.warnings.count == 1)
    }

    @Test func aMonthNamedExplicitlyIsTaken() {
        let s = ReportSelection(paths: files, asOf: Day(iso: "2025-11-20")!, month: YearMonth("2099-12"))
        #expect(s.selected.map(\.path) == ["ROOT/expired/209912.EXP_CARDS.X.P.csv"])
        #expect(s.warnings.isEmpty)
    }

    @Test func otherEnvironmentsFutureFilesAreLeftOutForTheirEnvironment() {
        let s = ReportSelection(paths: files + ["209912.EXP_CARDS.X.T.csv"], asOf: Day(iso: "2025-11-20")!)
        #expect(s.excluded.contains { $0.path == "209912.EXP_CARDS.X.T.csv" && $0.reason.hasSuffix(" environment") })
        #expect(s.warnings.count == 1)
    }
}
