/// The report as CSV for a mail merge or a spreadsheet: a header row, then one row per
/// subscription, and one row with empty subscription columns per alias that has none. Rows follow
/// the aliases' order (status, expiry, alias), each alias's subscriptions in the report's order.
///
/// The last columns are the network's (ITN): `action` (`contact`, `renewed`, `none`; from the
/// files alone without a store) and the alias's latest notification, empty without one. With a
/// store, the accounts the network closed come first, then the cards it suspended, then the
/// aliases it suspended or closed that no file of the month lists (their file cells empty), then
/// the rest, and the cards it renewed last.
///
/// RFC 4180 (comma, CRLF, fields quoted only when they hold the separator or a quote, quotes
/// doubled), or `excelFR` for a French spreadsheet: `;`, a decimal comma in amounts and a UTF-8
/// BOM so accents open right. Buyers' control characters are escaped (`\x01`), and a text cell
/// that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a leading `'`.
public enum CSVReport {
    public enum Dialect: Sendable { case rfc4180, excelFR }

    /// Column names, the same as the JSON report's keys.
    public static let columns =
        [
            "status", "expiry", "alias", "name", "email", "recurrences", "shops", "shopId", "subscriptionId",
            "recurrenceCounter", "rule", "effectDate", "currency", "amount", "initialAmount", "initialCount",
            "nextCharge", "firstChargeAfterExpiry", "chargesAtRisk", "amountAtRisk", "scheduleUnknown",
        ] + networkColumns

    /// The JSON report's `action` and its `network` object's keys as one camel-case word each (a
    /// mail merge takes no dot in a field's name).
    public static let networkColumns = [
        "action", "networkAliasStatus", "networkTokenStatus", "networkMethod", "networkLastFour",
        "networkCardExpiry", "networkSource", "networkNotifiedAt",
    ]
    static let aliasColumnCount = 7
    static let subscriptionColumnCount = 14

    public static func render(_ r: ExpiryReport, dialect: Dialect, mask: Bool) -> String {
        var out: [UInt8] = []
        write(r, dialect: dialect, mask: mask) { out += $0 }
        return String(decoding: out, as: UTF8.self)
    }

    /// Streams the CSV to `output` in pieces of about 1 MiB, written from the report's compact
    /// records; the cells a million rows repeat (an alias's own, rules, shops) are made once.
    public static func write(
        _ r: ExpiryReport, dialect: Dialect, mask: Bool, to output: @escaping (UnsafeRawBufferPointer) -> Void
    ) {
        let out = ByteOutput(sink: output)
        let separator: UInt8 = dialect == .excelFR ? UInt8(ascii: ";") : UInt8(ascii: ",")
        let point: UInt8 = dialect == .excelFR ? UInt8(ascii: ",") : UInt8(ascii: ".")
        if dialect == .excelFR { out.append("\u{FEFF}") }
        for (i, c) in columns.enumerated() {
            if i > 0 { out.append(separator) }
            out.append(c)
        }
        out.append("\r\n")
        let store = r.store
        func cell(_ build: (ByteOutput) -> Void) -> [UInt8] {
            var bytes: [UInt8] = []
            let o = ByteOutput(flushAt: Int.max / 2) { bytes += $0 }
            build(o)
            o.flush()
            return bytes
        }
        let statuses = ExpiryStatus.allCases.map { s in cell { $0.append(s.rawValue) } }
        let shopSets = store.shopSets.map { set in
            cell { textCell(set.joined(separator: " "), separator: separator, to: $0) }
        }
        let shops = store.shops.map { shop in cell { textCell(shop, separator: separator, to: $0) } }
        let rules = (0..<store.rules.count).map { id in cell { textCell(store.rule(id), separator: separator, to: $0) }
        }
        let unknown = store.ruleResults.map { result -> [UInt8]? in
            guard case .failure(let reason) = result else { return nil }
            return cell { textCell(reason.description, separator: separator, to: $0) }
        }
        // Each alias's subscriptions in report order: a counting sort of the report's order.
        var starts = [UInt32](repeating: 0, count: store.aliases.count + 1)
        for s in store.subscriptions { starts[Int(s.alias) + 1] += 1 }
        for i in 0..<store.aliases.count { starts[i + 1] += starts[i] }
        var byAlias = [UInt32](repeating: 0, count: store.subscriptions.count)
        var next = starts
        for (k, index) in store.subscriptionOrder.enumerated() {
            if k + 16 < store.subscriptionOrder.count {
                out.readAhead &+= UInt64(store.subscriptions[Int(store.subscriptionOrder[k + 16])].alias)
            }
            let a = Int(store.subscriptions[Int(index)].alias)
            byAlias[Int(next[a])] = index
            next[a] += 1
        }
        next = []
        let actions = Dictionary(
            uniqueKeysWithValues: NetworkReconciliation.Action.allCases.map { a in (a, cell { $0.append(a.rawValue) }) }
        )
        func networkCells(_ record: NotificationRecord?, _ action: NetworkReconciliation.Action, to o: ByteOutput) {
            o.append(separator)
            o.append(actions[action]!)
            guard let record else {
                for _ in 1..<networkColumns.count { o.append(separator) }
                return
            }
            let n = record.notification
            for value in [
                n.aliasStatus.rawValue, n.tokenStatus.rawValue, n.method?.rawValue, n.lastFour,
                n.cardExpiry?.description, n.source?.rawValue, record.notifiedAt.rfc3339,
            ] {
                o.append(separator)
                if let value { textCell(value, separator: separator, to: o) }
            }
        }
        // The aliases the network suspended or closed that no file lists: after those that are.
        let (order, closedOrSuspended) = r.network?.contactOrder(store.aliasOrder) ?? (store.aliasOrder, -1)
        func absentRows() {
            for record in r.network?.absent ?? [] {
                for _ in 0..<2 { out.append(separator) }
                textCell(record.notification.alias, separator: separator, to: out)
                for _ in 0..<(aliasColumnCount - 3 + subscriptionColumnCount) { out.append(separator) }
                networkCells(record, .contact, to: out)
                out.append("\r\n")
            }
        }
        // An alias's cells, written once and copied into each of its rows (never flushed); and
        // its network cells, which end each of its rows.
        let o = ByteOutput(flushAt: Int.max / 2) { _ in }
        let tail = ByteOutput(flushAt: Int.max / 2) { _ in }
        for (position, idU) in order.enumerated() {
            if position == closedOrSuspended { absentRows() }
            out.readAhead &+= store.readAhead(aliases: order, at: position)
            let id = Int(idU)
            let a = store.aliases[id]
            o.truncate(to: 0)
            tail.truncate(to: 0)
            let (record, action) = r.networkEntry(alias: id)
            networkCells(record, action, to: tail)
            do {
                o.append(statuses[Int(a.status)])
                o.append(separator)
                o.append(day: a.expiry)
                o.append(separator)
                store.withAlias(id) { textCell($0, separator: separator, to: o) }
                o.append(separator)
                if mask {
                    textCell(Masking.name(store.name(id)), separator: separator, to: o)
                } else {
                    store.withName(id) { textCell($0, separator: separator, to: o) }
                }
                o.append(separator)
                if mask {
                    textCell(Masking.email(store.email(id)), separator: separator, to: o)
                } else {
                    store.withEmail(id) { textCell($0, separator: separator, to: o) }
                }
                o.append(separator)
                if a.recurrences >= 0 { o.append(int: Int64(a.recurrences)) }
                o.append(separator)
                o.append(shopSets[Int(a.shopSet)])
            }
            let first = Int(starts[id])
            let end = Int(starts[id + 1])
            if first == end {
                o.withBytes(from: 0) { out.append($0) }
                for _ in 0..<subscriptionColumnCount { out.append(separator) }
                tail.withBytes(from: 0) { out.append($0) }
                out.append("\r\n")
                out.flushIfFull()
                continue
            }
            for k in first..<end {
                let index = Int(byAlias[k])
                let s = store.subscriptions[index]
                let currency = store.shopCurrencies[Int(s.shop)]
                let reason = unknown[Int(s.rule)]
                o.withBytes(from: 0) { out.append($0) }
                out.append(separator)
                out.append(shops[Int(s.shop)])
                out.append(separator)
                store.withSubscriptionId(index) { textCell($0, separator: separator, to: out) }
                out.append(separator)
                store.withCounter(index) { textCell($0, separator: separator, to: out) }
                out.append(separator)
                out.append(rules[Int(s.rule)])
                out.append(separator)
                out.append(day: s.effect)
                out.append(separator)
                out.append(currency.code)
                out.append(separator)
                out.append(minor: s.amount, minorDigits: currency.minorDigits, point: point)
                out.append(separator)
                if s.hasInitialAmount {
                    out.append(minor: s.initialAmount, minorDigits: currency.minorDigits, point: point)
                }
                out.append(separator)
                out.append(int: Int64(s.initialCount))
                out.append(separator)
                if s.nextCharge != Day.none32 { out.append(day: s.nextCharge) }
                out.append(separator)
                if s.firstChargeAfterExpiry != Day.none32 { out.append(day: s.firstChargeAfterExpiry) }
                out.append(separator)
                if reason == nil { out.append(int: Int64(s.chargesAtRisk)) }
                out.append(separator)
                if reason == nil { out.append(minor: s.amountAtRisk, minorDigits: currency.minorDigits, point: point) }
                out.append(separator)
                if let reason { out.append(reason) }
                tail.withBytes(from: 0) { out.append($0) }
                out.append("\r\n")
                out.flushIfFull()
            }
        }
        if closedOrSuspended == order.count { absentRows() }
        out.flush()
    }

    /// A text cell from UTF-8 bytes, as `quoted(text(...))` makes it: written straight from the
    /// bytes when they are simple text (no escape to make, every scalar its own character).
    static func textCell(_ bytes: UnsafeRawBufferPointer, separator: UInt8, to out: ByteOutput) {
        guard isSimpleText(bytes) else {
            return textCell(String(decoding: bytes, as: UTF8.self), separator: separator, to: out)
        }
        let formula =
            bytes.first.map {
                $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "@")
            } ?? false
        let quote = bytes.contains { $0 == separator || $0 == UInt8(ascii: "\"") }
        if quote { out.append(UInt8(ascii: "\"")) }
        if formula { out.append(UInt8(ascii: "'")) }
        if quote {
            for b in bytes {
                if b == UInt8(ascii: "\"") { out.append(b) }
                out.append(b)
            }
            out.append(UInt8(ascii: "\""))
        } else {
            out.append(bytes)
        }
    }

    static func textCell(_ value: String, separator: UInt8, to out: ByteOutput) {
        out.append(quoted(text(value), separator: Unicode.Scalar(separator)))
    }

    /// A text cell: control characters escaped, formulas neutralised.
    static func text(_ value: String) -> String {
        let safe = displaySafe(value)
        guard let first = safe.unicodeScalars.first else { return safe }
        switch first {
        case "=", "+", "-", "@", "\t", "\r": return "'" + safe
        default: return safe
        }
    }

    /// Quoted when needed, by scalars: a CSV reader splits on the separator's byte even when a
    /// combining mark follows it (Swift's Characters would hide `,\u{301}` from a `,` test).
    static func quoted(_ cell: String, separator: Unicode.Scalar) -> String {
        guard cell.unicodeScalars.contains(where: { $0 == separator || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else {
            return cell
        }
        var out = String.UnicodeScalarView()
        out.append("\"")
        for scalar in cell.unicodeScalars {
            if scalar == "\"" { out.append(scalar) }
            out.append(scalar)
        }
        out.append("\"")
        return String(out)
    }
}
