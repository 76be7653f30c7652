import Testing

@testable import ExpCardsCore

private func day(_ iso: String) -> Day { Day(iso: iso)! }

/// Money at risk; every expectation was worked out by hand from a calendar.
@Suite struct ChargeRiskTests {
    private func risk(
        _ rule: String, effect: String, expiry: String, asOf: String, horizon: Int = 12,
        amount: Int64 = 1000, initialAmount: Int64? = nil, initialCount: Int = 0
    ) -> ChargeRisk {
        ChargeRisk.compute(
            rule: rule, effectDate: day(effect), expiry: day(expiry), asOf: day(asOf), horizonMonths: horizon,
            amount: amount, initialAmount: initialAmount, initialCount: initialCount)
    }

    @Test func chargesAfterExpiryWithinTheHorizon() {
        // Monthly on the 15th; card expires end of June; seen from 1 May 2024: charges from 15 Jul
        // 2024 to 15 Apr 2025 (15 May 2025 is after 1 May 2025) → 10 charges.
        let r = risk("FREQ=MONTHLY;BYMONTHDAY=15", effect: "2024-01-15", expiry: "2024-06-30", asOf: "2024-05-01")
        #expect(r.isScheduleKnown)
        #expect(r.nextCharge == day("2024-05-15"))
        #expect(r.firstChargeAfterExpiry == day("2024-07-15"))
        #expect(r.chargesAtRisk == 10)
        #expect(r.amountAtRisk == 10_000)
        // The horizon's last day is included: from 15 May, 15 May 2025 counts too.
        let onTheDay = risk(
            "FREQ=MONTHLY;BYMONTHDAY=15", effect: "2024-01-15", expiry: "2024-06-30", asOf: "2024-05-15")
        #expect(onTheDay.nextCharge == day("2024-05-15"))  // a charge on D is "on or after D"
        #expect(onTheDay.chargesAtRisk == 11)
    }

    @Test func expiryDayItselfIsNotAtRisk() {
        // A charge on E is still made with the card; the day after is not.
        let r = risk(
            "FREQ=MONTHLY;BYMONTHDAY=-1", effect: "2024-01-01", expiry: "2024-01-31", asOf: "2024-01-31", horizon: 1)
        #expect(r.nextCharge == day("2024-01-31"))
        #expect(r.firstChargeAfterExpiry == day("2024-02-29"))
        // D + 1 month from 31 Jan clamps to 29 Feb (leap year), which is included.
        #expect(r.chargesAtRisk == 1)
        let common = risk(
            "FREQ=MONTHLY;BYMONTHDAY=-1", effect: "2023-01-01", expiry: "2023-01-31", asOf: "2023-01-31", horizon: 1)
        #expect(common.firstChargeAfterExpiry == day("2023-02-28"))
        #expect(common.chargesAtRisk == 1)
    }

    @Test func expiredCardEveryFutureChargeIsAtRisk() {
        let r = risk("FREQ=WEEKLY;BYDAY=MO", effect: "2024-01-01", expiry: "2023-12-31", asOf: "2024-01-03", horizon: 1)
        #expect(r.nextCharge == day("2024-01-08"))
        #expect(r.firstChargeAfterExpiry == day("2024-01-08"))
        #expect(r.chargesAtRisk == 4)  // 8, 15, 22, 29 Jan; 5 Feb is after D + 1 month = 3 Feb
        #expect(r.amountAtRisk == 4000)
    }

    @Test func firstChargeAfterExpiryBeyondTheHorizon() {
        let r = risk("FREQ=YEARLY", effect: "2020-06-01", expiry: "2026-12-31", asOf: "2024-01-01")
        #expect(r.nextCharge == day("2024-06-01"))
        #expect(r.firstChargeAfterExpiry == day("2027-06-01"))
        #expect(r.chargesAtRisk == 0)
        #expect(r.amountAtRisk == 0)
    }

    @Test func finishedScheduleHasNothingAtRisk() {
        let r = risk("FREQ=MONTHLY;COUNT=3", effect: "2020-01-10", expiry: "2020-12-31", asOf: "2024-01-01")
        #expect(r.isScheduleKnown)
        #expect(r.nextCharge == nil)
        #expect(r.firstChargeAfterExpiry == nil)
        #expect(r.chargesAtRisk == 0)
        #expect(r.amountAtRisk == 0)
        let until = risk("FREQ=DAILY;UNTIL=20231231", effect: "2023-01-01", expiry: "2023-06-30", asOf: "2024-01-01")
        #expect(until.nextCharge == nil && until.chargesAtRisk == 0 && until.amountAtRisk == 0)
        // Finishing inside the horizon: only the remaining charges count.
        let ending = risk(
            "FREQ=MONTHLY;COUNT=6;BYMONTHDAY=1", effect: "2024-01-01", expiry: "2024-02-15", asOf: "2024-02-01")
        #expect(ending.nextCharge == day("2024-02-01"))
        #expect(ending.firstChargeAfterExpiry == day("2024-03-01"))
        #expect(ending.chargesAtRisk == 4)  // Mar, Apr, May, Jun
    }

    @Test func initialAmountByIndexInTheWholeSchedule() {
        // 12 charges on the 10th from Jan 2024; the first 3 (Jan, Feb, Mar) cost 5000, the rest 1000.
        // Card expires 31 Jan: Feb..Dec are at risk → 2 × 5000 + 9 × 1000.
        let r = risk(
            "FREQ=MONTHLY;COUNT=12;BYMONTHDAY=10", effect: "2024-01-10", expiry: "2024-01-31", asOf: "2024-01-01",
            initialAmount: 5000, initialCount: 3)
        #expect(r.chargesAtRisk == 11)
        #expect(r.amountAtRisk == 19_000)
        // Without an initial amount the count is irrelevant.
        let none = risk(
            "FREQ=MONTHLY;COUNT=12;BYMONTHDAY=10", effect: "2024-01-10", expiry: "2024-01-31", asOf: "2024-01-01",
            initialAmount: nil, initialCount: 3)
        #expect(none.amountAtRisk == 11_000)
        // Seen from April, the initial charges are past: the index counts from the effect date, not D.
        let later = risk(
            "FREQ=MONTHLY;COUNT=12;BYMONTHDAY=10", effect: "2024-01-10", expiry: "2024-01-31", asOf: "2024-03-11",
            initialAmount: 5000, initialCount: 3)
        #expect(later.chargesAtRisk == 9)
        #expect(later.amountAtRisk == 9_000)
        // An effect date that does not match: the first charge (the first initial one) is 10 Feb.
        let shifted = risk(
            "FREQ=MONTHLY;BYMONTHDAY=10", effect: "2024-01-15", expiry: "2024-02-29", asOf: "2024-01-15",
            initialAmount: 5000, initialCount: 2)
        #expect(shifted.nextCharge == day("2024-02-10"))
        #expect(shifted.firstChargeAfterExpiry == day("2024-03-10"))
        #expect(shifted.chargesAtRisk == 11)  // 10 Mar 2024 .. 10 Jan 2025
        #expect(shifted.amountAtRisk == 15_000)  // 5000 + 10 × 1000
        // More initial charges than the horizon holds: all at the initial amount.
        let allInitial = risk(
            "FREQ=MONTHLY;BYMONTHDAY=10", effect: "2024-01-10", expiry: "2024-01-01", asOf: "2024-01-01",
            initialAmount: 5000, initialCount: 100)
        #expect(allInitial.chargesAtRisk == 12)
        #expect(allInitial.amountAtRisk == 60_000)
    }

    @Test func amountsSaturateInsteadOfTrapping() {
        let r = risk("FREQ=DAILY", effect: "2024-01-01", expiry: "2024-01-01", asOf: "2024-01-01", amount: .max / 2)
        #expect(r.chargesAtRisk == 366)  // 2 Jan 2024 .. 1 Jan 2025
        #expect(r.amountAtRisk == .max)
    }

    @Test(arguments: [
        ("FREQ=HOURLY;COUNT=3", RecurrenceRuleError.Kind.unsupported),
        ("FREQ=YEARLY;BYWEEKNO=20", .unsupported),
        ("garbage", .invalid),
        ("", .invalid),
        ("FREQ=MONTHLY;COUNT=3;UNTIL=20250101", .invalid),
    ])
    func unknownScheduleHasAReasonAndNoValues(_ rule: String, _ kind: RecurrenceRuleError.Kind) {
        let r = risk(rule, effect: "2024-01-01", expiry: "2024-06-30", asOf: "2024-05-01")
        #expect(!r.isScheduleKnown)
        #expect(r.unknownReason?.kind == kind)
        #expect(r.unknownReason?.reason.isEmpty == false)
        #expect(r.nextCharge == nil && r.firstChargeAfterExpiry == nil)
        #expect(r.chargesAtRisk == nil && r.amountAtRisk == nil)
    }
}
