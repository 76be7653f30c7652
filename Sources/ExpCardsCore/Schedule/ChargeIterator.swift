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
struct MonthMasks: Sendable {
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
