import Foundation
import Testing

@testable import ExpCardsCore

/// Schedules of many generated rules, compared with python-dateutil's `rrulestr` (Debian's
/// `python3-dateutil`, installed by `make deps`), all in one Python process.
///
/// Where dateutil departs from RFC 5545 the oracle script (not the Swift code) is adjusted, each
/// adjustment named after the dateutil behaviour it works around:
/// - empty parts (a trailing `;`, which the platform documents) make `rrulestr` fail: dropped;
/// - UNTIL with `Z` and a naive DTSTART make it fail: the `Z` is dropped (we take the date);
/// - WEEKLY + BYSETPOS: dateutil's first week starts at DTSTART instead of WKST (dateutil#1398),
///   so the oracle evaluates from the week's start and filters;
/// - BYDAY mixing `MO` and `1FR`: dateutil intersects the two (RFC 5545: union), so without
///   BYSETPOS the oracle merges the two halves' schedules; the generator never mixes with BYSETPOS.
@Suite struct ScheduleDifferentialTests {
    static let python = "/usr/bin/python3"
    static let caseCount = 2000
    static let datesPerCase = 30
    /// dateutil is stopped after year 2080 (see the script), so compare up to the end of 2079.
    static let bound = Day(year: 2079, month: 12, day: 31)!

    static let dateutilAvailable: Bool = {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        return (try? run(["-c", "import dateutil.rrule"], input: Data()))?.status == 0
    }()

    @Test(
        .enabled(
            if: dateutilAvailable, "\(python) with python3-dateutil is needed (Debian: apt install python3-dateutil)"))
    func matchesDateutil() throws {
        var rng = ScheduleRNG(seed: 0x5EED_CA2D)
        let cases = (0..<Self.caseCount).map { _ in ScheduleRuleGenerator.make(&rng) }

        let input = cases.map { "\($0.rule)\t\(compact($0.start))\n" }.joined()
        let result = try Self.run(["-c", Self.oracleScript, String(Self.datesPerCase)], input: Data(input.utf8))
        #expect(result.status == 0, "python failed: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        let countMessage = "expected \(cases.count) result lines, got \(lines.count): \(result.stderr)"
        #expect(lines.count == cases.count, Comment(rawValue: countMessage))
        guard lines.count == cases.count else { return }

        var mismatches: [String] = []
        var nonEmpty = 0
        var total = 0
        for (c, line) in zip(cases, lines) {
            let schedule = try Schedule.parse(c.rule, start: c.start).get()
            let ours = schedule.charges(through: Self.bound).prefix(Self.datesPerCase).map(compact)
            let theirs = line.isEmpty ? [] : line.split(separator: ",").map(String.init)
            if let error = theirs.first, error.hasPrefix("ERROR") {
                mismatches.append("\(c.rule) from \(c.start): dateutil \(line)")
                continue
            }
            if ours != theirs {
                mismatches.append("\(c.rule) from \(c.start):\n  ours     \(ours)\n  dateutil \(theirs)")
            }
            if !theirs.isEmpty { nonEmpty += 1 }
            total += theirs.count
        }
        let report = "\(mismatches.count) of \(cases.count) differ:\n" + mismatches.prefix(15).joined(separator: "\n")
        #expect(mismatches.isEmpty, Comment(rawValue: report))
        // Guard against a vacuous pass (an oracle that yields nothing would agree with anything empty).
        #expect(nonEmpty > cases.count * 3 / 4, "only \(nonEmpty) cases had dates")
        #expect(total > cases.count * 5, "only \(total) dates compared")
    }

    /// The generator must exercise every part, or the comparison proves less than it seems.
    @Test func generatorCoversTheSubset() throws {
        var rng = ScheduleRNG(seed: 0x5EED_CA2D)
        let rules = try (0..<Self.caseCount).map { _ in
            try RecurrenceRule.parse(ScheduleRuleGenerator.make(&rng).rule).get()
        }
        for f in RecurrenceRule.Frequency.allCases { #expect(rules.contains { $0.frequency == f }) }
        #expect(rules.contains { $0.interval > 1 })
        #expect(rules.contains { if case .count = $0.end { true } else { false } })
        #expect(rules.contains { if case .until = $0.end { true } else { false } })
        #expect(rules.contains { $0.byMonthDay.contains { $0 < 0 } })
        #expect(rules.contains { $0.byDay.contains { $0.ordinal < 0 } })
        #expect(rules.contains { r in r.byDay.contains { $0.ordinal == 0 } && r.byDay.contains { $0.ordinal != 0 } })
        #expect(rules.contains { !$0.byMonth.isEmpty })
        #expect(rules.contains { $0.frequency == RecurrenceRule.Frequency.weekly && !$0.bySetPos.isEmpty })
        #expect(rules.contains { $0.frequency == RecurrenceRule.Frequency.yearly && !$0.bySetPos.isEmpty })
        #expect(rules.contains { $0.weekStart != 1 })
    }

    // MARK: - The oracle

    /// Reads `rule<TAB>YYYYMMDD[<TAB>YYYYMMDD]` lines (rule, effect date, optional first day of
    /// interest), writes one line per case: the first N dates on or after that day (COUNT counted
    /// from the effect date; YYYYMMDD, comma-separated) up to 2079-12-31, or `ERROR ...`.
    static let oracleScript = #"""
        import sys, datetime, warnings
        warnings.simplefilter("ignore")
        # dateutil walks to datetime.MAXYEAR when a rule stops matching; stop it at 2080 instead.
        datetime.MAXYEAR = 2080
        from dateutil.rrule import rrulestr, rruleset
        N = int(sys.argv[1])
        BOUND = datetime.datetime(2079, 12, 31)
        CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

        def parts_of(rule):
            if rule.upper().startswith("RRULE:"):
                rule = rule[6:]
            out = {}
            for p in rule.split(";"):
                if p:  # dateutil rejects empty parts (a trailing ';')
                    k, v = p.split("=", 1)
                    k, v = k.upper(), v.upper()
                    if k == "UNTIL":
                        v = v.rstrip("Z")  # naive DTSTART + UTC UNTIL is an error in dateutil
                    out[k] = v
            return out

        def text(parts):
            return ";".join("%s=%s" % kv for kv in parts.items())

        def dates(parts, start, frm):
            """The rule's dates from frm (COUNT counted from start), up to BOUND, at most N."""
            parts = dict(parts)
            count = int(parts.pop("COUNT")) if "COUNT" in parts else None
            seen = 0
            days = [d.strip().lstrip("+") for d in parts.get("BYDAY", "").split(",") if d]
            plain = [d for d in days if d[-2:] == d]
            ordinal = [d for d in days if d[-2:] != d]
            dtstart = start
            if parts["FREQ"] == "WEEKLY" and "BYSETPOS" in parts:
                # dateutil#1398: its first week begins at DTSTART; RFC 5545's at WKST. Start at WKST
                # (with the BYDAY default made explicit) and drop the earlier dates below.
                wkst = CODES.index(parts.get("WKST", "MO"))
                if "BYDAY" not in parts and "BYMONTHDAY" not in parts:
                    parts["BYDAY"] = CODES[start.weekday()]
                dtstart = start - datetime.timedelta(days=(start.weekday() - wkst) % 7)
            if plain and ordinal:
                # dateutil intersects plain and ordinal weekdays; RFC 5545 means their union.
                assert "BYSETPOS" not in parts
                s = rruleset()
                for half in (plain, ordinal):
                    p = dict(parts); p["BYDAY"] = ",".join(half)
                    s.rrule(rrulestr(text(p), dtstart=dtstart))
                it = iter(s)
            else:
                it = iter(rrulestr(text(parts), dtstart=dtstart))
            out = []
            for d in it:
                if d > BOUND or len(out) == N or (count is not None and seen == count):
                    break
                if d >= start:
                    seen += 1
                    if d >= frm:
                        out.append(d.strftime("%Y%m%d"))
            return out

        results = []
        for line in sys.stdin.read().splitlines():
            rule, start, frm = (line.split("\t") + [""])[:3]
            try:
                start = datetime.datetime.strptime(start, "%Y%m%d")
                frm = datetime.datetime.strptime(frm, "%Y%m%d") if frm else start
                results.append(",".join(dates(parts_of(rule), start, frm)))
            except Exception as e:
                results.append("ERROR " + repr(e).replace(",", ";"))
        sys.stdout.write("".join(r + "\n" for r in results))
        """#

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the Python interpreter; stdin is written from a separate thread so neither pipe can
    /// fill up and deadlock the two processes.
    static func run(_ arguments: [String], input: Data) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let writer = Thread {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let errors = ErrorCollector(stderr.fileHandleForReading)
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: errors.text())
    }

    /// Drains stderr on its own thread.
    final class ErrorCollector: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            Thread {
                self.data = handle.readDataToEndOfFile()
                self.done.signal()
            }.start()
        }

        func text() -> String {
            done.wait()
            return String(decoding: data, as: UTF8.self)
        }
    }
}

private func compact(_ d: Day) -> String { String(describing: d).filter { $0 != "-" } }

/// Random rules over the supported subset, biased towards the cases that break implementations:
/// month ends, negative days, ordinals, set positions, intervals, leap days.
private enum ScheduleRuleGenerator {
    struct Case {
        var rule: String
        var start: Day
    }

    static func make(_ rng: inout ScheduleRNG) -> Case {
        let freq = ["DAILY", "WEEKLY", "WEEKLY", "MONTHLY", "MONTHLY", "MONTHLY", "YEARLY", "YEARLY"][rng.below(8)]
        let start = startDay(&rng)
        var parts: [String] = ["FREQ=" + freq]
        if rng.chance(0.5) { parts.append("INTERVAL=\(1 + rng.below(3))") }

        let byMonth = rng.chance(freq == "YEARLY" ? 0.45 : 0.2)
        if byMonth {
            let months = Set((0...rng.below(3)).map { _ in 1 + rng.below(12) })
            parts.append("BYMONTH=" + months.sorted().map(String.init).joined(separator: ","))
        }
        var hasSetPos = false
        if rng.chance(freq == "DAILY" ? 0.1 : 0.3) { hasSetPos = true }

        if rng.chance(freq == "MONTHLY" || freq == "YEARLY" ? 0.45 : 0.15) {
            let days = (0...rng.below(4)).map { _ in monthDay(&rng) }
            parts.append("BYMONTHDAY=" + Set(days).sorted().map(String.init).joined(separator: ","))
        }
        if rng.chance(freq == "MONTHLY" || freq == "YEARLY" ? 0.4 : 0.5) {
            let codes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
            let ordinals = freq == "MONTHLY" || freq == "YEARLY"
            let mix = ordinals && !hasSetPos && rng.chance(0.2)
            let allOrdinal = ordinals && rng.chance(0.5)
            var items: [String] = []
            for i in 0...rng.below(3) {
                let code = codes[rng.below(7)]
                let withOrdinal = mix ? i % 2 == 1 : allOrdinal
                if withOrdinal {
                    let limit = freq == "YEARLY" && !byMonth && rng.chance(0.5) ? 53 : 5
                    var n = 1 + rng.below(limit)
                    if rng.chance(0.4) { n = -n }
                    items.append("\(n)\(code)")
                } else {
                    items.append(code)
                }
            }
            parts.append("BYDAY=" + items.joined(separator: ","))
        }
        if hasSetPos {
            let positions = (0...rng.below(2)).map { _ -> Int in
                let p = 1 + (rng.chance(0.85) ? rng.below(4) : rng.below(40))
                return rng.chance(0.5) ? -p : p
            }
            parts.append("BYSETPOS=" + Set(positions).sorted().map(String.init).joined(separator: ","))
        }
        if rng.chance(0.2) { parts.append("WKST=" + ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][rng.below(7)]) }

        switch rng.below(10) {
        case 0..<4: parts.append("COUNT=\(1 + rng.below(30))")
        case 4..<7:
            // Often on a date the rule is likely to hit, so that "inclusive" is put to the test.
            let until =
                switch rng.below(3) {
                case 0: start.adding(months: rng.below(60))
                case 1: start.adding(days: 7 * rng.below(200))
                default: start.adding(days: rng.below(2400) - 100)
                }
            let stamp = compact(until)
            parts.append("UNTIL=" + [stamp, stamp + "T235959Z", stamp + "T000000"][rng.below(3)])
        default: break
        }

        // Spellings the parser must accept: shuffled parts, prefix, lower case, trailing ';'.
        rng.shuffle(&parts)
        var rule = parts.joined(separator: ";")
        if rng.chance(0.1) { rule = "RRULE:" + rule }
        if rng.chance(0.1) { rule = rule.lowercased() }
        if rng.chance(0.1) { rule += ";" }
        return Case(rule: rule, start: start)
    }

    private static func startDay(_ rng: inout ScheduleRNG) -> Day {
        let year = 2016 + rng.below(15)
        let month = 1 + rng.below(12)
        let length = Day.daysIn(month: month, year: year)
        // One in four starts on one of the month's last three days (Feb 29 included).
        let day = rng.chance(0.25) ? length - rng.below(3) : 1 + rng.below(length)
        return Day(year: year, month: month, day: day)!
    }

    private static func monthDay(_ rng: inout ScheduleRNG) -> Int {
        switch rng.below(4) {
        case 0: return 28 + rng.below(4)
        case 1: return -(1 + rng.below(3))
        case 2: return -(1 + rng.below(31))
        default: return 1 + rng.below(31)
        }
    }
}

/// The suite's seeded SplitMix64 (ProblemTests.swift), so every run tests the same cases.
private typealias ScheduleRNG = SplitMix64

extension SplitMix64 {
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, below(i + 1)) }
    }
}
