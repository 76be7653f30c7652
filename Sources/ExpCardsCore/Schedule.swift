/// The charge dates of a subscription: a `RecurrenceRule` evaluated with the effect date as DTSTART.
///
/// The charges are the dates that match the rule from `start` on; `start` itself is a charge only
/// when it matches (python-dateutil's reading, not RFC 5545's "DTSTART always counts"). COUNT
/// counts those dates, UNTIL is inclusive. BYxxx parts left out default from `start` as in
/// dateutil: MONTHLY → BYMONTHDAY = start's day (months without that day are skipped), YEARLY →
/// start's month and day, WEEKLY → start's weekday.
///
/// Evaluation walks the rule's periods (a day, a week starting on WKST, a month or a year, every
/// INTERVAL periods from the one holding `start`). A period's candidate days are kept as one
/// 32-bit mask per calendar month it touches (at most 12), so iterating allocates nothing.
public struct Schedule: Hashable, Sendable {
    public let rule: RecurrenceRule
    public let start: Day

    // The rule reduced to bit masks, defaults from `start` applied.
    private let monthFilter: UInt16  // bit m set = month m allowed; 0 = any month
    private let positiveMonthDays: UInt32  // bit d-1 = day d
    private let negativeMonthDays: UInt32  // bit k-1 = day -k
    private let hasMonthDayFilter: Bool
    private let plainWeekdays: UInt8  // bit w-1 = ISO weekday w, every occurrence
    private let hasOrdinalWeekdays: Bool
    private let hasWeekdayFilter: Bool

    public init(rule: RecurrenceRule, start: Day) {
        self.rule = rule
        self.start = start
        var months: UInt16 = 0
        for m in rule.byMonth { months |= 1 << m }
        var positive: UInt32 = 0
        var negative: UInt32 = 0
        for d in rule.byMonthDay {
            if d > 0 { positive |= 1 << (d - 1) } else { negative |= 1 << (-d - 1) }
        }
        var plain: UInt8 = 0
        var ordinals = false
        for spec in rule.byDay {
            if spec.ordinal == 0 { plain |= 1 << (spec.weekday - 1) } else { ordinals = true }
        }
        // dateutil's defaults: only when no day-selecting part is given.
        if rule.byMonthDay.isEmpty, rule.byDay.isEmpty {
            switch rule.frequency {
            case .yearly:
                if months == 0 { months = 1 << start.month }
                positive = 1 << (start.day - 1)
            case .monthly:
                positive = 1 << (start.day - 1)
            case .weekly:
                plain = 1 << (start.weekday - 1)
            case .daily:
                break
            }
        }
        monthFilter = months
        positiveMonthDays = positive
        negativeMonthDays = negative
        hasMonthDayFilter = positive | negative != 0
        plainWeekdays = plain
        hasOrdinalWeekdays = ordinals
        hasWeekdayFilter = plain != 0 || ordinals
    }

    /// Convenience: parses `rule` and builds the schedule.
    public static func parse(_ rule: some StringProtocol, start: Day) -> Result<Schedule, RecurrenceRuleError> {
        RecurrenceRule.parse(rule).map { Schedule(rule: $0, start: start) }
    }

    /// The charges on or after `from` (default: all) and, when given, on or before `through`, in
    /// order. Without `through`, a schedule with neither COUNT nor UNTIL is infinite: bound the
    /// loop. Each `next()` terminates: a rule that can never match again ends the sequence.
    public func charges(from: Day? = nil, through: Day? = nil) -> Charges {
        Charges(schedule: self, from: from, through: through)
    }

    /// The first charge on or after `day`, nil when the schedule has finished by then.
    public func firstCharge(onOrAfter day: Day) -> Day? {
        var it = ChargeIterator(schedule: self, from: day, through: nil)
        return it.next()
    }

    /// The `n`th charge (1-based) of the whole schedule, if it exists and is on or before `through`.
    public func charge(number n: Int, through: Day? = nil) -> Day? {
        guard n >= 1 else { return nil }
        var it = ChargeIterator(schedule: self, from: nil, through: through)
        for _ in 1..<n where it.next() == nil { return nil }
        return it.next()
    }

    // MARK: - Period sets

    /// The days of `month` (1-based) of `year` the BYxxx parts allow, before BYSETPOS: bit d-1 = day d.
    fileprivate func monthMask(year: Int, month: Int) -> UInt32 {
        if monthFilter != 0, monthFilter & (1 << month) == 0 { return 0 }
        let length = Day.daysIn(month: month, year: year)
        let all: UInt32 = (1 << length) - 1
        var mask = all
        if hasMonthDayFilter {
            // Day -k is day length+1-k, i.e. bit length-k.
            let fromEnd = negativeMonthDays == 0 ? 0 : (negativeMonthDays.reversedBits >> (32 - length))
            mask &= positiveMonthDays | fromEnd
        }
        if hasWeekdayFilter {
            let first = Day(year: year, month: month, day: 1)?.weekday ?? 1
            var days: UInt32 = 0
            if plainWeekdays != 0 {
                // Bit k of `week` = the weekday of day k+1 is in the set; the pattern repeats every 7 days.
                let shift = first - 1
                let rotated = (UInt32(plainWeekdays) >> shift) | (UInt32(plainWeekdays) << (7 - shift))
                let week = rotated & 0x7F
                days |= week | week << 7 | week << 14 | week << 21 | week << 28
            }
            if hasOrdinalWeekdays { days |= ordinalDays(year: year, month: month, firstWeekday: first, length: length) }
            mask &= days
        }
        return mask & all
    }

    /// Days of the month picked by BYDAY ordinals: the nth weekday of the month (MONTHLY, or
    /// YEARLY with BYMONTH) or of the year (YEARLY without BYMONTH), as RFC 5545 and dateutil read them.
    private func ordinalDays(year: Int, month: Int, firstWeekday: Int, length: Int) -> UInt32 {
        var days: UInt32 = 0
        let withinYear = rule.frequency == .yearly && rule.byMonth.isEmpty
        // Count positions from the start of the month or of the year (1-based day numbers).
        let spanFirstWeekday: Int
        let spanLength: Int
        let offset: Int  // span day number of this month's day 1, minus 1
        if withinYear {
            spanFirstWeekday = Day(year: year, month: 1, day: 1)?.weekday ?? 1
            spanLength = Day.isLeap(year) ? 366 : 365
            offset = (Day(year: year, month: month, day: 1)?.dayOfYear ?? 1) - 1
        } else {
            spanFirstWeekday = firstWeekday
            spanLength = length
            offset = 0
        }
        let spanLastWeekday = (spanFirstWeekday - 1 + spanLength - 1) % 7 + 1
        for spec in rule.byDay where spec.ordinal != 0 {
            let n: Int
            if spec.ordinal > 0 {
                n = 1 + (spec.weekday - spanFirstWeekday + 7) % 7 + 7 * (spec.ordinal - 1)
            } else {
                n = spanLength - (spanLastWeekday - spec.weekday + 7) % 7 + 7 * (spec.ordinal + 1)
            }
            let d = n - offset
            if d >= 1, d <= length { days |= 1 << (d - 1) }
        }
        return days
    }

    // MARK: - Period arithmetic

    /// A period's key: the year (YEARLY), months since year 0 (MONTHLY), days since the epoch of
    /// the week's first day (WEEKLY) or of the day (DAILY). Consecutive periods of the rule are
    /// `keyStep` apart.
    fileprivate func periodKey(of day: Day) -> Int {
        switch rule.frequency {
        case .yearly: return day.year
        case .monthly: return day.year * 12 + day.month - 1
        case .weekly: return day.daysSinceEpoch - (day.weekday - rule.weekStart + 7) % 7
        case .daily: return day.daysSinceEpoch
        }
    }

    fileprivate var keyStep: Int { rule.frequency == .weekly ? 7 * rule.interval : rule.interval }

    /// After this many consecutive empty periods the rule can never match again. The Gregorian
    /// calendar repeats every 400 years (4800 months, 20871 weeks, 146097 days) and a period's
    /// set depends only on where it falls in that cycle, so once every position reachable with
    /// this INTERVAL has been seen empty, all later ones are too. (dateutil runs to year 9999.)
    fileprivate var emptyPeriodLimit: Int {
        let cycle: Int
        switch rule.frequency {
        case .yearly: cycle = 400
        case .monthly: cycle = 4800
        case .weekly: cycle = 20871
        case .daily: cycle = 146097
        }
        var a = cycle, b = rule.interval
        while b != 0 { (a, b) = (b, a % b) }
        return cycle / a
    }
}

/// A lazy sequence of charge dates; see `Schedule.charges(from:through:)`.
public struct Charges: Sequence, Sendable {
    public let schedule: Schedule
    public let from: Day?
    public let through: Day?

    public func makeIterator() -> ChargeIterator { ChargeIterator(schedule: schedule, from: from, through: through) }
}

/// Walks a schedule period by period. A value type with no heap storage of its own.
public struct ChargeIterator: IteratorProtocol, Sendable {
    private let schedule: Schedule
    /// Charges before this are not returned (but, with COUNT, still counted).
    private let emitFrom: Day
    /// Nothing after this is looked at: UNTIL and the caller's bound, whichever is earlier.
    private let upperBound: Day?
    private let countLimit: Int?
    private var counted = 0
    private var finished = false

    private var nextKey: Int
    private var emptyPeriods = 0
    /// The current period's days: masks[i] holds the days of month `firstMonth + i`.
    private var masks = MonthMasks()
    private var firstMonth = 0  // year * 12 + month - 1
    private var monthCount = 0
    private var current = 0
    /// DAILY and WEEKLY periods revisit the same month: its mask is computed once.
    private var cachedMonth = -1
    private var cachedMask: UInt32 = 0

    init(schedule: Schedule, from: Day?, through: Day?) {
        self.schedule = schedule
        let start = schedule.start
        emitFrom = from.map { max($0, start) } ?? start
        var upper = through
        switch schedule.rule.end {
        case .never: countLimit = nil
        case .count(let n): countLimit = n
        case .until(let u):
            countLimit = nil
            upper = upper.map { min($0, u) } ?? u
        }
        upperBound = upper
        let startKey = schedule.periodKey(of: start)
        if countLimit == nil, emitFrom > start {
            // Nothing to count: jump straight to the period holding `emitFrom`.
            let step = schedule.keyStep
            nextKey = startKey + (schedule.periodKey(of: emitFrom) - startKey) / step * step
        } else {
            nextKey = startKey
        }
    }

    public mutating func next() -> Day? {
        while !finished {
            while current < monthCount {
                let mask = masks[current]
                guard mask != 0 else {
                    current += 1
                    continue
                }
                masks[current] = mask & (mask - 1)
                let index = firstMonth + current
                guard let day = Day(year: index / 12, month: index % 12 + 1, day: mask.trailingZeroBitCount + 1)
                else { break }  // past year 9999
                if day < schedule.start { continue }
                if let upperBound, day > upperBound { break }
                if let countLimit {
                    guard counted < countLimit else { break }
                    counted += 1
                }
                if day < emitFrom { continue }
                return day
            }
            if current < monthCount {  // left the loop by `break`: the schedule is over
                finished = true
            } else {
                loadNextPeriod()
            }
        }
        return nil
    }

    /// Fills `masks` with the next period's charge days (BYSETPOS applied), or sets `finished`.
    private mutating func loadNextPeriod() {
        let key = nextKey
        nextKey += schedule.keyStep
        current = 0
        let periodStart: Day
        switch schedule.rule.frequency {
        case .yearly:
            periodStart = Day(year: key, month: 1, day: 1) ?? Day(daysSinceEpoch: Int.max / 2)
            firstMonth = key * 12
            monthCount = 12
            for i in 0..<12 { masks[i] = schedule.monthMask(year: key, month: i + 1) }
        case .monthly:
            periodStart = Day(year: key / 12, month: key % 12 + 1, day: 1) ?? Day(daysSinceEpoch: Int.max / 2)
            firstMonth = key
            monthCount = 1
            masks[0] = schedule.monthMask(year: key / 12, month: key % 12 + 1)
        case .weekly:
            periodStart = Day(daysSinceEpoch: key)
            firstMonth = periodStart.year * 12 + periodStart.month - 1
            let length = periodStart.daysInMonth
            let lastDay = periodStart.day + 6
            // The week's days within its first month, then (if it spills over) within the next.
            let inFirst: UInt32 = ((1 << UInt32(min(lastDay, length))) - 1) & ~((1 << UInt32(periodStart.day - 1)) - 1)
            masks[0] = monthMask(firstMonth) & inFirst
            if lastDay > length {
                masks[1] = monthMask(firstMonth + 1) & ((1 << UInt32(lastDay - length)) - 1)
                monthCount = 2
            } else {
                monthCount = 1
            }
        case .daily:
            periodStart = Day(daysSinceEpoch: key)
            firstMonth = periodStart.year * 12 + periodStart.month - 1
            monthCount = 1
            masks[0] = monthMask(firstMonth) & (1 << (periodStart.day - 1))
        }
        if periodStart.year > 9999 || (upperBound.map { periodStart > $0 } ?? false) {
            finished = true
            return
        }
        if !schedule.rule.bySetPos.isEmpty { applySetPositions() }

        var empty = true
        for i in 0..<monthCount where masks[i] != 0 { empty = false }
        if empty {
            emptyPeriods += 1
            if emptyPeriods >= schedule.emptyPeriodLimit { finished = true }
        } else {
            emptyPeriods = 0
        }
    }

    private mutating func monthMask(_ index: Int) -> UInt32 {
        if index != cachedMonth {
            cachedMonth = index
            cachedMask = schedule.monthMask(year: index / 12, month: index % 12 + 1)
        }
        return cachedMask
    }

    /// Keeps only the BYSETPOS-th days of the period's set (the whole period's, including days
    /// before DTSTART, as RFC 5545 says — see the WEEKLY note in the tests on dateutil#1398).
    private mutating func applySetPositions() {
        var total = 0
        for i in 0..<monthCount { total += masks[i].nonzeroBitCount }
        var kept = MonthMasks()
        for pos in schedule.rule.bySetPos {
            var index = pos > 0 ? pos - 1 : total + pos  // 0-based position in the set
            guard index >= 0, index < total else { continue }
            for i in 0..<monthCount {
                var mask = masks[i]
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
        masks = kept
    }
}

/// Twelve month masks stored inline, so iterators never touch the heap.
private struct MonthMasks: Sendable {
    private var storage: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    subscript(i: Int) -> UInt32 {
        get {
            precondition(i >= 0 && i < 12)
            return withUnsafeBytes(of: storage) { $0.load(fromByteOffset: i * 4, as: UInt32.self) }
        }
        set {
            precondition(i >= 0 && i < 12)
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: newValue, toByteOffset: i * 4, as: UInt32.self) }
        }
    }
}

extension UInt32 {
    fileprivate var reversedBits: UInt32 {
        var v = self
        v = ((v >> 1) & 0x5555_5555) | ((v & 0x5555_5555) << 1)
        v = ((v >> 2) & 0x3333_3333) | ((v & 0x3333_3333) << 2)
        v = ((v >> 4) & 0x0F0F_0F0F) | ((v & 0x0F0F_0F0F) << 4)
        v = ((v >> 8) & 0x00FF_00FF) | ((v & 0x00FF_00FF) << 8)
        return (v >> 16) | (v << 16)
    }
}
