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
/// No query walks from `start` to a far reference date or through an endless run of empty
/// periods: see `ChargeIterator`, `ScheduleCount` and `ScheduleReach` for how the work is bounded.
public struct Schedule: Hashable, Sendable {
    public let rule: RecurrenceRule
    public let start: Day

    // The rule reduced to bit masks, defaults from `start` applied.
    let monthFilter: UInt16  // bit m set = month m allowed; 0 = any month
    let positiveMonthDays: UInt32  // bit d-1 = day d
    let negativeMonthDays: UInt32  // bit k-1 = day -k
    let hasMonthDayFilter: Bool
    let plainWeekdays: UInt8  // bit w-1 = ISO weekday w, every occurrence
    let hasOrdinalWeekdays: Bool
    let hasWeekdayFilter: Bool

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
    func monthMask(year: Int, month: Int) -> UInt32 {
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
    func periodKey(of day: Day) -> Int {
        switch rule.frequency {
        case .yearly: return day.year
        case .monthly: return day.year * 12 + day.month - 1
        case .weekly: return day.daysSinceEpoch - (day.weekday - rule.weekStart + 7) % 7
        case .daily: return day.daysSinceEpoch
        }
    }

    var keyStep: Int { rule.frequency == .weekly ? 7 * rule.interval : rule.interval }

    /// After this many consecutive empty periods the rule can never match again. The Gregorian
    /// calendar repeats every 400 years (4800 months, 20871 weeks, 146097 days) and a period's
    /// set depends only on where it falls in that cycle, so once every position reachable with
    /// this INTERVAL has been seen empty, all later ones are too. (dateutil runs to year 9999.)
    var emptyPeriodLimit: Int {
        let cycle: Int
        switch rule.frequency {
        case .yearly: cycle = 400
        case .monthly: cycle = 4800
        case .weekly: cycle = 20871
        case .daily: cycle = 146097
        }
        var a = cycle
        var b = rule.interval
        while b != 0 { (a, b) = (b, a % b) }
        return cycle / a
    }
}

extension UInt32 {
    var reversedBits: UInt32 {
        var v = self
        v = ((v >> 1) & 0x5555_5555) | ((v & 0x5555_5555) << 1)
        v = ((v >> 2) & 0x3333_3333) | ((v & 0x3333_3333) << 2)
        v = ((v >> 4) & 0x0F0F_0F0F) | ((v & 0x0F0F_0F0F) << 4)
        v = ((v >> 8) & 0x00FF_00FF) | ((v & 0x00FF_00FF) << 8)
        return (v >> 16) | (v << 16)
    }
}
