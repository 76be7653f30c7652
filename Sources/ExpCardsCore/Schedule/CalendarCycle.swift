/// The Gregorian calendar's 400-year cycle (146097 days, exactly 20871 weeks): a date and the
/// same date 400 years later fall on the same weekday, so every schedule's pattern repeats.
///
/// A year's "class" (leap or not, weekday of 1 January: 14 classes) fixes the length and first
/// weekday of each of its months, so every month mask a rule yields in that year.
enum CalendarCycle {
    static let years = 400
    static let months = 4800
    static let days = 146097

    /// 0...13: 7 * leap + (weekday of 1 January - 1).
    static func yearClass(_ year: Int) -> Int {
        (Day.isLeap(year) ? 7 : 0) + Day.weekdayOfJanuaryFirst(year) - 1
    }

    /// A year of each class (all 14 occur in 2001...2028).
    static let representativeYear: [Int] = {
        var r = [Int](repeating: 0, count: 14)
        for y in 2001...2028 where r[yearClass(y)] == 0 { r[yearClass(y)] = y }
        return r
    }()

    static func gcd(_ a: Int, _ b: Int) -> Int {
        var a = a
        var b = b
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }
}

extension Day {
    /// ISO weekday of 1 January of `year` (any year, no range check).
    static func weekdayOfJanuaryFirst(_ year: Int) -> Int {
        let y = year - 1
        let days = 365 * y + y / 4 - y / 100 + y / 400  // days from 0001-01-01, a Monday
        return days % 7 + 1
    }
}
