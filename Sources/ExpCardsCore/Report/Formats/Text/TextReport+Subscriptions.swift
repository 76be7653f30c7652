/// The subscriptions at risk, per shop.
extension TextReportWriter {
    // MARK: Subscriptions

    /// At risk: a charge falls after the expiry (within the horizon or not), or nobody can tell.
    func isListed(_ s: SubscriptionRecord, unknown: [Bool]) -> Bool {
        s.firstChargeAfterExpiry != Day.none32 || unknown[Int(s.rule)]
    }

    mutating func subscriptionSection() {
        blank()
        let heading = style.bold("SUBSCRIPTIONS AT RISK")
        let shopFiles = report.files.filter { $0.kind == .shop }
        let order = store.subscriptionOrder
        if order.isEmpty {
            line(heading + " · none" + (shopFiles.isEmpty ? " (no shop file read)" : ""))
            return
        }
        let unknown = store.ruleResults.map { if case .failure = $0 { true } else { false } }
        // Widths and per-shop counts do not depend on the order: one pass in storage order
        // (sequential memory). A shop has one currency, so its amount is one sum.
        var nameWidths = [Int32](repeating: -1, count: store.aliases.count)
        var listedCount = 0
        var subN = 0
        var nameN = 0
        var shopAll = [Int](repeating: 0, count: store.shops.count)
        var shopAtRisk = [Int](repeating: 0, count: store.shops.count)
        var shopAmount = [Int64](repeating: 0, count: store.shops.count)
        var shopHasAmount = [Bool](repeating: false, count: store.shops.count)
        for index in store.subscriptions.indices {
            let s = store.subscriptions[index]
            let shop = Int(s.shop)
            shopAll[shop] += 1
            guard isListed(s, unknown: unknown) else { continue }
            listedCount += 1
            shopAtRisk[shop] += 1
            if !unknown[Int(s.rule)] {
                shopAmount[shop].addSaturating(s.amountAtRisk)
                shopHasAmount[shop] = true
            }
            subN = max(subN, store.withSubscriptionId(index) { textWidth($0) })
            let a = Int(s.alias)
            if nameWidths[a] < 0 { nameWidths[a] = Int32(nameWidth(a)) }
            nameN = max(nameN, Int(nameWidths[a]))
        }
        nameWidths = []
        line(
            heading + " · " + (listedCount == 0 ? "none" : plural(listedCount, "subscription"))
                + ", by first charge after the card's expiry")
        // Line 1: first charge after expiry, subscription id, name, the card's expiry.
        let room = width - (4 + 10 + 2 + 2 + 2 + 23)
        let subW = min(subN, max(room - nameN, room * 3 / 5))
        let nameW = min(nameN, room - subW)
        // The report's order is by shop first: each shop's subscriptions are one run.
        var current = -1
        for k in order.indices {
            out.readAhead &+= store.readAhead(subscriptions: order, at: k)
            let index = Int(order[k])
            let s = store.subscriptions[index]
            let shop = Int(s.shop)
            if shop != current {
                current = shop
                let shopId = store.shops[shop]
                let atRisk = shopAtRisk[shop]
                var amounts: [String: Int64] = [:]
                if shopHasAmount[shop] { amounts[store.shopCurrencies[shop].code] = shopAmount[shop] }
                var head = "Shop \(shopId)"
                if let label = report.shopLabels[shopId] { head += " (" + displaySafe(label) + ")" }
                head += " · " + (atRisk == 0 ? "none at risk" : plural(atRisk, "subscription") + " at risk")
                if amounts.values.contains(where: { $0 != 0 }) {
                    head += ", " + money(amounts.filter { $0.value != 0 })
                }
                let other = shopAll[shop] - atRisk
                if other > 0 { head += " · \(other) not at risk (no charge after the expiry)" }
                blank()
                paragraph(head, indent: "  ", hanging: "    ")
            }
            if isListed(s, unknown: unknown) { subscription(index, subW: subW, nameW: nameW) }
        }
    }

    mutating func subscription(_ index: Int, subW: Int, nameW: Int) {
        let s = store.subscriptions[index]
        let alias = Int(s.alias)
        let a = store.aliases[alias]
        let status = ExpiryStatus.allCases[Int(a.status)]
        let currency = store.shopCurrencies[Int(s.shop)]
        let reason: RecurrenceRuleError? = if case .failure(let e) = store.ruleResults[Int(s.rule)] { e } else { nil }
        out.append(spaces: 4)
        if reason == nil, s.firstChargeAfterExpiry != Day.none32 {
            statusDate(status, s.firstChargeAfterExpiry)
        } else {
            out.append("unknown   ")
        }
        out.append(spaces: 2)
        // An id or name too long for its column: the id over both columns (ids are at most 50
        // characters, the span at least 57), the name whole on a line of its own.
        let fits = store.withSubscriptionId(index) { textWidth($0) } <= subW && nameWidth(alias) <= nameW
        if fits {
            store.withSubscriptionId(index) { appendPadded($0, to: subW) }
            out.append(spaces: 2)
            appendName(alias, to: nameW)
        } else {
            store.withSubscriptionId(index) { appendPadded($0, to: subW + 2 + nameW) }
        }
        out.append(spaces: 2)
        let code = style.enabled ? TextReportWriter.colourCodes[status.rank] : nil
        if let code { out.append(code) }
        out.append(status == .expired ? "card expired " : "card expires ")
        out.append(day: a.expiry)
        if code != nil { out.append(TerminalStyle.reset) }
        out.append(0x0A)
        if !fits {
            let indent = String(repeating: " ", count: 16)
            for l in wrapped(name(store.name(alias)), width: width, firstIndent: indent, indent: indent) { line(l) }
        }

        // The facts, written as one paragraph's text, then wrapped in place.
        let start = out.count
        let dot = " · "
        func money(_ minor: Int64) {
            out.append(currency.code)
            out.append("\u{00A0}")
            out.append(minor: minor, minorDigits: currency.minorDigits)
        }
        if let fact = networkFact(alias: alias) {
            out.append(fact)
            out.append(dot)
        }
        if let reason {
            out.append("schedule unknown (\(reason))")
        } else {
            if s.nextCharge != Day.none32 {
                out.append("next ")
                out.append(day: s.nextCharge)
            } else {
                out.append("no next charge")
            }
            out.append(dot)
            let n = s.chargesAtRisk
            if n == 0 {
                out.append("no charge at risk to ")
                out.append(day: report.horizonEnd.days32)
            } else {
                out.append(int: Int64(n))
                out.append(n == 1 ? " charge at risk, " : " charges at risk, ")
                money(s.amountAtRisk)
            }
        }
        out.append(dot)
        money(s.amount)
        out.append(" each")
        if s.hasInitialAmount, s.initialCount > 0 {
            out.append(" (first ")
            out.append(int: Int64(s.initialCount))
            out.append(": ")
            money(s.initialAmount)
            out.append(")")
        }
        out.append(dot)
        out.append("counter ")
        store.withCounter(index) { counter in
            if isSimpleText(counter) {
                out.append(counter)
            } else {
                out.append(displaySafe(String(decoding: counter, as: UTF8.self)))
            }
        }
        if reason != nil {
            out.append(dot)
            out.append("rule ")
            out.append(displaySafe(store.rule(Int(s.rule))))
        }
        paragraph(from: start, indent: 16, hanging: 16)
    }
}
