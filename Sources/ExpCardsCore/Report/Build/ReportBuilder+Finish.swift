import Glibc

extension ReportBuilder {
    /// Statuses, schedules' risk, summary and order.
    public mutating func finish() -> ExpiryReport {
        let o = report.options
        let asOf = o.asOf.days32
        let thresholdEnd = report.thresholdEnd.days32
        for i in aliases.indices {
            let e = aliases[i].expiry
            aliases[i].status = e < asOf ? 0 : (e <= thresholdEnd ? 1 : 2)
        }
        var summaryAliases = [0, 0, 0]
        var summarySubscriptions = [0, 0, 0]
        var summaryAmounts = [[Int64]](repeating: [Int64](repeating: 0, count: currencies.count), count: 3)
        var summaryHas = [[Bool]](repeating: [Bool](repeating: false, count: currencies.count), count: 3)
        var amounts = AliasAmounts(aliases: subscriptions.isEmpty ? 0 : aliases.count)
        var table = RiskTable(asOf: o.asOf, horizonMonths: o.horizonMonths)
        for i in subscriptions.indices {
            var s = subscriptions[i]
            let a = aliases[Int(s.alias)]
            let status = Int(a.status)
            summarySubscriptions[status] += 1
            guard case .success(let rule) = ruleResults[Int(s.rule)] else { continue }
            let r = table.risk(
                ruleId: s.rule, rule: rule, effect: s.effect, expiry: a.expiry, amount: s.amount,
                initialAmount: s.hasInitialAmount ? s.initialAmount : nil, initialCount: Int(s.initialCount))
            s.nextCharge = r.nextCharge
            s.firstChargeAfterExpiry = r.firstChargeAfterExpiry
            s.chargesAtRisk = r.chargesAtRisk
            s.amountAtRisk = r.amountAtRisk
            subscriptions[i] = s
            let currency = shopCurrencyIds[Int(s.shop)]
            summaryAmounts[status][currency].addSaturating(r.amountAtRisk)
            summaryHas[status][currency] = true
            amounts.add(alias: Int(s.alias), currency: currency, amount: r.amountAtRisk)
        }

        // Nothing more is looked up by alias: the index's memory goes before the sorts need theirs.
        aliasKeys.dropIndex()
        let haveShopFiles = report.files.contains(where: { $0.kind == .shop })
        var kept: [AliasSortKey] = []
        kept.reserveCapacity(aliases.count)
        var mismatches: [Int] = []
        for id in aliases.indices {
            let a = aliases[id]
            if onlyShopAliases && a.shopSet == 0 { continue }
            if a.recurrences >= 0, !onlyShopAliases, a.shopSet != 0 || a.recurrences > 0, haveShopFiles,
                Int(a.recurrences) != Int(a.subscriptions)
            {
                mismatches.append(id)
            }
            summaryAliases[Int(a.status)] += 1
            kept.append(AliasSortKey(id: id, record: a, keys: aliasKeys))
        }
        // Warnings in alias order, whatever the hashing.
        mismatches.sort { aliasKeys.precedes($0, $1) }
        for id in mismatches {
            let a = aliases[id]
            let count = Int(a.recurrences)
            warn(
                "alias \(aliasKeys.withKey(id) { String(decoding: $0, as: UTF8.self) }): the company file counts \(count) active recurrence\(count == 1 ? "" : "s"), the shop files list \(a.subscriptions)"
            )
        }
        // Integer keys (status, expiry, the alias's first 9 bytes); the whole alias only on a tie.
        let keys = aliasKeys
        kept.sort { x, y in
            if x.high != y.high { return x.high < y.high }
            if x.low >> 32 != y.low >> 32 { return x.low >> 32 < y.low >> 32 }
            return keys.precedes(
                Int(truncatingIfNeeded: x.low & 0xFFFF_FFFF), Int(truncatingIfNeeded: y.low & 0xFFFF_FFFF))
        }
        let aliasOrder = kept.map { UInt32(truncatingIfNeeded: $0.low & 0xFFFF_FFFF) }
        kept = []

        // Subscriptions: shop, first charge after expiry (unknown last), alias, subscription id.
        let never = Day(year: 9999, month: 12, day: 31)!.days32
        var shopRank = [Int](repeating: 0, count: shops.count)
        for (rank, index) in shops.indices.sorted(by: { shops[$0].utf8.lexicographicallyPrecedes(shops[$1].utf8) })
            .enumerated()
        {
            shopRank[index] = rank
        }
        var subscriptionKeys: [SubscriptionSortKey] = []
        subscriptionKeys.reserveCapacity(subscriptions.count)
        for (i, s) in subscriptions.enumerated() {
            let first = s.firstChargeAfterExpiry == Day.none32 ? never : s.firstChargeAfterExpiry
            subscriptionKeys.append(
                SubscriptionSortKey(
                    high: UInt64(shopRank[Int(s.shop)]) << 32 | UInt64(UInt32(bitPattern: first) ^ 0x8000_0000),
                    low: keys.prefix(Int(s.alias)), index: UInt32(i)))
        }
        let subs = subscriptions
        let subText = subscriptionText
        subscriptionKeys.sort { x, y in
            if x.high != y.high { return x.high < y.high }
            if x.low != y.low { return x.low < y.low }
            let a = subs[Int(x.index)]
            let b = subs[Int(y.index)]
            if a.alias != b.alias { return keys.precedes(Int(a.alias), Int(b.alias)) }
            let byId = subText.withUnsafeBytes { t in
                let ia = UnsafeRawBufferPointer(rebasing: t[Int(a.textOffset)..<Int(a.textOffset) + Int(a.idLength)])
                let ib = UnsafeRawBufferPointer(rebasing: t[Int(b.textOffset)..<Int(b.textOffset) + Int(b.idLength)])
                return ia.lexicographicallyPrecedes(ib) ? -1 : (ib.lexicographicallyPrecedes(ia) ? 1 : 0)
            }
            if byId != 0 { return byId < 0 }
            return x.index < y.index
        }
        let subscriptionOrder = subscriptionKeys.map(\.index)
        subscriptionKeys = []

        var summary: [ExpiryStatus: ExpiryReport.StatusSummary] = [:]
        for (rank, status) in ExpiryStatus.allCases.enumerated() {
            var s = ExpiryReport.StatusSummary()
            s.aliases = summaryAliases[rank]
            s.subscriptions = summarySubscriptions[rank]
            for (c, currency) in currencies.enumerated() where summaryHas[rank][c] {
                s.amountAtRisk[currency.code, default: 0].addSaturating(summaryAmounts[rank][c])
            }
            summary[status] = s
        }
        let sets = shopSets.sets.map { set in
            set.map { shops[$0] }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        report.store = ReportStore(
            aliasKeys: aliasKeys, aliases: aliases, text: text, subscriptions: subscriptions,
            subscriptionText: subscriptionText,
            rules: rules, ruleResults: ruleResults, shops: shops,
            shopCurrencies: shopCurrencyIds.map { currencies[$0] },
            shopSets: sets, aliasOrder: aliasOrder, subscriptionOrder: subscriptionOrder, aliasAmounts: amounts,
            currencies: currencies)
        report.summary = summary
        report.files.sort { $0.path < $1.path }
        var warnings = self.warnings
        if suppressedWarnings > 0 { warnings.append(.other("… and \(suppressedWarnings) more warnings not listed")) }
        report.warnings = warnings
        return report
    }
}

/// Sort key of an alias: status (2 bits), expiry (22 bits) and the alias's first 5 bytes in
/// `high`; its next 4 bytes and its id in `low`. 16 bytes, so a million of them sort in cache.
private struct AliasSortKey {
    var high: UInt64
    var low: UInt64

    init(id: Int, record: AliasRecord, keys: ByteInterner) {
        // Days since the epoch of years 1...9999, made non-negative: 22 bits.
        let expiry = UInt64(Int(record.expiry) + 719_162)
        let (first, next) = keys.withKey(id) { key -> (UInt64, UInt64) in
            var first: UInt64 = 0
            var next: UInt64 = 0
            for i in 0..<5 { first = first << 8 | UInt64(i < key.count ? key[i] : 0) }
            for i in 5..<9 { next = next << 8 | UInt64(i < key.count ? key[i] : 0) }
            return (first, next)
        }
        high = UInt64(record.status) << 62 | expiry << 40 | first
        low = next << 32 | UInt64(id)
    }
}

/// Sort key of a subscription: shop rank and first charge after expiry, the alias's first 8 bytes.
private struct SubscriptionSortKey {
    var high: UInt64
    var low: UInt64
    var index: UInt32
}
