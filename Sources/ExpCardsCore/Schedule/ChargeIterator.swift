/// A lazy sequence of charge dates; see `Schedule.charges(from:through:)`.
public struct Charges: Sequence, Sendable {
    public let schedule: Schedule
    public let from: Day?
    public let through: Day?

    public func makeIterator() -> ChargeIterator { ChargeIterator(schedule: schedule, from: from, through: through) }
}

/// Walks a schedule period by period. A value type with no heap storage of its own.
///
/// The work is bounded whatever the rule and effect date: a query from a later day jumps to its
/// period (with COUNT, after counting the earlier charges arithmetically, see ScheduleCount),
/// and a run of empty periods makes the iterator consult `ScheduleReach` to end a rule that
/// can never match or to jump to the next month that can hold a charge.
public struct ChargeIterator: IteratorProtocol, Sendable {
    private let schedule: Schedule
    /// Charges before this are not returned (but, with COUNT, still counted).
    private let emitFrom: Day
    /// Nothing after this is looked at: UNTIL and the caller's bound, whichever is earlier.
    private let upperBound: Day?
    private let countLimit: Int?
    private var counted = 0
    /// When set, `counted` started from this bound on the charges before the day `jump`, not
    /// from their exact number: exact counting waits until COUNT could be reached.
    private var countedFromBound: (bound: Int, jump: Day)?
    private var finished = false

    private var nextKey: Int
    /// The key of the first of the current run of empty periods, and the run's length.
    private var emptySince = 0
    private var emptyRun = 0
    private var reach: ScheduleReach?
    private var period = SchedulePeriod(start: Schedule.beyondCalendar)
    private var current = 0
    private var cache = MonthMaskCache()
    /// Periods, months and years looked at so far: what the tests bound (never a timer).
    private(set) var work = 0

    init(schedule: Schedule, from: Day?, through: Day?) {
        self.schedule = schedule
        let start = schedule.start
        emitFrom = from.map { max($0, start) } ?? start
        var upper = through
        var limit: Int?
        switch schedule.rule.end {
        case .never: limit = nil
        case .count(let n): limit = n
        case .until(let u):
            limit = nil
            upper = upper.map { min($0, u) } ?? u
        }
        upperBound = upper
        nextKey = schedule.startKey
        if emitFrom > start {
            // Jump straight to the period holding `emitFrom`, counting the charges before it.
            let target =
                schedule.startKey
                + (schedule.periodKey(of: emitFrom) - schedule.startKey) / schedule.keyStep * schedule.keyStep
            if let n = limit {
                if schedule.chargeBound < n {
                    limit = nil  // COUNT is beyond what the calendar holds: it never ends the schedule
                } else {
                    let jump = schedule.periodStart(key: target)
                    let periods = (target - schedule.startKey) / schedule.keyStep
                    // A few periods back (the usual case), walking them is cheapest.
                    let (fewest, most) = periods <= 24 ? (0, 0) : schedule.chargesPerPeriod()
                    work += 1
                    if periods <= 24 {
                        counted = schedule.charges(before: jump, cap: n, work: &work)
                    } else if fewest == most {
                        // n whole periods hold n times as many, less the first one's before DTSTART.
                        var firstCache = MonthMaskCache()
                        let first = schedule.period(key: schedule.startKey, cache: &firstCache)
                        counted = periods * fewest - (periods > 0 ? first.count(to: start) : 0)
                    } else if schedule.rule.interval > 1, periods * most < n {
                        counted = periods * most
                        countedFromBound = (periods * most, jump)
                    } else {
                        counted = schedule.charges(before: jump, cap: n, work: &work)
                    }
                    if counted >= n { finished = true }
                }
            }
            nextKey = target
        }
        countLimit = limit
    }

    public mutating func next() -> Day? {
        while !finished {
            while current < period.monthCount {
                let mask = period.masks[current]
                guard mask != 0 else {
                    current += 1
                    continue
                }
                period.masks[current] = mask & (mask - 1)
                let index = period.firstMonth + current
                guard let day = Day(year: index / 12, month: index % 12 + 1, day: mask.trailingZeroBitCount + 1)
                else { break }  // past year 9999
                if day < schedule.start { continue }
                if let upperBound, day > upperBound { break }
                if let countLimit {
                    if counted >= countLimit, let (bound, jump) = countedFromBound {
                        countedFromBound = nil
                        counted += schedule.charges(before: jump, cap: countLimit, work: &work) - bound
                    }
                    guard counted < countLimit else { break }
                    counted += 1
                }
                if day < emitFrom { continue }
                return day
            }
            if current < period.monthCount {  // left the loop by `break`: the schedule is over
                finished = true
            } else {
                loadNextPeriod()
            }
        }
        return nil
    }

    /// Loads the next reached period (BYSETPOS applied), or sets `finished`.
    private mutating func loadNextPeriod() {
        let key = nextKey
        nextKey += schedule.keyStep
        current = 0
        period = schedule.period(key: key, cache: &cache)
        work += 1
        if period.start.year > 9999 || (upperBound.map { period.start > $0 } ?? false) {
            finished = true
            return
        }
        guard period.isEmpty else {
            emptyRun = 0
            return
        }
        if emptyRun == 0 { emptySince = key }
        emptyRun += 1
        // Every position of the calendar cycle this INTERVAL reaches has been seen empty.
        if nextKey - emptySince >= schedule.emptyPeriodLimit * schedule.keyStep {
            finished = true
            return
        }
        if emptyRun >= (schedule.rule.frequency == .daily ? 8 : 4) { skipEmptyMonths() }
    }

    /// Ends a rule that can never match, or moves `nextKey` to the first reached period that
    /// holds a candidate day (the periods in between are all empty).
    private mutating func skipEmptyMonths() {
        if reach == nil { reach = schedule.reach(work: &work) }
        guard let reach, !reach.neverMatches else {
            finished = true
            return
        }
        let from = schedule.periodStart(key: nextKey)
        guard from.year <= 9999, let candidate = schedule.firstCandidate(onOrAfter: from, reach: reach, work: &work),
            upperBound.map({ candidate <= $0 }) ?? true
        else {
            finished = true
            return
        }
        nextKey = max(nextKey, schedule.reachedKey(atOrAfter: schedule.periodKey(of: candidate)))
    }
}

/// Twelve month masks stored inline, so iterators never touch the heap.
struct MonthMasks: Sendable {
    private var storage:
        (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
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
