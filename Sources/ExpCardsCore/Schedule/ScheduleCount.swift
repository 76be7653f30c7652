/// Counting a schedule's charges over a span by arithmetic on its periods, not by walking them:
/// what lets COUNT be honoured from an effect date centuries before the reference date.
///
/// - A bound: COUNT larger than every charge the calendar can hold from DTSTART never ends the
///   schedule, so it is ignored (`FREQ=DAILY;COUNT=999999999`).
/// - INTERVAL=1: a year's charges depend only on its class (14 kinds), so whole years are
///   counted from a 14-entry table, and whole 400-year cycles by multiplication.
/// - INTERVAL>1: the pattern repeats every `repetitionYears` (a multiple of 400), so one
///   repetition is counted and multiplied.
/// - Within a span, DAILY and plain WEEKLY rules are counted a month at a time (a popcount of
///   the month's mask and of the days INTERVAL reaches), the others a period at a time.
extension Schedule {
    /// More charges than the schedule can have up to year 9999 (COUNT and UNTIL aside).
    var chargeBound: Int {
        let last = periodKey(of: Day(year: 9999, month: 12, day: 31)!)
        let periods = max(0, (last - startKey) / keyStep + 1)
        var perPeriod: Int
        switch rule.frequency {
        case .daily: perPeriod = 1
        case .weekly: perPeriod = 7
        case .monthly: perPeriod = 31
        case .yearly: perPeriod = 366
        }
        if !rule.bySetPos.isEmpty { perPeriod = min(perPeriod, rule.bySetPos.count) }
        return periods * perPeriod
    }

    /// The charges on days before `end`: exact when below `cap`, otherwise some number >= `cap`.
    func charges(before end: Day, cap: Int, work: inout Int) -> Int {
        guard end > start else { return 0 }
        if rule.interval == 1 { return chargesByYears(before: end, cap: cap, work: &work) }
        let years = repetitionYears
        // Whole repetitions only pay when there are at least two of them.
        guard start.year + 2 * years <= end.year,
            let once = Day(year: start.year + years, month: start.month, day: start.day)
        else { return count(from: start, to: end, cap: cap, work: &work) }
        let perRepetition = count(from: start, to: once, cap: .max, work: &work)
        var q = (end.year - start.year) / years
        while q > 0, Day(year: start.year + q * years, month: start.month, day: start.day)! > end { q -= 1 }
        let (whole, overflow) = perRepetition.multipliedReportingOverflow(by: q)
        if overflow || whole >= cap { return max(whole, cap) }
        let from = Day(year: start.year + q * years, month: start.month, day: start.day)!
        return whole + count(from: from, to: end, cap: cap - whole, work: &work)
    }

    /// After this many years the charges repeat, shifted by as many years: a common multiple of
    /// the calendar's 400 years and of INTERVAL periods.
    var repetitionYears: Int {
        let cycle: Int  // the calendar cycle in period keys
        switch rule.frequency {
        case .yearly: cycle = CalendarCycle.years
        case .monthly: cycle = CalendarCycle.months
        case .weekly, .daily: cycle = CalendarCycle.days
        }
        let step = keyStep
        return step / CalendarCycle.gcd(cycle, step) * CalendarCycle.years
    }

    /// INTERVAL=1: the first year in part, whole years by their class, the last year in part.
    private func chargesByYears(before end: Day, cap: Int, work: inout Int) -> Int {
        let nextYear = Day(year: start.year + 1, month: 1, day: 1) ?? Schedule.beyondCalendar
        var n = count(from: start, to: min(end, nextYear), cap: cap, work: &work)
        guard n < cap, end > nextYear else { return n }
        let firstWhole = start.year + 1
        let lastWhole = end.year - 1
        if lastWhole - firstWhole < 4 { return n + count(from: nextYear, to: end, cap: cap - n, work: &work) }

        let perClass = chargesPerYearClass(work: &work)
        let years = lastWhole - firstWhole + 1
        func sum(from year: Int, years: Int, work: inout Int) -> Int {
            work += years
            var total = 0
            var weekday = Day.weekdayOfJanuaryFirst(year)
            for y in year..<(year + years) {
                let leap = Day.isLeap(y)
                total += perClass[(leap ? 7 : 0) + weekday - 1]
                weekday = (weekday - 1 + (leap ? 2 : 1)) % 7 + 1
            }
            return total
        }
        let cycles = years / CalendarCycle.years
        if cycles > 0 { n += cycles * sum(from: firstWhole, years: CalendarCycle.years, work: &work) }
        n += sum(from: firstWhole, years: years % CalendarCycle.years, work: &work)  // the same classes 400 years on
        guard n < cap, let lastYear = Day(year: end.year, month: 1, day: 1) else { return n }
        return n + count(from: lastYear, to: end, cap: cap - n, work: &work)
    }

    /// INTERVAL=1: the charges in a whole year of each class, whatever DTSTART.
    private func chargesPerYearClass(work: inout Int) -> [Int] {
        var perClass = [Int](repeating: 0, count: 14)
        // A month's days depend on its weekdays only through BYDAY (and a week's bounds).
        let byLeapOnly = !hasWeekdayFilter && rule.frequency != .weekly
        for c in 0..<14 {
            if byLeapOnly, c % 7 != 0 {
                perClass[c] = perClass[c / 7 * 7]
                continue
            }
            let year = CalendarCycle.representativeYear[c]
            perClass[c] = count(
                from: Day(year: year, month: 1, day: 1)!, to: Day(year: year + 1, month: 1, day: 1)!, cap: .max,
                ignoringStart: true, work: &work)
        }
        return perClass
    }

    /// The charges on days in [from, to) (and on or after DTSTART unless `ignoringStart`, which
    /// INTERVAL=1 allows: then every period is reached); counting stops at `cap`.
    func count(from: Day, to end: Day, cap: Int, ignoringStart: Bool = false, work: inout Int) -> Int {
        let lower = ignoringStart ? from : max(from, start)
        guard lower < end, lower.year <= 9999 else { return 0 }
        let step = keyStep
        // DAILY and plain WEEKLY a month or a year at a time while INTERVAL reaches several days a
        // month; with a larger INTERVAL, walking the reached periods themselves is cheaper.
        switch rule.frequency {
        case .daily where step < 32:
            // A day's set is the day itself: BYSETPOS keeps it with 1 or -1, or never.
            if !rule.bySetPos.isEmpty, !rule.bySetPos.contains(1), !rule.bySetPos.contains(-1) { return 0 }
            return countByYears(from: lower, to: end, cap: cap, width: 1, period: step, work: &work)
        case .weekly where rule.bySetPos.isEmpty && rule.interval < 10:
            return countByYears(from: lower, to: end, cap: cap, width: 7, period: step, work: &work)
        default:
            var cache = MonthMaskCache()
            var key = periodKey(of: lower)
            if !ignoringStart { key = reachedKey(atOrAfter: key) }
            var n = 0
            while n < cap {
                let p = period(key: key, cache: &cache)
                work += 1
                if p.start >= end || p.start.year > 9999 { break }
                n += p.count(from: lower, to: end)
                key += step
            }
            return n
        }
    }

    /// Days reached every `period` days in runs of `width` from DTSTART's period (DAILY: runs of
    /// one day every INTERVAL; WEEKLY: whole weeks every INTERVAL weeks), counted month by month.
    /// `countByMonths` over a long span: whole years from a table of (year class, phase of the
    /// reached days at 1 January), each entry counted once from a representative year, so a
    /// span of centuries costs one step a year (the callers keep INTERVAL small enough for the
    /// 14 × period entries to be shared by many years).
    private func countByYears(
        from lower: Day, to end: Day, cap: Int, width: Int, period: Int, work: inout Int
    ) -> Int {
        let firstWhole = lower.year + 1
        let lastWhole = end.year - 1
        guard period > width, lastWhole - firstWhole >= 8,
            let nextYear = Day(year: firstWhole, month: 1, day: 1), let lastYear = Day(year: end.year, month: 1, day: 1)
        else { return countByMonths(from: lower, to: end, cap: cap, width: width, period: period, work: &work) }
        var n = countByMonths(from: lower, to: nextYear, cap: cap, width: width, period: period, work: &work)
        var table = [Int](repeating: -1, count: 14 * period)
        var weekday = Day.weekdayOfJanuaryFirst(firstWhole)
        var phase = ((nextYear.daysSinceEpoch - startKey) % period + period) % period
        var year = firstWhole
        while year <= lastWhole, n < cap {
            work += 1
            let leap = Day.isLeap(year)
            let c = (leap ? 7 : 0) + weekday - 1
            let index = c * period + phase
            if table[index] < 0 {
                let rep = CalendarCycle.representativeYear[c]
                let jan1 = Day(year: rep, month: 1, day: 1)!
                table[index] = countByMonths(
                    from: jan1, to: Day(year: rep + 1, month: 1, day: 1)!, cap: .max, width: width, period: period,
                    origin: jan1.daysSinceEpoch - phase, work: &work)
            }
            n += table[index]
            let length = leap ? 366 : 365
            weekday = (weekday - 1 + length) % 7 + 1
            phase = (phase + length) % period
            year += 1
        }
        guard n < cap else { return n }
        return n + countByMonths(from: lastYear, to: end, cap: cap - n, width: width, period: period, work: &work)
    }

    private func countByMonths(
        from lower: Day, to end: Day, cap: Int, width: Int, period: Int, origin: Int? = nil, work: inout Int
    ) -> Int {
        let origin = origin ?? startKey
        var n = 0
        var year = lower.year
        var month = lower.month
        while n < cap, year <= 9999, (year, month) <= (end.year, end.month) {
            work += 1
            var mask = monthMask(year: year, month: month)
            if (year, month) == (lower.year, lower.month) { mask &= ~((1 << UInt32(lower.day - 1)) - 1) }
            if (year, month) == (end.year, end.month) { mask &= (1 << UInt32(end.day - 1)) - 1 }
            if mask != 0, period > width {
                let first = Day(year: year, month: month, day: 1)!
                let length = first.daysInMonth
                // Day t (0-based) of the month is reached when (r + t) mod period < width.
                let r = ((first.daysSinceEpoch - origin) % period + period) % period
                var reached: UInt32 = 0
                var t = r < width ? -r : period - r
                while t < length {
                    let lo = max(t, 0)
                    let hi = min(t + width, length)
                    if lo < hi { reached |= ((1 << UInt32(hi)) - 1) & ~((1 << UInt32(lo)) - 1) }
                    t += period
                }
                mask &= reached
            }
            n += mask.nonzeroBitCount
            month += 1
            if month > 12 {
                month = 1
                year += 1
            }
        }
        return n
    }
}

extension Schedule {
    /// The fewest and most charges one period can hold, over every kind of period the calendar
    /// has. When they are equal (monthly on the 15th, weekly on Saturdays, daily), the charges
    /// of n whole periods are n times that: counted without looking at a single period.
    func chargesPerPeriod() -> (fewest: Int, most: Int) {
        switch rule.frequency {
        case .daily:
            if !rule.bySetPos.isEmpty, !rule.bySetPos.contains(1), !rule.bySetPos.contains(-1) { return (0, 0) }
            return monthFilter == 0 && !hasMonthDayFilter && !hasWeekdayFilter ? (1, 1) : (0, 1)
        case .weekly:
            guard monthFilter == 0, !hasMonthDayFilter else { return (0, 7) }
            let k = plainWeekdays.nonzeroBitCount
            guard !rule.bySetPos.isEmpty else { return (k, k) }
            let picked = Set(
                rule.bySetPos.compactMap { p -> Int? in
                    let i = p > 0 ? p - 1 : k + p
                    return i >= 0 && i < k ? i : nil
                })
            return (picked.count, picked.count)
        case .monthly, .yearly:
            var fewest = Int.max
            var most = 0
            var cache = MonthMaskCache()
            for c in 0..<14 where hasWeekdayFilter || c % 7 == 0 {
                let year = CalendarCycle.representativeYear[c]
                let keys = rule.frequency == .yearly ? [year] : Array((year * 12)..<(year * 12 + 12))
                for key in keys {
                    let n = period(key: key, cache: &cache).count()
                    fewest = min(fewest, n)
                    most = max(most, n)
                }
            }
            return (fewest, most)
        }
    }
}
