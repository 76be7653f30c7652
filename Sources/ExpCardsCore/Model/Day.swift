import Glibc

/// A calendar day (proleptic Gregorian, no time zone): the unit of every date in an EXP_CARDS file.
///
/// Hand-written rather than Foundation's `Calendar`: the parser builds millions of these, and the
/// schedule maths needs only day arithmetic, month clamping and weekdays, which are a few lines of
/// integer arithmetic (Howard Hinnant's `days_from_civil`) with no allocation and no time zone.
public struct Day: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// A valid day, or nil (month 1...12, day within the month, year 1...9999).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            day >= 1, day <= Day.daysIn(month: month, year: year)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    private init(unchecked year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYYMMDD` (8 ASCII digits, a real date).
    public init?(yyyymmdd s: some StringProtocol) {
        let u = Array(s.utf8)
        guard u.count == 8, u.allSatisfy({ $0 &- 48 < 10 }) else { return nil }
        func n(_ r: Range<Int>) -> Int { r.reduce(0) { $0 * 10 + Int(u[$1] - 48) } }
        self.init(year: n(0..<4), month: n(4..<6), day: n(6..<8))
    }

    /// Parses `YYYY-MM-DD`.
    public init?(iso s: some StringProtocol) {
        let u = Array(s.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-") else { return nil }
        self.init(yyyymmdd: String(decoding: u[0..<4] + u[5..<7] + u[8..<10], as: UTF8.self))
    }

    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public var daysInMonth: Int { Day.daysIn(month: month, year: year) }

    /// Days since 1970-01-01 (negative before).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    public init(daysSinceEpoch z0: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(unchecked: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public func adding(days n: Int) -> Day { Day(daysSinceEpoch: daysSinceEpoch + n) }

    /// Calendar months later (or earlier), the day clamped to the target month's last day
    /// (Jan 31 + 1 month = Feb 28 or 29).
    public func adding(months n: Int) -> Day {
        let index = year * 12 + (month - 1) + n
        let y = index / 12
        let m = index % 12 + 1
        return Day(unchecked: y, m, min(day, Day.daysIn(month: m, year: y)))
    }

    /// ISO weekday: 1 = Monday ... 7 = Sunday.
    public var weekday: Int {
        let w = (daysSinceEpoch % 7 + 7 + 3) % 7  // 1970-01-01 was a Thursday
        return w + 1
    }

    /// Days since Jan 1 of the same year, 1-based.
    public var dayOfYear: Int { daysSinceEpoch - Day(unchecked: year, 1, 1).daysSinceEpoch + 1 }

    public static func < (a: Day, b: Day) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// Today in UTC.
    public static func todayUTC() -> Day {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Day(daysSinceEpoch: Int(ts.tv_sec) / 86400)
    }
}

/// A year and month (`YYYY-MM`): a file's month, a report's month.
public struct YearMonth: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    public init?(year: Int, month: Int) {
        guard (1...9999).contains(year), (1...12).contains(month) else { return nil }
        self.year = year
        self.month = month
    }

    /// Parses `YYYY-MM` or `YYYYMM`.
    public init?(_ s: some StringProtocol) {
        let u = Array(s.utf8).filter { $0 != UInt8(ascii: "-") }
        guard u.count == 6, s.utf8.count == 6 || (s.utf8.count == 7 && Array(s.utf8)[4] == UInt8(ascii: "-")),
            u.allSatisfy({ $0 &- 48 < 10 })
        else { return nil }
        let v = u.reduce(0) { $0 * 10 + Int($1 - 48) }
        self.init(year: v / 100, month: v % 100)
    }

    public init(_ day: Day) {
        year = day.year
        month = day.month
    }

    public var firstDay: Day { Day(year: year, month: month, day: 1)! }

    public func adding(months n: Int) -> YearMonth {
        let index = year * 12 + (month - 1) + n
        return YearMonth(year: index / 12, month: index % 12 + 1) ?? self
    }

    public static func < (a: YearMonth, b: YearMonth) -> Bool { (a.year, a.month) < (b.year, b.month) }

    public var description: String {
        let y = String(year)
        let m = String(month)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-" + (m.count == 1 ? "0" : "") + m
    }
}
