/// A subscription's recurrence rule (`vads_sub_desc`): the subset of RFC 5545's RRULE the
/// platform documents — FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL, COUNT, UNTIL,
/// BYMONTHDAY, BYDAY, BYMONTH, BYSETPOS and WKST.
///
/// Only `parse` and the validating initializer build one, so a `RecurrenceRule` in hand is always
/// one `Schedule` can evaluate. Anything outside the subset is refused with a reason rather than
/// read approximately: a wrong schedule would put a wrong amount in front of ops.
public struct RecurrenceRule: Hashable, Sendable, CustomStringConvertible {
    public enum Frequency: String, Hashable, Sendable, CaseIterable {
        case daily = "DAILY"
        case weekly = "WEEKLY"
        case monthly = "MONTHLY"
        case yearly = "YEARLY"
    }

    /// How a schedule ends: never, after COUNT charges, or on UNTIL (inclusive).
    public enum End: Hashable, Sendable {
        case never
        case count(Int)
        case until(Day)
    }

    /// A BYDAY entry: an ISO weekday (1 = Monday ... 7 = Sunday) and an optional ordinal
    /// (`1MO` = first Monday, `-1FR` = last Friday; 0 = every such weekday).
    public struct WeekdaySpec: Hashable, Sendable, CustomStringConvertible {
        public let ordinal: Int
        public let weekday: Int

        public init(weekday: Int, ordinal: Int = 0) {
            self.weekday = weekday
            self.ordinal = ordinal
        }

        public var description: String {
            (ordinal == 0 ? "" : String(ordinal)) + RecurrenceRule.weekdayCodes[weekday - 1]
        }
    }

    public let frequency: Frequency
    public let interval: Int
    public let end: End
    /// Months 1...12; empty when absent.
    public let byMonth: [Int]
    /// Days of the month, ±1...31 (negative counts from the month's end); empty when absent.
    public let byMonthDay: [Int]
    public let byDay: [WeekdaySpec]
    /// Positions ±1...366 within each period's set; empty when absent.
    public let bySetPos: [Int]
    /// ISO weekday the week starts on (WKST, default Monday).
    public let weekStart: Int

    /// Validates the parts as RFC 5545 does for this subset.
    public init(
        frequency: Frequency, interval: Int = 1, end: End = .never, byMonth: [Int] = [],
        byMonthDay: [Int] = [], byDay: [WeekdaySpec] = [], bySetPos: [Int] = [], weekStart: Int = 1
    ) throws(RecurrenceRuleError) {
        func invalid(_ reason: String) -> RecurrenceRuleError { RecurrenceRuleError(.invalid, reason) }
        guard interval >= 1 else { throw invalid("INTERVAL must be a positive integer") }
        if case .count(let n) = end, n < 1 { throw invalid("COUNT must be a positive integer") }
        guard byMonth.allSatisfy({ (1...12).contains($0) }) else { throw invalid("BYMONTH values must be 1 to 12") }
        guard byMonthDay.allSatisfy({ $0 != 0 && abs($0) <= 31 }) else {
            throw invalid("BYMONTHDAY values must be 1 to 31 or -31 to -1")
        }
        guard bySetPos.allSatisfy({ $0 != 0 && abs($0) <= 366 }) else {
            throw invalid("BYSETPOS values must be 1 to 366 or -366 to -1")
        }
        guard (1...7).contains(weekStart) else { throw invalid("WKST must be a weekday") }
        for spec in byDay {
            guard (1...7).contains(spec.weekday), abs(spec.ordinal) <= 53 else {
                throw invalid("BYDAY value \(spec.ordinal)/\(spec.weekday) is out of range")
            }
            // RFC 5545 3.3.10: "MUST NOT be specified with a numeric value" for other frequencies.
            if spec.ordinal != 0, frequency != .monthly, frequency != .yearly {
                throw invalid("BYDAY ordinals (\(spec)) are only allowed with FREQ=MONTHLY or YEARLY")
            }
        }
        self.frequency = frequency
        self.interval = interval
        self.end = end
        self.byMonth = byMonth
        self.byMonthDay = byMonthDay
        self.byDay = byDay
        self.bySetPos = bySetPos
        self.weekStart = weekStart
    }

    /// Parses a `vads_sub_desc` value: an optional `RRULE:` prefix, then `NAME=VALUE` parts
    /// separated by `;`. Names and values are case-insensitive; empty parts (a trailing `;`, as in
    /// the platform's own examples) are ignored; surrounding whitespace is trimmed.
    public static func parse(_ text: some StringProtocol) -> Result<RecurrenceRule, RecurrenceRuleError> {
        do throws(RecurrenceRuleError) {
            return .success(try RecurrenceRule(parsing: text))
        } catch {
            return .failure(error)
        }
    }

    /// The throwing form of `parse`.
    public init(parsing text: some StringProtocol) throws(RecurrenceRuleError) {
        func invalid(_ reason: String) -> RecurrenceRuleError { RecurrenceRuleError(.invalid, reason) }
        func unsupported(_ reason: String) -> RecurrenceRuleError { RecurrenceRuleError(.unsupported, reason) }

        var body = Substring(String(text).uppercased())
        while let c = body.first, c.isWhitespace { body.removeFirst() }
        while let c = body.last, c.isWhitespace { body.removeLast() }
        if body.hasPrefix("RRULE:") { body = body.dropFirst(6) }
        guard !body.isEmpty else { throw invalid("the rule is empty") }
        if body.contains(":") {
            throw unsupported("only a single RRULE is supported (found ':' in \"\(Self.excerpt(body))\")")
        }

        var frequency: Frequency?
        var interval = 1
        var count: Int?
        var until: Day?
        var byMonth: [Int] = []
        var byMonthDay: [Int] = []
        var byDay: [WeekdaySpec] = []
        var bySetPos: [Int] = []
        var weekStart = 1
        var seen: Set<Substring> = []

        for part in body.split(separator: ";", omittingEmptySubsequences: true) {
            guard let eq = part.firstIndex(of: "=") else {
                throw invalid("part \"\(Self.excerpt(part))\" has no '='")
            }
            let name = part[..<eq]
            let value = part[part.index(after: eq)...]
            guard !value.isEmpty else { throw invalid("\(Self.excerpt(name)) has no value") }
            guard seen.insert(name).inserted else { throw invalid("\(Self.excerpt(name)) appears more than once") }
            switch name {
            case "FREQ":
                if let f = Frequency(rawValue: String(value)) {
                    frequency = f
                } else if ["SECONDLY", "MINUTELY", "HOURLY"].contains(value) {
                    throw unsupported("FREQ=\(value): periods shorter than a day are not accepted")
                } else {
                    throw invalid("FREQ=\(Self.excerpt(value)) is not a frequency")
                }
            case "INTERVAL":
                guard let n = Self.integer(value, signed: false), n >= 1 else {
                    throw invalid("INTERVAL=\(Self.excerpt(value)) is not a positive integer")
                }
                interval = n
            case "COUNT":
                guard let n = Self.integer(value, signed: false), n >= 1 else {
                    throw invalid("COUNT=\(Self.excerpt(value)) is not a positive integer")
                }
                count = n
            case "UNTIL":
                guard let d = Self.untilDate(value) else {
                    throw invalid("UNTIL=\(Self.excerpt(value)) is not YYYYMMDD or YYYYMMDDTHHMMSS[Z]")
                }
                until = d
            case "BYMONTH":
                byMonth = try Self.intList(value, name: "BYMONTH", signed: false, range: 1...12)
            case "BYMONTHDAY":
                byMonthDay = try Self.intList(value, name: "BYMONTHDAY", signed: true, range: 1...31)
            case "BYSETPOS":
                bySetPos = try Self.intList(value, name: "BYSETPOS", signed: true, range: 1...366)
            case "BYDAY":
                byDay = try value.split(separator: ",", omittingEmptySubsequences: false).map {
                    (item) throws(RecurrenceRuleError) -> WeekdaySpec in
                    guard let spec = Self.weekdaySpec(item) else {
                        throw invalid("BYDAY value \"\(Self.excerpt(item))\" is not a weekday like MO, 1MO or -1FR")
                    }
                    return spec
                }
            case "WKST":
                guard let i = Self.weekdayCodes.firstIndex(of: String(value)) else {
                    throw invalid("WKST=\(Self.excerpt(value)) is not a weekday")
                }
                weekStart = i + 1
            case "BYWEEKNO", "BYYEARDAY", "BYHOUR", "BYMINUTE", "BYSECOND", "RSCALE", "SKIP":
                throw unsupported("\(name) is not supported")
            default:
                if name.hasPrefix("X-") { throw unsupported("\(Self.excerpt(name)) is not supported") }
                throw invalid("unknown part \"\(Self.excerpt(name))\"")
            }
        }
        guard let frequency else { throw invalid("FREQ is missing") }
        if count != nil, until != nil { throw invalid("COUNT and UNTIL must not both be present") }
        let end: End = count.map { .count($0) } ?? until.map { .until($0) } ?? .never
        try self.init(
            frequency: frequency, interval: interval, end: end, byMonth: byMonth, byMonthDay: byMonthDay,
            byDay: byDay, bySetPos: bySetPos, weekStart: weekStart)
    }

    /// The rule in a canonical spelling (parts in a fixed order, defaults omitted).
    public var description: String {
        var parts = ["FREQ=\(frequency.rawValue)"]
        if interval != 1 { parts.append("INTERVAL=\(interval)") }
        switch end {
        case .never: break
        case .count(let n): parts.append("COUNT=\(n)")
        case .until(let d): parts.append("UNTIL=\(String(describing: d).filter { $0 != "-" })")
        }
        func list(_ name: String, _ values: [some CustomStringConvertible]) {
            if !values.isEmpty { parts.append(name + "=" + values.map(\.description).joined(separator: ",")) }
        }
        list("BYMONTH", byMonth)
        list("BYMONTHDAY", byMonthDay)
        list("BYDAY", byDay)
        list("BYSETPOS", bySetPos)
        if weekStart != 1 { parts.append("WKST=" + Self.weekdayCodes[weekStart - 1]) }
        return parts.joined(separator: ";")
    }

    static let weekdayCodes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

    // MARK: - Value syntax

    /// Decimal digits with an optional sign (only when `signed`); at most 9 digits, so no overflow.
    private static func integer(_ s: Substring, signed: Bool) -> Int? {
        var u = Substring(s).utf8[...]
        var negative = false
        if signed, let c = u.first, c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
            negative = c == UInt8(ascii: "-")
            u = u.dropFirst()
        }
        guard (1...9).contains(u.count), u.allSatisfy({ $0 &- 48 < 10 }) else { return nil }
        let v = u.reduce(0) { $0 * 10 + Int($1 - 48) }
        return negative ? -v : v
    }

    private static func intList(
        _ value: Substring, name: String, signed: Bool, range: ClosedRange<Int>
    ) throws(RecurrenceRuleError) -> [Int] {
        var out: [Int] = []
        for item in value.split(separator: ",", omittingEmptySubsequences: false) {
            guard let v = integer(item, signed: signed), range.contains(abs(v)) else {
                let allowed = signed ? "\(range) or its negative" : "\(range)"
                throw RecurrenceRuleError(.invalid, "\(name) value \"\(excerpt(item))\" is not in \(allowed)")
            }
            out.append(v)
        }
        return out
    }

    private static func weekdaySpec(_ item: Substring) -> WeekdaySpec? {
        guard item.count >= 2, let code = weekdayCodes.firstIndex(of: String(item.suffix(2))) else { return nil }
        let prefix = item.dropLast(2)
        if prefix.isEmpty { return WeekdaySpec(weekday: code + 1) }
        guard let n = integer(prefix, signed: true), n != 0, abs(n) <= 53 else { return nil }
        return WeekdaySpec(weekday: code + 1, ordinal: n)
    }

    /// `YYYYMMDD` or `YYYYMMDDTHHMMSS[Z]`; the time of day is dropped (charges are whole days, and
    /// a charge on the UNTIL day is at or before any time on that day).
    private static func untilDate(_ v: Substring) -> Day? {
        let u = Array(v.utf8)
        if u.count == 8 { return Day(yyyymmdd: v) }
        guard u.count == 15 || (u.count == 16 && u[15] == UInt8(ascii: "Z")), u[8] == UInt8(ascii: "T"),
            u[9..<15].allSatisfy({ $0 &- 48 < 10 })
        else { return nil }
        func n(_ i: Int) -> Int { Int(u[i] - 48) * 10 + Int(u[i + 1] - 48) }
        guard n(9) <= 23, n(11) <= 59, n(13) <= 60 else { return nil }
        return Day(yyyymmdd: v.prefix(8))
    }

    /// Keeps reasons short and printable whatever a buyer's shop typed.
    private static func excerpt(_ s: some StringProtocol) -> String {
        let cleaned = s.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : String($0) }.joined()
        return cleaned.count > 40 ? String(cleaned.prefix(40)) + "…" : cleaned
    }
}

/// Why a rule cannot be evaluated: `.unsupported` when it is valid RFC 5545 outside the
/// platform's subset (HOURLY, BYWEEKNO…), `.invalid` when it is not a valid rule at all.
public struct RecurrenceRuleError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable { case unsupported, invalid }

    public let kind: Kind
    public let reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(kind == .unsupported ? "unsupported" : "invalid") rule: \(reason)" }
}
