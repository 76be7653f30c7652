/// `ChargeRisk.compute` for many subscriptions at once, exactly, without walking a schedule per
/// subscription.
///
/// A risk depends on the schedule (rule and effect date), the expiry and the amounts. A month's
/// files hold a million subscriptions but only a few thousand (rule, effect date) pairs, so each
/// pair's charges from the reference date D to the horizon are listed once; a subscription then
/// needs two binary searches (its expiry, and its last initial charge) and a multiplication.
/// What the list cannot answer (a first charge after an expiry beyond the horizon, the n-th charge
/// of the whole schedule) is computed by the schedule and remembered per pair.
struct RiskTable {
    struct Risk: Equatable {
        var nextCharge: Int32 = Day.none32
        var firstChargeAfterExpiry: Int32 = Day.none32
        var chargesAtRisk: Int32 = 0
        var amountAtRisk: Int64 = 0
    }

    let asOf: Day
    let horizonMonths: Int
    private let asOfDays: Int32
    private let horizonEnd: Day
    private let horizonEndDays: Int32

    /// A (rule, effect date) pair's charges seen from D.
    private final class Series {
        let schedule: Schedule
        /// The first charge on or after D.
        let next: Int32
        /// The charges from D to the horizon end, in order; nil when there are too many to list.
        let charges: [Int32]?
        /// The first charge after the horizon end.
        let afterHorizon: Int32
        /// First charge on or after a day beyond the horizon, by day.
        var firstOnOrAfter: [Int32: Int32] = [:]
        /// The n-th charge of the whole schedule up to the horizon end (`Day.none32`: none), by n.
        var nth: [Int: Int32] = [:]

        init(schedule: Schedule, asOf: Day, horizonEnd: Day, limit: Int) {
            self.schedule = schedule
            next = schedule.firstCharge(onOrAfter: asOf)?.days32 ?? Day.none32
            var list: [Int32] = []
            var complete = true
            if next != Day.none32 {
                for c in schedule.charges(from: asOf, through: horizonEnd) {
                    if list.count == limit {
                        complete = false
                        break
                    }
                    list.append(c.days32)
                }
            }
            charges = complete ? list : nil
            afterHorizon =
                next == Day.none32
                ? Day.none32 : (schedule.firstCharge(onOrAfter: horizonEnd.adding(days: 1))?.days32 ?? Day.none32)
        }
    }

    private struct Key: Hashable {
        var rule: UInt32
        var effect: Int32
    }

    private var series: [Key: Series] = [:]
    /// Bounds the memory a file with millions of distinct pairs could take: past it, new pairs are
    /// computed directly (still exact, only slower).
    static let maxSeries = 100_000
    /// Charges listed per pair (a daily rule over a long horizon): beyond, computed directly.
    static let maxCharges = 4096

    init(asOf: Day, horizonMonths: Int) {
        self.asOf = asOf
        self.horizonMonths = horizonMonths
        asOfDays = asOf.days32
        horizonEnd = asOf.adding(months: horizonMonths)
        horizonEndDays = horizonEnd.days32
    }

    /// The risk of a subscription whose rule (interned as `ruleId`) is `rule`.
    mutating func risk(
        ruleId: UInt32, rule: RecurrenceRule, effect: Int32, expiry: Int32, amount: Int64, initialAmount: Int64?,
        initialCount: Int
    ) -> Risk {
        let key = Key(rule: ruleId, effect: effect)
        let s: Series
        if let known = series[key] {
            s = known
        } else if series.count < RiskTable.maxSeries {
            s = Series(
                schedule: Schedule(rule: rule, start: Day(daysSinceEpoch: Int(effect))), asOf: asOf,
                horizonEnd: horizonEnd,
                limit: RiskTable.maxCharges)
            series[key] = s
        } else {
            return direct(
                rule: rule, effect: effect, expiry: expiry, amount: amount, initialAmount: initialAmount,
                initialCount: initialCount)
        }
        guard let charges = s.charges else {
            return direct(
                rule: rule, effect: effect, expiry: expiry, amount: amount, initialAmount: initialAmount,
                initialCount: initialCount)
        }
        var r = Risk()
        r.nextCharge = s.next
        guard s.next != Day.none32 else { return r }
        // Charges after the expiry, from D on (ChargeRisk's `riskFrom`).
        let riskFrom = max(asOfDays, expiry + 1)
        guard riskFrom <= horizonEndDays else {
            if let known = s.firstOnOrAfter[riskFrom] {
                r.firstChargeAfterExpiry = known
            } else {
                let first = s.schedule.firstCharge(onOrAfter: Day(daysSinceEpoch: Int(riskFrom)))?.days32 ?? Day.none32
                s.firstOnOrAfter[riskFrom] = first
                r.firstChargeAfterExpiry = first
            }
            return r
        }
        let j = RiskTable.lowerBound(charges, riskFrom)
        guard j < charges.count else {
            r.firstChargeAfterExpiry = s.afterHorizon
            return r
        }
        r.firstChargeAfterExpiry = charges[j]
        let count = charges.count - j
        r.chargesAtRisk = Int32(count)
        // The first `initialCount` charges of the whole schedule cost `initialAmount`: those up to
        // the initialCount-th (or all up to the horizon when it is beyond or never comes).
        var initial = 0
        if initialAmount != nil, initialCount > 0 {
            let n: Int32
            if let known = s.nth[initialCount] {
                n = known
            } else {
                n = s.schedule.charge(number: initialCount, through: horizonEnd)?.days32 ?? Day.none32
                s.nth[initialCount] = n
            }
            let lastInitial = n == Day.none32 ? horizonEndDays : n
            initial = max(0, RiskTable.lowerBound(charges, lastInitial + 1) - j)
        }
        r.amountAtRisk = RiskTable.total(
            initial: initial, initialAmount: initialAmount ?? 0, rest: count - initial, amount: amount)
        return r
    }

    /// ChargeRisk's sum: `initial` charges of `initialAmount` then `rest` of `amount`, added one by
    /// one and saturating at Int64's bounds. In closed form when both prices have one sign (every
    /// amount a file holds is non-negative), where the sum is monotonic.
    static func total(initial: Int, initialAmount: Int64, rest: Int, amount: Int64) -> Int64 {
        if (initialAmount >= 0 || initial == 0) && amount >= 0 {
            let (a, o1) = initialAmount.multipliedReportingOverflow(by: Int64(initial))
            let (b, o2) = amount.multipliedReportingOverflow(by: Int64(rest))
            let (sum, o3) = a.addingReportingOverflow(b)
            return o1 || o2 || o3 ? Int64.max : sum
        }
        var total: Int64 = 0
        for i in 0..<(initial + rest) {
            total.addSaturating(i < initial ? initialAmount : amount)
        }
        return total
    }

    private func direct(
        rule: RecurrenceRule, effect: Int32, expiry: Int32, amount: Int64, initialAmount: Int64?, initialCount: Int
    ) -> Risk {
        let c = ChargeRisk.compute(
            schedule: Schedule(rule: rule, start: Day(daysSinceEpoch: Int(effect))),
            expiry: Day(daysSinceEpoch: Int(expiry)),
            asOf: asOf, horizonMonths: horizonMonths, amount: amount, initialAmount: initialAmount,
            initialCount: initialCount)
        return Risk(
            nextCharge: c.nextCharge?.days32 ?? Day.none32,
            firstChargeAfterExpiry: c.firstChargeAfterExpiry?.days32 ?? Day.none32,
            chargesAtRisk: Int32(c.chargesAtRisk ?? 0), amountAtRisk: c.amountAtRisk ?? 0)
    }

    /// The first index whose value is >= `value`.
    static func lowerBound(_ a: [Int32], _ value: Int32) -> Int {
        var lo = 0
        var hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] < value { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
