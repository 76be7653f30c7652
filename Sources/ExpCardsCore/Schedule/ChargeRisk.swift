/// The money a subscription puts at risk when its card expires: the charges that will fall after
/// the expiry, seen from a reference date over a horizon.
///
/// A pure function of its inputs (no clock). When the rule cannot be evaluated the schedule is
/// "unknown": `unknownReason` says why and the four computed values are nil — never guessed.
public struct ChargeRisk: Hashable, Sendable {
    /// The first charge on or after the reference date; nil when the schedule has finished.
    public let nextCharge: Day?
    /// The first charge on or after the reference date that falls after the expiry.
    public let firstChargeAfterExpiry: Day?
    /// Charges c with c >= reference, c > expiry and c <= reference + horizon months (clamped).
    public let chargesAtRisk: Int?
    /// Their total in minor units (saturating at Int64.max).
    public let amountAtRisk: Int64?
    /// Why the schedule is unknown; nil when the rule was understood.
    public let unknownReason: RecurrenceRuleError?

    public var isScheduleKnown: Bool { unknownReason == nil }

    public static func unknown(_ reason: RecurrenceRuleError) -> ChargeRisk {
        ChargeRisk(
            nextCharge: nil, firstChargeAfterExpiry: nil, chargesAtRisk: nil, amountAtRisk: nil, unknownReason: reason)
    }

    /// - Parameters:
    ///   - rule: `vads_sub_desc`.
    ///   - effectDate: `vads_sub_effect_date`, the schedule's DTSTART.
    ///   - expiry: the card's expiry date E.
    ///   - asOf: the reference date D.
    ///   - horizonMonths: charges are counted up to and including D + this many months.
    ///   - amount: `vads_sub_amount`, minor units: every charge but the initial ones.
    ///   - initialAmount: `vads_sub_init_amount`, for the first `initialCount` charges of the
    ///     whole schedule (counted from the effect date, not from D); nil when absent.
    ///   - initialCount: `vads_sub_init_amount_number`.
    public static func compute(
        rule: some StringProtocol, effectDate: Day, expiry: Day, asOf: Day, horizonMonths: Int = 12,
        amount: Int64, initialAmount: Int64?, initialCount: Int
    ) -> ChargeRisk {
        switch RecurrenceRule.parse(rule) {
        case .failure(let reason):
            return .unknown(reason)
        case .success(let parsed):
            return compute(
                schedule: Schedule(rule: parsed, start: effectDate), expiry: expiry, asOf: asOf,
                horizonMonths: horizonMonths, amount: amount, initialAmount: initialAmount, initialCount: initialCount)
        }
    }

    /// The same from an already parsed rule: a report over many subscriptions parses each distinct
    /// rule text once and builds a `Schedule` (a few integers, no allocation) per subscription.
    public static func compute(
        schedule: Schedule, expiry: Day, asOf: Day, horizonMonths: Int = 12,
        amount: Int64, initialAmount: Int64?, initialCount: Int
    ) -> ChargeRisk {
        let horizonEnd = asOf.adding(months: horizonMonths)
        let next = schedule.firstCharge(onOrAfter: asOf)
        let riskFrom = max(asOf, expiry.adding(days: 1))
        var atRisk = schedule.charges(from: riskFrom).makeIterator()
        let firstAfterExpiry = next == nil ? nil : atRisk.next()

        var count = 0
        var total: Int64 = 0
        if let first = firstAfterExpiry, first <= horizonEnd {
            // Charges up to `lastInitial` are among the first `initialCount` of the whole schedule.
            // When that charge is beyond the horizon (or never comes), every charge counted here is.
            var lastInitial: Day?
            if initialAmount != nil, initialCount > 0 {
                lastInitial = schedule.charge(number: initialCount, through: horizonEnd) ?? horizonEnd
            }
            var charge: Day? = first
            while let c = charge, c <= horizonEnd {
                count += 1
                let price = if let lastInitial, let initialAmount, c <= lastInitial { initialAmount } else { amount }
                total.addSaturating(price)
                charge = atRisk.next()
            }
        }
        return ChargeRisk(
            nextCharge: next, firstChargeAfterExpiry: firstAfterExpiry, chargesAtRisk: count, amountAtRisk: total,
            unknownReason: nil)
    }
}

extension Int64 {
    /// The sum, held at Int64's bounds instead of wrapping: money at risk is summed over
    /// subscriptions, aliases and shops, and a total must never turn negative.
    @inline(__always) func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other < 0 ? .min : .max) : sum
    }

    /// `self = self.saturatingAdd(other)`, in place (through a dictionary's default subscript too).
    @inline(__always) mutating func addSaturating(_ other: Int64) { self = saturatingAdd(other) }
}
