/// One period of a schedule (a day, a week, a month or a year) and its charge days, BYSETPOS
/// applied, as one 32-bit mask per calendar month it touches (at most 12): no allocation.
struct SchedulePeriod: Sendable {
    /// masks[i] holds the days of month `firstMonth + i` (bit d-1 = day d).
    var masks = MonthMasks()
    var firstMonth = 0  // year * 12 + month - 1
    var monthCount = 0
    /// The period's first day; past year 9999 for a period beyond the calendar.
    var start: Day

    var isEmpty: Bool {
        for i in 0..<monthCount where masks[i] != 0 { return false }
        return true
    }

    /// The charge days in [from, to), all of them when both are nil.
    func count(from: Day? = nil, to: Day? = nil) -> Int {
        var n = 0
        for i in 0..<monthCount {
            var mask = masks[i]
            guard mask != 0 else { continue }
            let index = firstMonth + i
            let year = index / 12
            let month = index % 12 + 1
            if let from, (year, month) <= (from.year, from.month) {
                if (year, month) < (from.year, from.month) { continue }
                mask &= ~((1 << UInt32(from.day - 1)) - 1)
            }
            if let to, (year, month) >= (to.year, to.month) {
                if (year, month) > (to.year, to.month) { continue }
                mask &= (1 << UInt32(to.day - 1)) - 1
            }
            n += mask.nonzeroBitCount
        }
        return n
    }
}

/// The last month mask computed: DAILY and WEEKLY periods revisit the same month.
struct MonthMaskCache: Sendable {
    private var month = -1
    private var mask: UInt32 = 0

    mutating func mask(_ schedule: Schedule, _ index: Int) -> UInt32 {
        if index != month {
            month = index
            mask = schedule.monthMask(year: index / 12, month: index % 12 + 1)
        }
        return mask
    }
}

extension Schedule {
    /// Period `key`'s charge days (before COUNT, UNTIL and DTSTART are applied).
    func period(key: Int, cache: inout MonthMaskCache) -> SchedulePeriod {
        var p = SchedulePeriod(start: Schedule.beyondCalendar)
        switch rule.frequency {
        case .yearly:
            guard let first = Day(year: key, month: 1, day: 1) else { return p }
            p.start = first
            p.firstMonth = key * 12
            p.monthCount = 12
            for i in 0..<12 { p.masks[i] = monthMask(year: key, month: i + 1) }
        case .monthly:
            guard let first = Day(year: key / 12, month: key % 12 + 1, day: 1) else { return p }
            p.start = first
            p.firstMonth = key
            p.monthCount = 1
            p.masks[0] = monthMask(year: key / 12, month: key % 12 + 1)
        case .weekly:
            let first = Day(daysSinceEpoch: key)
            p.start = first
            guard first.year <= 9999 else { return p }
            p.firstMonth = first.year * 12 + first.month - 1
            let length = first.daysInMonth
            let lastDay = first.day + 6
            // The week's days within its first month, then (if it spills over) within the next.
            let inFirst: UInt32 = ((1 << UInt32(min(lastDay, length))) - 1) & ~((1 << UInt32(first.day - 1)) - 1)
            p.masks[0] = cache.mask(self, p.firstMonth) & inFirst
            if lastDay > length {
                p.masks[1] =
                    first.year == 9999 && first.month == 12
                    ? 0 : cache.mask(self, p.firstMonth + 1) & ((1 << UInt32(lastDay - length)) - 1)
                p.monthCount = 2
            } else {
                p.monthCount = 1
            }
        case .daily:
            let first = Day(daysSinceEpoch: key)
            p.start = first
            guard first.year <= 9999 else { return p }
            p.firstMonth = first.year * 12 + first.month - 1
            p.monthCount = 1
            p.masks[0] = cache.mask(self, p.firstMonth) & (1 << (first.day - 1))
        }
        if !rule.bySetPos.isEmpty { applySetPositions(&p) }
        return p
    }

    /// A day after the calendar's end: where a period past year 9999 "starts".
    static let beyondCalendar = Day(daysSinceEpoch: Day(year: 9999, month: 12, day: 31)!.daysSinceEpoch + 1)

    /// Keeps only the BYSETPOS-th days of the period's set (the whole period's, including days
    /// before DTSTART, as RFC 5545 says — see the WEEKLY note in the tests on dateutil#1398).
    private func applySetPositions(_ p: inout SchedulePeriod) {
        var total = 0
        for i in 0..<p.monthCount { total += p.masks[i].nonzeroBitCount }
        var kept = MonthMasks()
        for pos in rule.bySetPos {
            var index = pos > 0 ? pos - 1 : total + pos  // 0-based position in the set
            guard index >= 0, index < total else { continue }
            for i in 0..<p.monthCount {
                var mask = p.masks[i]
                let n = mask.nonzeroBitCount
                if index >= n {
                    index -= n
                    continue
                }
                for _ in 0..<index { mask &= mask - 1 }
                kept[i] |= mask & (~mask &+ 1)  // lowest remaining bit
                break
            }
        }
        p.masks = kept
    }

    /// The first day of period `key`.
    func periodStart(key: Int) -> Day {
        switch rule.frequency {
        case .yearly: return Day(year: key, month: 1, day: 1) ?? Schedule.beyondCalendar
        case .monthly: return Day(year: key / 12, month: key % 12 + 1, day: 1) ?? Schedule.beyondCalendar
        case .weekly, .daily: return Day(daysSinceEpoch: key)
        }
    }

    /// The key of DTSTART's period: every reached period is `keyStep * n` after it.
    var startKey: Int { periodKey(of: start) }

    /// The first reached period whose key is at least `key`.
    func reachedKey(atOrAfter key: Int) -> Int {
        let origin = startKey
        let step = keyStep
        guard key > origin else { return origin }
        return origin + (key - origin + step - 1) / step * step
    }
}
