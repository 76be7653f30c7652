import Foundation
import Testing

@testable import ExpCardsCore

/// The schedules a hostile or odd file can hold, compared with python-dateutil from a reference
/// date: effect dates centuries back, COUNTs that end just before or after that date or never,
/// rules that never match and rules that match once in decades. These are the paths where the
/// iterator jumps, counts by period and skips instead of walking (ScheduleCount, ScheduleReach).
///
/// dateutil walks every occurrence from the effect date, so the effect dates are chosen for
/// it to finish in a few seconds overall (DAILY from the 1600s at the earliest).
@Suite struct ScheduleFarDifferentialTests {
    struct Case {
        var rule: String
        var start: Day
        var from: Day
    }

    @Test(.enabled(if: ScheduleDifferentialTests.dateutilAvailable, "python3 with python3-dateutil is needed"))
    func matchesDateutilFromFarEffectDates() throws {
        var rng = SplitMix64(seed: 0xFA2_DA7E)
        let cases = Self.cases(&rng)
        let input = cases.map { "\($0.rule)\t\(compact($0.start))\t\(compact($0.from))\n" }.joined()
        let n = ScheduleDifferentialTests.datesPerCase
        let result = try ScheduleDifferentialTests.run(
            ["-c", ScheduleDifferentialTests.oracleScript, String(n)], input: Data(input.utf8))
        #expect(result.status == 0, "python failed: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == cases.count, "expected \(cases.count) lines, got \(lines.count): \(result.stderr)")
        guard lines.count == cases.count else { return }

        var mismatches: [String] = []
        var nonEmpty = 0
        for (c, line) in zip(cases, lines) {
            let schedule = try Schedule.parse(c.rule, start: c.start).get()
            let bound = ScheduleDifferentialTests.bound
            let ours = schedule.charges(from: c.from, through: bound).prefix(n).map(compact)
            let theirs = line.isEmpty ? [] : line.split(separator: ",").map(String.init)
            let first = schedule.firstCharge(onOrAfter: c.from).flatMap { $0 <= bound ? compact($0) : nil }
            if ours != theirs || first != theirs.first {
                mismatches.append(
                    "\(c.rule) from \(c.start), seen from \(c.from):\n  ours     \(ours)\n  dateutil \(theirs)")
            }
            if !theirs.isEmpty { nonEmpty += 1 }
        }
        let report = "\(mismatches.count) of \(cases.count) differ:\n" + mismatches.prefix(10).joined(separator: "\n")
        #expect(mismatches.isEmpty, Comment(rawValue: report))
        // Both outcomes must be well represented: schedules still running at the reference date
        // and schedules that ended (by COUNT) or never match.
        #expect(nonEmpty > cases.count / 3, "only \(nonEmpty) of \(cases.count) cases had dates")
        #expect(nonEmpty < cases.count * 9 / 10, "\(nonEmpty) of \(cases.count) cases had dates: too few ended")
    }

    static func cases(_ rng: inout SplitMix64) -> [Case] {
        var out: [Case] = []
        func day(_ year: ClosedRange<Int>, _ rng: inout SplitMix64) -> Day {
            let y = year.lowerBound + rng.below(year.count)
            let m = 1 + rng.below(12)
            return Day(year: y, month: m, day: 1 + rng.below(Day.daysIn(month: m, year: y)))!
        }
        func add(_ rule: String, _ start: Day, _ rng: inout SplitMix64) {
            var rule = rule
            let from = day(2020...2030, &rng)
            // Half the COUNTs end within a few charges of the reference date, where an error
            // in counting the earlier charges shows (the count is ours; dateutil judges it).
            if let range = rule.range(of: ";COUNT=NEAR"), rng.chance(0.5) {
                var work = 0
                let schedule = try! Schedule.parse(rule.replacingCharacters(in: range, with: ""), start: start).get()
                let before = schedule.charges(before: from, cap: .max, work: &work)
                rule.replaceSubrange(range, with: ";COUNT=\(max(1, before + rng.below(20) - 5))")
            } else if let range = rule.range(of: ";COUNT=NEAR") {
                rule.replaceSubrange(range, with: "")
                rule += ";COUNT=\(1 + rng.below(100_000))"
            }
            out.append(Case(rule: rule, start: start, from: from))
        }
        let codes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

        // Rules that never match, from effect dates of every era.
        for rule in [
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=DAILY;BYMONTH=4,6,9,11;BYMONTHDAY=31",
            "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4,6,9,11", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-30",
            "FREQ=WEEKLY;BYMONTH=2;BYMONTHDAY=30;BYDAY=MO,TU,WE,TH,FR,SA,SU", "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
            "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=31;COUNT=5",
            "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=999999999", "FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=3",
        ] {
            add(rule, day(1900...2019, &rng), &rng)
        }
        // Never after an odd start (YEARLY every 2 years on 29 February), or every 4th year.
        for _ in 0..<8 {
            let i = [1, 2, 3, 4, 5, 8][rng.below(6)]
            add("FREQ=YEARLY;INTERVAL=\(i);BYMONTH=2;BYMONTHDAY=29", day(1...2019, &rng), &rng)
        }
        // Rare: 29 February on a given weekday (every 28 years or more).
        for _ in 0..<8 {
            let code = codes[rng.below(7)]
            let freq = ["DAILY", "MONTHLY", "YEARLY"][rng.below(3)]
            let c = rng.chance(0.5) ? ";COUNT=\(1 + rng.below(12))" : ""
            add("FREQ=\(freq);BYMONTH=2;BYMONTHDAY=29;BYDAY=\(code)\(c)", day(1700...2019, &rng), &rng)
        }
        // COUNT counted from effect dates centuries back (COUNT=NEAR: see `add`), INTERVAL 1 to 4.
        for _ in 0..<30 {
            let start = day(1...1990, &rng)
            let i = 1 + rng.below(4)
            let dayOfMonth = [1, 15, 29, 30, 31, -1][rng.below(6)]
            add("FREQ=MONTHLY;INTERVAL=\(i);BYMONTHDAY=\(dayOfMonth);COUNT=NEAR", start, &rng)
        }
        for _ in 0..<20 {
            let start = day(1400...1990, &rng)
            let i = 1 + rng.below(3)
            let days = [codes[rng.below(7)], codes[rng.below(7)]]
            let setPos = rng.chance(0.3) ? ";BYSETPOS=-1" : ""
            add(
                "FREQ=WEEKLY;INTERVAL=\(i);BYDAY=\(Set(days).sorted().joined(separator: ","))\(setPos);COUNT=NEAR",
                start, &rng)
        }
        for _ in 0..<15 {
            let start = day(1...1990, &rng)
            let i = 1 + rng.below(4)
            let part = ["BYMONTH=2;BYMONTHDAY=29", "BYMONTH=1,7;BYMONTHDAY=-1", "BYDAY=-1FR", "BYMONTH=3;BYDAY=2SU"][
                rng.below(4)]
            add("FREQ=YEARLY;INTERVAL=\(i);\(part);COUNT=NEAR", start, &rng)
        }
        for _ in 0..<20 {
            let start = day(1850...2015, &rng)
            let i = 1 + rng.below(3)
            let part = ["", ";BYMONTHDAY=1,15", ";BYDAY=MO", ";BYMONTH=2;BYMONTHDAY=29"][rng.below(4)]
            add("FREQ=DAILY;INTERVAL=\(i)\(part);COUNT=NEAR", start, &rng)
        }
        // INTERVAL > 1 with a filter that leaves some periods empty: counted a year at a time
        // by (kind of year, phase of the INTERVAL).
        for _ in 0..<24 {
            let start = day(1700...2000, &rng)
            let freq = rng.chance(0.5) ? "DAILY" : "WEEKLY"
            let i = rng.chance(0.7) ? 2 + rng.below(5) : 10 + rng.below(500)
            let part = [";BYDAY=\(codes[rng.below(7)])", ";BYMONTHDAY=1,13,31", ";BYMONTH=2,3;BYDAY=SU,MO"][
                rng.below(3)]
            add("FREQ=\(freq);INTERVAL=\(i)\(part);COUNT=NEAR", start, &rng)
        }
        // COUNT beyond what the calendar holds, and UNTIL far ahead.
        add("FREQ=DAILY;COUNT=999999999", Day(year: 1600, month: 1, day: 1)!, &rng)
        add("FREQ=WEEKLY;COUNT=999999999;BYDAY=SA", day(1000...1500, &rng), &rng)
        add("FREQ=MONTHLY;BYMONTHDAY=31;UNTIL=20991231", day(1000...1500, &rng), &rng)
        return out
    }
}

private func compact(_ d: Day) -> String { String(describing: d).filter { $0 != "-" } }
