import Testing

@testable import ExpCardsCore

@Suite struct RecurrenceRuleTests {
    private func rule(_ s: String) throws -> RecurrenceRule { try RecurrenceRule.parse(s).get() }

    private func error(_ s: String) -> RecurrenceRuleError? {
        if case .failure(let e) = RecurrenceRule.parse(s) { return e }
        return nil
    }

    // MARK: The platform's documented examples all parse

    @Test(arguments: [
        "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=12",
        "FREQ=MONTHLY;COUNT=5;BYMONTHDAY=-1",
        "FREQ=MONTHLY;COUNT=12;BYMONTHDAY=10",
        "FREQ=YEARLY;BYMONTHDAY=-1;BYMONTH=1,4,7,10;UNTIL=20221231",
        "FREQ=WEEKLY;BYDAY=MO",
        "FREQ=WEEKLY",
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=MO",
        "FREQ=WEEKLY;INTERVAL=2;",
        "RRULE:FREQ=MONTHLY;COUNT=12;BYMONTHDAY=15",
    ])
    func documentedExamplesParse(_ text: String) throws {
        _ = try rule(text)
    }

    @Test func partsAreRead() throws {
        let r = try rule("FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=12")
        #expect(r.frequency == .monthly)
        #expect(r.byMonthDay == [28, 29, 30, 31])
        #expect(r.bySetPos == [-1])
        #expect(r.end == .count(12))
        #expect(r.interval == 1)
        #expect(r.weekStart == 1)

        let y = try rule("FREQ=YEARLY;BYMONTHDAY=-1;BYMONTH=1,4,7,10;UNTIL=20221231")
        #expect(y.byMonth == [1, 4, 7, 10])
        #expect(y.byMonthDay == [-1])
        #expect(y.end == .until(Day(year: 2022, month: 12, day: 31)!))

        let w = try rule("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=MO")
        #expect(w.interval == 2)
        #expect(w.byDay == [.init(weekday: 1)])

        let m = try rule("FREQ=MONTHLY;BYDAY=1MO,-1FR,+2SU;WKST=SU")
        #expect(
            m.byDay == [.init(weekday: 1, ordinal: 1), .init(weekday: 5, ordinal: -1), .init(weekday: 7, ordinal: 2)])
        #expect(m.weekStart == 7)
    }

    @Test func lenientSpellingsTheDocsShow() throws {
        let canonical = try rule("FREQ=WEEKLY;INTERVAL=2")
        #expect(try rule("FREQ=WEEKLY;INTERVAL=2;") == canonical)
        #expect(try rule("FREQ=WEEKLY;;INTERVAL=2;;") == canonical)
        #expect(try rule("RRULE:FREQ=WEEKLY;INTERVAL=2") == canonical)
        #expect(try rule("rrule:freq=weekly;interval=2") == canonical)
        #expect(try rule("Freq=Weekly;Interval=2") == canonical)
        #expect(try rule("  FREQ=WEEKLY;INTERVAL=2\r\n") == canonical)
    }

    @Test func untilForms() throws {
        let day = Day(year: 2022, month: 12, day: 31)!
        #expect(try rule("FREQ=DAILY;UNTIL=20221231").end == .until(day))
        #expect(try rule("FREQ=DAILY;UNTIL=20221231T235959Z").end == .until(day))
        #expect(try rule("FREQ=DAILY;UNTIL=20221231T000000").end == .until(day))
        #expect(error("FREQ=DAILY;UNTIL=20221232")?.kind == .invalid)
        #expect(error("FREQ=DAILY;UNTIL=2022-12-31")?.kind == .invalid)
        #expect(error("FREQ=DAILY;UNTIL=20221231T246000Z")?.kind == .invalid)
        #expect(error("FREQ=DAILY;UNTIL=20221231T1200")?.kind == .invalid)
    }

    @Test func canonicalDescriptionRoundTrips() throws {
        for text in [
            "FREQ=MONTHLY;COUNT=12;BYMONTHDAY=28,29,30,31;BYSETPOS=-1",
            "FREQ=YEARLY;UNTIL=20221231;BYMONTH=1,4,7,10;BYMONTHDAY=-1",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;WKST=SU",
            "FREQ=MONTHLY;BYDAY=1MO,-1FR",
        ] {
            let r = try rule(text)
            #expect(r.description == text)
            #expect(try rule(r.description) == r)
        }
    }

    // MARK: Refusals: typed, with a reason, never guessed

    @Test(arguments: [
        ("FREQ=HOURLY;COUNT=3", "shorter than a day"),
        ("FREQ=MINUTELY", "shorter than a day"),
        ("FREQ=SECONDLY", "shorter than a day"),
        ("FREQ=YEARLY;BYWEEKNO=20", "BYWEEKNO"),
        ("FREQ=YEARLY;BYYEARDAY=100", "BYYEARDAY"),
        ("FREQ=DAILY;BYHOUR=9", "BYHOUR"),
        ("FREQ=DAILY;BYMINUTE=9", "BYMINUTE"),
        ("FREQ=DAILY;BYSECOND=9", "BYSECOND"),
        ("FREQ=DAILY;X-NAME=1", "X-NAME"),
        ("DTSTART:20240101\nRRULE:FREQ=DAILY", "single RRULE"),
    ])
    func unsupported(_ text: String, _ mention: String) throws {
        let e = try #require(error(text))
        #expect(e.kind == .unsupported)
        #expect(e.reason.contains(mention), "\(e.reason)")
    }

    @Test(arguments: [
        ("", "empty"),
        ("   ", "empty"),
        ("RRULE:", "empty"),
        ("garbage", "no '='"),
        ("COUNT=3", "FREQ is missing"),
        ("FREQ=FORTNIGHTLY", "not a frequency"),
        ("FREQ=MONTHLY;COUNT=3;UNTIL=20240101", "COUNT and UNTIL"),
        ("FREQ=MONTHLY;COUNT=0", "COUNT"),
        ("FREQ=MONTHLY;COUNT=-1", "COUNT"),
        ("FREQ=MONTHLY;COUNT=", "no value"),
        ("FREQ=MONTHLY;INTERVAL=0", "INTERVAL"),
        ("FREQ=MONTHLY;INTERVAL=1.5", "INTERVAL"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY"),
        ("FREQ=MONTHLY;BYMONTHDAY=-32", "BYMONTHDAY"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,,2", "BYMONTHDAY"),
        ("FREQ=MONTHLY;BYMONTHDAY= 1", "BYMONTHDAY"),
        ("FREQ=YEARLY;BYMONTH=13", "BYMONTH"),
        ("FREQ=YEARLY;BYMONTH=-1", "BYMONTH"),
        ("FREQ=MONTHLY;BYSETPOS=0;BYDAY=MO", "BYSETPOS"),
        ("FREQ=MONTHLY;BYSETPOS=367;BYDAY=MO", "BYSETPOS"),
        ("FREQ=MONTHLY;BYDAY=XX", "BYDAY"),
        ("FREQ=MONTHLY;BYDAY=0MO", "BYDAY"),
        ("FREQ=YEARLY;BYDAY=54MO", "BYDAY"),
        ("FREQ=WEEKLY;BYDAY=1MO", "ordinals"),
        ("FREQ=DAILY;BYDAY=-1FR", "ordinals"),
        ("FREQ=WEEKLY;WKST=XY", "WKST"),
        ("FREQ=WEEKLY;FREQ=DAILY", "more than once"),
        ("FREQ=WEEKLY;FOO=1", "unknown part"),
        ("FREQ=MONTHLY;COUNT=12345678901234567890", "COUNT"),
    ])
    func invalid(_ text: String, _ mention: String) throws {
        let e = try #require(error(text))
        #expect(e.kind == .invalid)
        #expect(e.reason.contains(mention), "\(e.reason)")
    }

    @Test func reasonsStayShortAndPrintable() throws {
        let e = try #require(error("FREQ=MONTHLY;\u{1B}[31mEVIL\u{07}" + String(repeating: "X", count: 200) + "=1"))
        #expect(!e.reason.unicodeScalars.contains { $0.properties.generalCategory == .control })
        #expect(e.reason.count < 80)
        #expect(e.description.hasPrefix("invalid rule: "))
    }

    @Test func validatingInitializerRefusesNonsense() {
        #expect(throws: RecurrenceRuleError.self) { try RecurrenceRule(frequency: .daily, interval: 0) }
        #expect(throws: RecurrenceRuleError.self) { try RecurrenceRule(frequency: .daily, end: .count(0)) }
        #expect(throws: RecurrenceRuleError.self) {
            try RecurrenceRule(frequency: .weekly, byDay: [.init(weekday: 1, ordinal: 2)])
        }
        #expect(throws: RecurrenceRuleError.self) {
            try RecurrenceRule(frequency: .monthly, byDay: [.init(weekday: 8)])
        }
    }
}
