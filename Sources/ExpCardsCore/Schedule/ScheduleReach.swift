/// Which days a schedule can ever charge, seen through the calendar's 14 kinds of year.
///
/// Computed by an iterator only once it meets a run of empty periods, so ordinary rules never
/// pay for it. It recognises rules that can never match (BYMONTHDAY=30 in February, BYMONTHDAY=31
/// in 30-day months, a BYSETPOS beyond every period's size, an INTERVAL that never reaches the
/// allowed weekdays or months) and lets the iterator jump over months and years that hold no
/// candidate day, instead of walking them period by period.
struct ScheduleReach: Sendable {
    /// Bit c: a year of class c (`CalendarCycle.yearClass`) has a candidate day (the BYxxx
    /// filters; INTERVAL and BYSETPOS not applied).
    var yearClasses: UInt16 = 0
    var neverMatches = false
}

extension Schedule {
    func reach(work: inout Int) -> ScheduleReach {
        var r = ScheduleReach()
        var monthsOfYear: UInt16 = 0  // bit m: month m holds a candidate in some kind of year
        var largestMonth = 0
        var largestYear = 0
        for c in 0..<14 {
            // Without a weekday filter a month's days depend only on its length: two kinds of year.
            if !hasWeekdayFilter, c % 7 != 0 {
                if r.yearClasses & (1 << (c / 7 * 7)) != 0 { r.yearClasses |= 1 << c }
                continue
            }
            let year = CalendarCycle.representativeYear[c]
            var inYear = 0
            for m in 1...12 where monthFilter == 0 || monthFilter & (1 << m) != 0 {
                work += 1
                let n = monthMask(year: year, month: m).nonzeroBitCount
                guard n > 0 else { continue }
                monthsOfYear |= 1 << m
                inYear += n
                largestMonth = max(largestMonth, n)
            }
            if inYear > 0 { r.yearClasses |= 1 << c }
            largestYear = max(largestYear, inYear)
        }
        if !rule.bySetPos.isEmpty {
            // The largest set a period can hold; a position beyond it never selects anything.
            let largest: Int
            switch rule.frequency {
            case .daily: largest = 1
            case .weekly:
                // WEEKLY takes no BYDAY ordinals: at most its weekdays, or its days of the month.
                var n = 7
                if plainWeekdays != 0 { n = min(n, plainWeekdays.nonzeroBitCount) }
                if hasMonthDayFilter { n = min(n, rule.byMonthDay.count) }
                largest = n
            case .monthly: largest = largestMonth
            case .yearly: largest = largestYear
            }
            if !rule.bySetPos.contains(where: { abs($0) <= largest }) { r.neverMatches = true }
        }
        let interval = rule.interval
        switch rule.frequency {
        case .daily where interval % 7 == 0 && plainWeekdays != 0:
            // Every charge falls on DTSTART's weekday.
            if plainWeekdays & (1 << (start.weekday - 1)) == 0 { r.neverMatches = true }
        case .monthly:
            // Reached months of the year: DTSTART's, every gcd(INTERVAL, 12) months.
            let g = CalendarCycle.gcd(interval, 12)
            var reached: UInt16 = 0
            for m in 1...12 where (m - start.month + 12) % g == 0 { reached |= 1 << m }
            if reached & monthsOfYear == 0 { r.neverMatches = true }
        default:
            break
        }
        if r.yearClasses == 0 { r.neverMatches = true }
        return r
    }

    /// The first day on or after `day` that the BYxxx filters allow (INTERVAL and BYSETPOS
    /// aside), nil when there is none up to year 9999. Years without a candidate are skipped by
    /// their class, so this looks at a few dozen years and twelve months at most.
    func firstCandidate(onOrAfter day: Day, reach: ScheduleReach, work: inout Int) -> Day? {
        var year = day.year
        var month = day.month
        var from = day.day
        while year <= 9999 {
            work += 1
            if reach.yearClasses & (1 << CalendarCycle.yearClass(year)) != 0 {
                while month <= 12 {
                    work += 1
                    let mask = monthMask(year: year, month: month) & ~((1 << UInt32(from - 1)) - 1)
                    if mask != 0 { return Day(year: year, month: month, day: mask.trailingZeroBitCount + 1) }
                    month += 1
                    from = 1
                }
            }
            year += 1
            month = 1
            from = 1
        }
        return nil
    }
}
