import Testing

@testable import ExpCardsCore

private func day(_ iso: String) -> Day { Day(iso: iso)! }

/// The first `limit` charges (at most), as `YYYY-MM-DD` strings.
private func charges(_ rule: String, from effect: String, limit: Int = 40) throws -> [String] {
    let schedule = try Schedule.parse(rule, start: day(effect)).get()
    return schedule.charges().prefix(limit).map(\.description)
}

/// Every expectation below was worked out by hand from a calendar; the comments say how.
@Suite struct ScheduleTests {
    // MARK: The platform's documented rules

    @Test func lastDayOfEachMonthViaSetPos() throws {
        // 28..31 filtered to the days each month has, then the last of them; 2024 is a leap year.
        #expect(
            try charges("FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=12", from: "2024-01-15") == [
                "2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30",
                "2024-07-31", "2024-08-31", "2024-09-30", "2024-10-31", "2024-11-30", "2024-12-31",
            ])
        // A common year: February ends on the 28th.
        #expect(
            try charges("FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=3", from: "2023-01-31")
                == ["2023-01-31", "2023-02-28", "2023-03-31"])
    }

    @Test func lastDayOfMonthNegative() throws {
        #expect(
            try charges("FREQ=MONTHLY;COUNT=5;BYMONTHDAY=-1", from: "2023-11-10")
                == ["2023-11-30", "2023-12-31", "2024-01-31", "2024-02-29", "2024-03-31"])
    }

    @Test func tenthOfTheMonth() throws {
        let expected = (0..<12).map { day("2024-03-10").adding(months: $0).description }
        #expect(expected.first == "2024-03-10" && expected.last == "2025-02-10")
        // The effect date matches: it is the first charge.
        #expect(try charges("FREQ=MONTHLY;COUNT=12;BYMONTHDAY=10", from: "2024-03-10") == expected)
        // It does not: the first charge is the next 10th, and COUNT still counts 12 charges.
        #expect(
            try charges("FREQ=MONTHLY;COUNT=12;BYMONTHDAY=10", from: "2024-03-11")
                == (1...12).map { day("2024-03-10").adding(months: $0).description })
    }

    @Test func quarterEndsUntilInclusive() throws {
        // Last day of Jan, Apr, Jul, Oct; effect in May 2021; UNTIL 2022-12-31 stops after Oct 2022.
        #expect(
            try charges("FREQ=YEARLY;BYMONTHDAY=-1;BYMONTH=1,4,7,10;UNTIL=20221231", from: "2021-05-01") == [
                "2021-07-31", "2021-10-31", "2022-01-31", "2022-04-30", "2022-07-31", "2022-10-31",
            ])
    }

    @Test func everyMonday() throws {
        // 2024-01-01 is a Monday, so effect Wednesday 2024-01-03 → the 8th first.
        #expect(
            try charges("FREQ=WEEKLY;BYDAY=MO", from: "2024-01-03", limit: 5)
                == ["2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29", "2024-02-05"])
    }

    @Test func weeklyOnTheEffectWeekday() throws {
        // Thursday 2024-02-29 (leap day): every Thursday from it.
        #expect(
            try charges("FREQ=WEEKLY", from: "2024-02-29", limit: 3) == ["2024-02-29", "2024-03-07", "2024-03-14"])
    }

    @Test func everyOtherMonday() throws {
        // Week of Mon 2024-01-01 is period 0: its Monday precedes the effect date (not a charge);
        // periods 2, 4, 6, 8 weeks later give the 15th, 29th, Feb 12 and Feb 26.
        #expect(
            try charges("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=MO", from: "2024-01-03")
                == ["2024-01-15", "2024-01-29", "2024-02-12", "2024-02-26"])
        #expect(
            try charges("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=MO", from: "2024-01-01")
                == ["2024-01-01", "2024-01-15", "2024-01-29", "2024-02-12"])
    }

    @Test func everyOtherWeekWithTrailingSemicolon() throws {
        #expect(
            try charges("FREQ=WEEKLY;INTERVAL=2;", from: "2024-01-03", limit: 4)
                == ["2024-01-03", "2024-01-17", "2024-01-31", "2024-02-14"])
    }

    @Test func theGuidesExample() throws {
        // Effect 2018-05-01 is not the 15th: charges on the 15th from May 2018, twelve of them.
        let expected = (0..<12).map { day("2018-05-15").adding(months: $0).description }
        #expect(try charges("RRULE:FREQ=MONTHLY;COUNT=12;BYMONTHDAY=15", from: "2018-05-01") == expected)
        #expect(expected.last == "2019-04-15")
    }

    // MARK: Defaults from the effect date, month ends, leap years

    @Test func monthlyDefaultSkipsMonthsWithoutTheDay() throws {
        // dateutil's reading: BYMONTHDAY = 31, so 30-day months and February are skipped.
        #expect(
            try charges("FREQ=MONTHLY", from: "2024-01-31", limit: 7) == [
                "2024-01-31", "2024-03-31", "2024-05-31", "2024-07-31", "2024-08-31", "2024-10-31", "2024-12-31",
            ])
        #expect(
            try charges("FREQ=MONTHLY;INTERVAL=2", from: "2024-01-31", limit: 5)
                == ["2024-01-31", "2024-03-31", "2024-05-31", "2024-07-31", "2025-01-31"])
    }

    @Test func yearlyFromLeapDay() throws {
        #expect(try charges("FREQ=YEARLY", from: "2024-02-29", limit: 3) == ["2024-02-29", "2028-02-29", "2032-02-29"])
        // 2100 is not a leap year: eight years between charges.
        #expect(try charges("FREQ=YEARLY", from: "2096-02-29", limit: 2) == ["2096-02-29", "2104-02-29"])
        // BYMONTH alone keeps the effect date's day.
        #expect(
            try charges("FREQ=YEARLY;BYMONTH=3,9", from: "2024-01-20", limit: 3)
                == ["2024-03-20", "2024-09-20", "2025-03-20"])
    }

    @Test func dailyAcrossLeapDay() throws {
        #expect(
            try charges("FREQ=DAILY;INTERVAL=3;COUNT=4", from: "2024-02-27")
                == ["2024-02-27", "2024-03-01", "2024-03-04", "2024-03-07"])
        #expect(
            try charges("FREQ=DAILY;INTERVAL=3;COUNT=4", from: "2023-02-27")
                == ["2023-02-27", "2023-03-02", "2023-03-05", "2023-03-08"])
        // Weekends only: effect Wednesday 2024-01-03.
        #expect(
            try charges("FREQ=DAILY;BYDAY=SA,SU;COUNT=3", from: "2024-01-03") == [
                "2024-01-06", "2024-01-07", "2024-01-13",
            ])
    }

    // MARK: BYDAY ordinals, BYSETPOS, WKST

    @Test func ordinalWeekdays() throws {
        // Jan 2024 starts on Monday (Fridays 5..26), Feb on Thursday (Fridays 2..23), Mar on Friday (1..29).
        #expect(
            try charges("FREQ=MONTHLY;BYDAY=-1FR;COUNT=3", from: "2024-01-01")
                == ["2024-01-26", "2024-02-23", "2024-03-29"])
        #expect(
            try charges("FREQ=MONTHLY;BYDAY=1MO,3MO;COUNT=4", from: "2024-01-02")
                == ["2024-01-15", "2024-02-05", "2024-02-19", "2024-03-04"])
        // 5th Monday exists only in some months: Jan, Apr, Jul, Sep, Dec 2024.
        #expect(
            try charges("FREQ=MONTHLY;BYDAY=5MO;COUNT=3", from: "2024-01-01") == [
                "2024-01-29", "2024-04-29", "2024-07-29",
            ])
        // YEARLY without BYMONTH: the nth weekday of the year (1 Jan 2025 is a Wednesday, 2026 a Thursday).
        #expect(
            try charges("FREQ=YEARLY;BYDAY=1MO;COUNT=3", from: "2024-01-01") == [
                "2024-01-01", "2025-01-06", "2026-01-05",
            ])
        // 31 Dec 2024 is a Tuesday.
        #expect(try charges("FREQ=YEARLY;BYDAY=-1SU;COUNT=1", from: "2024-01-01") == ["2024-12-29"])
        // YEARLY with BYMONTH: within the month (European summer time).
        #expect(
            try charges("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;COUNT=3", from: "2024-01-01")
                == ["2024-03-31", "2025-03-30", "2026-03-29"])
    }

    @Test func mixedPlainAndOrdinalWeekdaysAreAUnion() throws {
        // RFC 5545: every Monday plus the first Friday. (dateutil intersects them and yields nothing.)
        #expect(
            try charges("FREQ=MONTHLY;BYDAY=MO,1FR;COUNT=6", from: "2024-01-01")
                == ["2024-01-01", "2024-01-05", "2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29"])
    }

    @Test func setPositions() throws {
        // Last weekday of the month: Fri 29 Mar, Tue 30 Apr, Fri 31 May 2024.
        #expect(
            try charges("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=3", from: "2024-03-01")
                == ["2024-03-29", "2024-04-30", "2024-05-31"])
        // RFC 5545's example: third Tue/Wed/Thu of the month from 4 Sep 1997.
        #expect(
            try charges("FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3", from: "1997-09-04")
                == ["1997-09-04", "1997-10-07", "1997-11-06"])
        // The set is the whole period: position 1 of January is the 1st, before the effect date.
        #expect(
            try charges("FREQ=MONTHLY;BYMONTHDAY=1,15;BYSETPOS=1;COUNT=2", from: "2024-01-10") == [
                "2024-02-01", "2024-03-01",
            ])
        // Several positions, out of order and repeated: sorted, once each.
        #expect(
            try charges("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1,1,1;COUNT=4", from: "2024-01-01")
                == ["2024-01-01", "2024-01-29", "2024-02-05", "2024-02-26"])
        // Positions beyond the set select nothing.
        #expect(
            try charges("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=5;COUNT=2", from: "2024-01-01") == ["2024-01-29", "2024-04-29"])
        // YEARLY: the set spans the year; the last Friday of 2024 is the 27th of December.
        #expect(try charges("FREQ=YEARLY;BYDAY=FR;BYSETPOS=-1;COUNT=1", from: "2024-06-01") == ["2024-12-27"])
    }

    @Test func weeklySetPositionUsesTheWholeWeek() throws {
        // Week of Mon 1 Jan 2024 = {Mon 1, Fri 5}; position 1 is the Monday, before the effect date,
        // so that week yields nothing. dateutil (issue #1398) starts the first week at DTSTART and
        // would give Fri 5 Jan first; RFC 5545 says the set starts at the beginning of the interval.
        #expect(
            try charges("FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=1;COUNT=3", from: "2024-01-03")
                == ["2024-01-08", "2024-01-15", "2024-01-22"])
        // From later weeks on the two readings agree: the last of {Mon, Fri} is the Friday.
        #expect(
            try charges("FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=-1;COUNT=2", from: "2024-01-03") == [
                "2024-01-05", "2024-01-12",
            ])
    }

    @Test func weekStartMatters() throws {
        // RFC 5545's WKST example, from Tuesday 5 Aug 1997.
        #expect(
            try charges("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO", from: "1997-08-05")
                == ["1997-08-05", "1997-08-10", "1997-08-19", "1997-08-24"])
        #expect(
            try charges("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU", from: "1997-08-05")
                == ["1997-08-05", "1997-08-17", "1997-08-19", "1997-08-31"])
    }

    @Test func weeklyAcrossTheYearEnd() throws {
        // Week of Mon 30 Dec 2024 spans two years; BYMONTH=1 keeps only its January days.
        #expect(
            try charges("FREQ=WEEKLY;BYDAY=MO,WE;BYMONTH=1;COUNT=3", from: "2024-12-01")
                == ["2025-01-01", "2025-01-06", "2025-01-08"])
        #expect(
            try charges("FREQ=WEEKLY;BYDAY=TU,TH;BYSETPOS=-1;COUNT=2", from: "2024-12-30")
                == ["2025-01-02", "2025-01-09"])
    }

    // MARK: Ends: COUNT, UNTIL, never-matching rules, bounds

    @Test func untilIsInclusive() throws {
        #expect(
            try charges("FREQ=MONTHLY;BYMONTHDAY=10;UNTIL=20240410", from: "2024-01-01")
                == ["2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10"])
        #expect(
            try charges("FREQ=MONTHLY;BYMONTHDAY=10;UNTIL=20240409", from: "2024-01-01")
                == ["2024-01-10", "2024-02-10", "2024-03-10"])
        #expect(
            try charges("FREQ=MONTHLY;BYMONTHDAY=10;UNTIL=20240410T000000Z", from: "2024-01-01").count == 4)
        // UNTIL before the effect date: no charge at all.
        #expect(try charges("FREQ=DAILY;UNTIL=20231231", from: "2024-01-01") == [])
    }

    @Test func countCountsFromTheEffectDateNotFromTheQuery() throws {
        let schedule = try Schedule.parse("FREQ=MONTHLY;COUNT=5;BYMONTHDAY=1", start: day("2024-01-01")).get()
        #expect(Array(schedule.charges(from: day("2024-04-01"))).map(\.description) == ["2024-04-01", "2024-05-01"])
        #expect(schedule.firstCharge(onOrAfter: day("2024-05-02")) == nil)
        #expect(schedule.charge(number: 5) == day("2024-05-01"))
        #expect(schedule.charge(number: 6) == nil)
        #expect(schedule.charge(number: 3, through: day("2024-02-28")) == nil)
    }

    @Test(arguments: [
        "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=2",
        "FREQ=YEARLY;BYMONTHDAY=30;BYMONTH=2",
        "FREQ=DAILY;BYMONTHDAY=30;BYMONTH=2",
        "FREQ=WEEKLY;BYMONTHDAY=-30;BYMONTH=2;BYDAY=MO,TU,WE,TH,FR,SA,SU",
        "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29",  // from an odd year: only odd years
        "FREQ=MONTHLY;BYDAY=6MO",
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-6",
    ])
    func neverMatchingRulesEnd(_ rule: String) throws {
        let schedule = try Schedule.parse(rule, start: day("2023-03-01")).get()
        #expect(schedule.firstCharge(onOrAfter: day("2023-03-01")) == nil)
        #expect(Array(schedule.charges()).isEmpty)
    }

    @Test func rareButRealChargesAreFound() throws {
        // Feb 29 that is a Monday: 2016, then 2044 (28 years later).
        let schedule = try Schedule.parse("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", start: day("2016-03-01")).get()
        #expect(schedule.firstCharge(onOrAfter: day("2016-03-01")) == day("2044-02-29"))
        // INTERVAL=2 from an even year does reach leap years.
        #expect(
            try charges("FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29", from: "2022-01-01", limit: 2)
                == ["2024-02-29", "2028-02-29"])
    }

    @Test func boundedQueriesOnInfiniteSchedules() throws {
        let schedule = try Schedule.parse("FREQ=DAILY", start: day("2016-01-01")).get()
        let window = Array(schedule.charges(from: day("2024-02-27"), through: day("2024-03-02")))
        #expect(window.map(\.description) == ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01", "2024-03-02"])
        #expect(schedule.firstCharge(onOrAfter: day("9999-12-31")) == day("9999-12-31"))
        // The calendar ends at year 9999: so does every schedule.
        #expect(Array(schedule.charges(from: day("9999-12-30"))).count == 2)
    }

    @Test func jumpingAheadMatchesWalking() throws {
        // Without COUNT the iterator jumps to the period holding `from`; it must agree with a walk.
        for rule in [
            "FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,SA", "FREQ=DAILY;INTERVAL=5", "FREQ=MONTHLY;INTERVAL=7;BYMONTHDAY=-1",
            "FREQ=YEARLY;INTERVAL=3", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;BYSETPOS=1;WKST=SU",
        ] {
            let schedule = try Schedule.parse(rule, start: day("2016-02-29")).get()
            let all = Array(schedule.charges(through: day("2040-12-31")))
            for from in ["2016-02-29", "2016-03-01", "2019-12-31", "2024-02-29", "2031-07-15"] {
                let expected = all.filter { $0 >= day(from) }
                #expect(
                    Array(schedule.charges(from: day(from), through: day("2040-12-31"))) == expected, "\(rule) \(from)")
            }
        }
    }
}
