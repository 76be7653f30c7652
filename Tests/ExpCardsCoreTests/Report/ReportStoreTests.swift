import Testing

@testable import ExpCardsCore

/// The compact structures behind the report: the byte interner (alias index), the sort keys'
/// ties, and the risk table, checked against the plain computations they replace.
@Suite("Report store")
struct ReportStoreTests {
    // MARK: Interner

    func intern(_ interner: inout ByteInterner, _ s: String) -> (Int, Bool) {
        var s = s
        return s.withUTF8 { interner.intern(UnsafeRawBufferPointer($0)) }
    }

    @Test func internerNumbersDistinctKeysInOrderOfFirstSight() {
        var t = ByteInterner()
        // Prefixes of each other, the empty key, and keys that differ only after 9 bytes.
        let keys = ["", "A", "AB", "ABCDEFGHI", "ABCDEFGHIJ", "ABCDEFGHIK", "B", "a"]
        for (i, k) in keys.enumerated() {
            let (id, inserted) = intern(&t, k)
            #expect(id == i && inserted, "\(k)")
        }
        for (i, k) in keys.enumerated().reversed() {
            let (id, inserted) = intern(&t, k)
            #expect(id == i && !inserted, "\(k)")
            #expect(t.withKey(id) { String(decoding: $0, as: UTF8.self) } == k)
        }
        #expect(t.count == keys.count)
    }

    @Test func internerSurvivesGrowth() {
        // Thousands of keys through many regrowths (16 slots at first): every id stays findable.
        var t = ByteInterner()
        var rng = SplitMix64(seed: 7)
        var keys: [String] = []
        for _ in 0..<20_000 {
            let k = String(rng.next() % 5_000_000, radix: 16)
            keys.append(k)
            _ = intern(&t, k)
        }
        let distinct = Array(Set(keys))
        #expect(t.count == distinct.count)
        for k in distinct {
            let (id, inserted) = intern(&t, k)
            #expect(!inserted)
            #expect(t.withKey(id) { String(decoding: $0, as: UTF8.self) } == k)
        }
    }

    @Test func internerFindsKeysAgainAfterItsIndexIsDropped() {
        var t = ByteInterner()
        for k in ["a", "b", "c"] { _ = intern(&t, k) }
        t.dropIndex()
        #expect(t.withKey(1) { String(decoding: $0, as: UTF8.self) } == "b")
        let (b, insertedB) = intern(&t, "b")
        #expect(b == 1 && !insertedB)
        let (d, insertedD) = intern(&t, "d")
        #expect(d == 3 && insertedD)
    }

    @Test func prefixOrderIsByteOrder() {
        var t = ByteInterner()
        let keys = ["zz", "a", "ab", "aB", "abcdefgh", "abcdefghi", "~", " "]
        for k in keys { _ = intern(&t, k) }
        for i in keys.indices {
            for j in keys.indices {
                let byBytes = keys[i].utf8.lexicographicallyPrecedes(keys[j].utf8)
                #expect(t.precedes(i, j) == byBytes)
                // The 8-byte prefix never contradicts byte order.
                if t.prefix(i) < t.prefix(j) { #expect(byBytes) }
            }
        }
    }

    // MARK: Sort ties

    static let shopName = ReportBuilderTests.shopAName

    @Test func aliasesTiedOnTheirFirstNineBytesSortByTheRest() {
        // Same status and expiry, same first 9 bytes: only the full comparison orders them.
        let aliases = ["PREFIX123z", "PREFIX123", "PREFIX123a", "PREFIX12", "PREFIX123A"]
        let r = ReportBuilderTests.build([ReportBuilderTests.company(aliases.map { "02;\($0);N;n@x.fr;20180801;0" })])
        #expect(r.aliases.map(\.alias) == aliases.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    @Test func subscriptionTiesFallBackToAliasThenIdThenFileOrder() {

        let r = ReportBuilderTests.build([
            ReportBuilderTests.shop(
                Self.shopName,
                [
                    ReportBuilderTests.sub(
                        "LONGALIAS-2", name: "Ann Lee", email: "ann@x.fr", expiry: "20180731", id: "S2",
                        rule: "FREQ=MONTHLY;BYMONTHDAY=15", amount: "1000"),
                    ReportBuilderTests.sub(
                        "LONGALIAS-1", name: "Ann Lee", email: "ann@x.fr", expiry: "20180731", id: "S9",
                        rule: "FREQ=MONTHLY;BYMONTHDAY=15", amount: "1000"),
                    ReportBuilderTests.sub(
                        "LONGALIAS-2", name: "Ann Lee", email: "ann@x.fr", expiry: "20180731", id: "S1",
                        rule: "FREQ=MONTHLY;BYMONTHDAY=15", amount: "1000"),
                    // The same subscription twice: kept in file order (amounts tell them apart).
                    ReportBuilderTests.sub(
                        "LONGALIAS-1", name: "Ann Lee", email: "ann@x.fr", expiry: "20180731", id: "S3",
                        rule: "FREQ=MONTHLY;BYMONTHDAY=15", amount: "7"),
                    ReportBuilderTests.sub(
                        "LONGALIAS-1", name: "Ann Lee", email: "ann@x.fr", expiry: "20180731", id: "S3",
                        rule: "FREQ=MONTHLY;BYMONTHDAY=15", amount: "8"),
                ])
        ])
        #expect(
            r.subscriptions.map { "\($0.alias) \($0.subscriptionId) \($0.amount)" } == [
                "LONGALIAS-1 S3 7", "LONGALIAS-1 S3 8", "LONGALIAS-1 S9 1000", "LONGALIAS-2 S1 1000",
                "LONGALIAS-2 S2 1000",
            ])
    }

    // MARK: Risk table

    static let rules = [
        "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1;COUNT=12", "FREQ=MONTHLY;COUNT=5;BYMONTHDAY=-1",
        "FREQ=MONTHLY;COUNT=12;BYMONTHDAY=10", "FREQ=YEARLY;BYMONTHDAY=-1;BYMONTH=1,4,7,10;UNTIL=20221231",
        "FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=MO", "FREQ=WEEKLY;INTERVAL=2;",
        "FREQ=DAILY;COUNT=40", "FREQ=MONTHLY;INTERVAL=3;COUNT=8;BYMONTHDAY=5", "FREQ=YEARLY",
    ]

    @Test func riskTableMatchesChargeRisk() throws {
        let asOf = isoDay("2022-03-15")
        var rng = SplitMix64(seed: 42)
        for horizon in [0, 1, 12, 30] {
            var table = RiskTable(asOf: asOf, horizonMonths: horizon)
            for _ in 0..<3000 {
                let ruleId = Int(rng.next() % UInt64(Self.rules.count))
                let rule = try RecurrenceRule.parse(Self.rules[ruleId]).get()
                // Effect dates and expiries around D, before and after the horizon.
                let effect = asOf.adding(days: Int(rng.next() % 900) - 700)
                let expiry = asOf.adding(days: Int(rng.next() % 1400) - 400)
                let amount = Int64(rng.next() % 100_000)
                let initial: Int64? = rng.next() % 3 == 0 ? Int64(rng.next() % 5000) : nil
                let count = Int(rng.next() % 6)
                let expected = ChargeRisk.compute(
                    schedule: Schedule(rule: rule, start: effect), expiry: expiry, asOf: asOf, horizonMonths: horizon,
                    amount: amount, initialAmount: initial, initialCount: count)
                let got = table.risk(
                    ruleId: UInt32(ruleId), rule: rule, effect: effect.days32, expiry: expiry.days32, amount: amount,
                    initialAmount: initial, initialCount: count)
                #expect(Day(days: got.nextCharge) == expected.nextCharge)
                #expect(Day(days: got.firstChargeAfterExpiry) == expected.firstChargeAfterExpiry)
                #expect(Int(got.chargesAtRisk) == expected.chargesAtRisk)
                #expect(
                    got.amountAtRisk == expected.amountAtRisk, "\(Self.rules[ruleId]) \(effect) \(expiry) \(horizon)")
            }
        }
    }

    @Test func riskIsKeyedByExpiryToo() {
        // Same rule, same effect date, different expiries: the cache must not hand one's risk to the other.

        let r = ReportBuilderTests.build([
            ReportBuilderTests.shop(
                Self.shopName,
                [
                    ReportBuilderTests.sub(
                        "A", name: "Ann Lee", email: "ann@x.fr", expiry: "20180731", id: "S1",
                        rule: "FREQ=MONTHLY;BYMONTHDAY=15", amount: "1000"),
                    ReportBuilderTests.sub(
                        "B", name: "Bob", email: "bob@x.fr", expiry: "20181231", id: "S2",
                        rule: "FREQ=MONTHLY;BYMONTHDAY=15", amount: "1000"),
                ])
        ])
        let byId = Dictionary(uniqueKeysWithValues: r.subscriptions.map { ($0.subscriptionId, $0.risk) })
        // D = 2018-07-01, horizon 2019-07-01: charges on the 15th after the expiry.
        #expect(byId["S1"]?.firstChargeAfterExpiry == isoDay("2018-08-15") && byId["S1"]?.chargesAtRisk == 11)
        #expect(byId["S2"]?.firstChargeAfterExpiry == isoDay("2019-01-15") && byId["S2"]?.chargesAtRisk == 6)
    }

    @Test(arguments: [
        (3, Int64(5), 4, Int64(7)), (0, 0, 10, Int64.max / 3), (2, Int64.max, 1, 1), (2, -5, 3, 10),
        (3, Int64.min / 2, 1, -1),
    ])
    func totalsSaturateAsTheChargeLoopDoes(initial: Int, initialAmount: Int64, rest: Int, amount: Int64) {
        var total: Int64 = 0
        for i in 0..<(initial + rest) {
            let price = i < initial ? initialAmount : amount
            let (sum, overflow) = total.addingReportingOverflow(price)
            total = overflow ? (price < 0 ? Int64.min : Int64.max) : sum
        }
        #expect(RiskTable.total(initial: initial, initialAmount: initialAmount, rest: rest, amount: amount) == total)
    }

    @Test func anAliasInShopsOfTwoCurrenciesHasTwoAmounts() throws {
        var options = ExpiryReport.Options(asOf: isoDay("2018-07-01"))
        options.shopCurrencies["87654321"] = Currency(code: "CHF")!
        var builder = ReportBuilder(options: options)
        for (name, amount) in [(ReportBuilderTests.shopAName, "1000"), (ReportBuilderTests.shopBName, "300")] {
            let (n, bytes) = ReportBuilderTests.shop(name, [ReportBuilderTests.sub("A", amount: amount)])
            builder.add(bytes, name: n)
        }
        let r = builder.finish()
        // 11 charges on the 15th after the expiry (2018-07-31), to the horizon.
        #expect(r.aliases[0].amountAtRisk == ["EUR": 11 * 1000, "CHF": 11 * 300])
        #expect(r.summary[.expiring]?.amountAtRisk == ["EUR": 11 * 1000, "CHF": 11 * 300])
        let json = try JSONReport.render(r, mask: false)
        #expect(json.contains(#""amountAtRisk": {"CHF": 3300, "EUR": 11000}"#))
    }

    // MARK: Names as Strings compare them

    @Test func canonicallyEquivalentNamesDoNotDisagree() {
        // "é" precomposed in the company file, decomposed in the shop file: the same String.
        let company = ReportBuilderTests.company(["02;A;Ren\u{E9};r@x.fr;20180731;1"])
        let shop = ReportBuilderTests.shop(
            Self.shopName, [ReportBuilderTests.sub("A", name: "Rene\u{301}", email: "r@x.fr")])
        let r = ReportBuilderTests.build([company, shop])
        #expect(r.warnings.isEmpty, "\(r.warnings)")
    }
}
