import Testing

@testable import ExpCardsCore

private func day(_ iso: String) -> Day { Day(iso: iso)! }

/// The work a query costs, counted by the iterator (periods, months and years looked at), not
/// timed: whatever the rule and effect date, it stays within a few thousand steps. Walking day
/// by day, as a naive evaluation does, costs hundreds of thousands on these rules.
@Suite struct ScheduleWorkTests {
    static let limit = 3000

    /// The first charge on or after `from`, and the work it took.
    private func first(_ rule: String, effect: String, from: String) throws -> (Day?, Int) {
        let schedule = try Schedule.parse(rule, start: day(effect)).get()
        var it = ChargeIterator(schedule: schedule, from: day(from), through: nil)
        let d = it.next()
        return (d, it.work)
    }

    @Test(arguments: [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=DAILY;BYMONTH=4,6,9,11;BYMONTHDAY=31",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=-30;COUNT=999999999",
        "FREQ=WEEKLY;BYMONTH=2;BYMONTHDAY=30;BYDAY=MO,TU,WE,TH,FR,SA,SU",
        "FREQ=WEEKLY;INTERVAL=3;BYMONTHDAY=31;BYMONTH=4,6",
        "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4,6,9,11",
        "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31",  // from April: only Aprils
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
        "FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=3",
        "FREQ=DAILY;BYSETPOS=2",
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",  // from a Monday: only Mondays
        "FREQ=DAILY;INTERVAL=14;BYDAY=TU,WE;BYMONTH=2",
        "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29",  // from an odd year: only odd years
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;BYSETPOS=1",
    ])
    func neverMatchingRulesCostLittle(_ rule: String) throws {
        // 2023-04-03 is a Monday in April of an odd year; each effect date is a new schedule.
        for effect in ["2023-04-03", "1601-04-02", "0001-04-02", "1999-04-05"] {
            let (d, work) = try first(rule, effect: effect, from: "2025-06-01")
            #expect(d == nil, "\(rule) from \(effect)")
            #expect(work < Self.limit, "\(rule) from \(effect): \(work) steps")
        }
    }

    @Test func hugeCountFromYearOneJumps() throws {
        let (d, work) = try first("FREQ=DAILY;COUNT=999999999", effect: "0001-01-01", from: "2025-06-01")
        #expect(d == day("2025-06-01"))
        #expect(work < Self.limit, "\(work) steps")
    }

    @Test func countEndingCenturiesLaterIsCountedNotWalked() throws {
        // Daily with COUNT=700000 from 0001-01-01: the last charge is 699999 days later.
        let last = day("0001-01-01").adding(days: 699_999)
        #expect(last.year == 1917)
        for (from, expected) in [
            (last, last), (last.adding(days: -10), last.adding(days: -10)), (last.adding(days: 1), nil),
        ] {
            let (d, work) = try first("FREQ=DAILY;COUNT=700000", effect: "0001-01-01", from: from.description)
            #expect(d == expected, "from \(from)")
            #expect(work < Self.limit, "from \(from): \(work) steps")
        }
        // Every other day with COUNT: the 400-year repetition is counted once and multiplied.
        let lastOther = day("0001-01-01").adding(days: 2 * 299_999)
        let (d, work) = try first(
            "FREQ=DAILY;INTERVAL=2;COUNT=300000", effect: "0001-01-01", from: lastOther.description)
        #expect(d == lastOther)
        #expect(work < 30_000, "\(work) steps")
    }

    @Test func intervalWithAFilterIsCountedByYears() throws {
        // Every other day on Mondays, i.e. every other Monday, from Monday 0001-01-01: charge n
        // falls 14 * (n - 1) days later.
        let n = 52_000
        let last = day("0001-01-01").adding(days: 14 * (n - 1))
        let (d, work) = try first(
            "FREQ=DAILY;INTERVAL=2;BYDAY=MO;COUNT=\(n)", effect: "0001-01-01", from: last.description)
        #expect(d == last)
        #expect(work < 8_000, "\(work) steps")
        let (none, _) = try first(
            "FREQ=DAILY;INTERVAL=2;BYDAY=MO;COUNT=\(n)", effect: "0001-01-01", from: last.adding(days: 1).description)
        #expect(none == nil)
    }

    @Test func monthlyCountFromYearOne() throws {
        // The 15th of every month from January of year 1: charge n is in month n - 1 after it.
        let (d, work) = try first("FREQ=MONTHLY;BYMONTHDAY=15;COUNT=24289", effect: "0001-01-01", from: "2025-01-01")
        #expect(d == day("2025-01-15"))
        #expect(work < Self.limit, "\(work) steps")
        let (none, _) = try first("FREQ=MONTHLY;BYMONTHDAY=15;COUNT=24288", effect: "0001-01-01", from: "2025-01-01")
        #expect(none == nil)
    }

    @Test func rareRulesSkipToTheirNextCharge() throws {
        // 29 February that is a Monday: 2016, then 2044.
        let (d, work) = try first(
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", effect: "2016-03-01", from: "2016-03-01")
        #expect(d == day("2044-02-29"))
        #expect(work < Self.limit, "\(work) steps")
        // Every third year on 29 February from 2025: 2028 is reached.
        let (e, _) = try first(
            "FREQ=YEARLY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=29", effect: "2025-01-01", from: "2025-01-01")
        #expect(e == day("2028-02-29"))
        // Every 2 days on 29 February: reached in some leap years only.
        let (f, fwork) = try first(
            "FREQ=DAILY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29", effect: "0001-01-01", from: "2025-01-01")
        #expect(f.map { $0.month == 2 && $0.day == 29 } == true)
        #expect(fwork < Self.limit, "\(fwork) steps")
    }
}
