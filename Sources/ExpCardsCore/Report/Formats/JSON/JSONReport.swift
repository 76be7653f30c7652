import Foundation

/// The report as one JSON object: a contract for scripts (documented in the man page).
///
/// Every key is always present (unknowns are explicit `null`), every date is `YYYY-MM-DD`,
/// amounts are integers in minor units with their currency code. Keys sorted, pretty-printed,
/// so the same files give the same bytes. Besides JSON's own escapes, the scalars that act on a
/// terminal's display (DEL, C1, bidi controls) are written as `\uXXXX`: same value, safe to `cat`.
public enum JSONReport {
    public static let version = 1

    public static func render(_ r: ExpiryReport, mask: Bool) throws -> String {
        var out: [UInt8] = []
        write(r, mask: mask) { out += $0 }
        return String(decoding: out, as: UTF8.self)
    }

    /// Streams the report as JSON to `output` in pieces of about 1 MiB: keys sorted, one alias or
    /// subscription per line (easy to grep, cheap to write), every key always present.
    ///
    /// Aliases and subscriptions are written from the report's compact records: their bytes are
    /// copied as they are unless a byte needs escaping, and the strings a million rows repeat
    /// (rules, shops, currencies, statuses) are encoded once.
    public static func write(_ r: ExpiryReport, mask: Bool, to output: @escaping (UnsafeRawBufferPointer) -> Void) {
        let w = JSONWriter(flush: output)
        let store = r.store
        let statuses = ExpiryStatus.allCases.map { JSONWriter.encoded($0.rawValue) }
        let actionNames = Dictionary(
            uniqueKeysWithValues: NetworkReconciliation.Action.allCases.map { ($0, JSONWriter.encoded($0.rawValue)) })
        let shopSets = store.shopSets.map { set -> [UInt8] in
            var bytes: [UInt8] = []
            let sw = JSONWriter(flushAt: Int.max / 2) { bytes += $0 }
            sw.strings(set)
            sw.finish()
            return bytes
        }
        w.raw("{\n")
        w.raw("  ")
        w.key("aliases")
        w.raw("[")
        for (i, idU) in store.aliasOrder.enumerated() {
            w.out.readAhead &+= store.readAhead(aliases: store.aliasOrder, at: i)
            let id = Int(idU)
            let a = store.aliases[id]
            let (record, action) = r.networkEntry(alias: id)
            w.raw(i == 0 ? "\n    {\"action\": " : ",\n    {\"action\": ")
            w.raw(bytes: actionNames[action]!)
            w.raw(", \"alias\": ")
            store.withAlias(id) { w.string(bytes: $0) }
            w.raw(", \"amountAtRisk\": ")
            switch store.aliasAmounts.spread(alias: id) {
            case .empty: w.raw("{}")
            case .single(let currency, let amount):
                w.raw("{")
                w.string(store.currencies[currency].code)
                w.raw(": ")
                w.int(amount)
                w.raw("}")
            case .several: w.amounts(store.amounts(ofAlias: id))
            }
            w.raw(", \"email\": ")
            if mask { w.string(Masking.email(store.email(id))) } else { store.withEmail(id) { w.string(bytes: $0) } }
            w.raw(", \"expiry\": ")
            w.day(days: a.expiry)
            w.raw(", \"name\": ")
            if mask { w.string(Masking.name(store.name(id))) } else { store.withName(id) { w.string(bytes: $0) } }
            w.raw(", \"network\": ")
            if let record { w.notification(record, alias: false) } else { w.raw("null") }
            w.raw(", \"recurrences\": ")
            if a.recurrences < 0 { w.raw("null") } else { w.int(a.recurrences) }
            w.raw(", \"shops\": ")
            w.raw(bytes: shopSets[Int(a.shopSet)])
            w.raw(", \"status\": ")
            w.raw(bytes: statuses[Int(a.status)])
            w.raw(", \"subscriptions\": ")
            w.int(a.subscriptions)
            w.raw("}")
        }
        w.raw(r.aliases.isEmpty ? "],\n" : "\n  ],\n")
        w.raw("  ")
        w.key("asOf")
        w.day(r.options.asOf)
        w.raw(",\n")
        w.raw("  ")
        w.key("company")
        w.string(r.companyLabel)
        w.raw(",\n")
        w.raw("  ")
        w.key("environment")
        w.string(r.environment?.rawValue)
        w.raw(",\n")
        w.raw("  ")
        w.key("excluded")
        w.raw("[")
        for (i, e) in r.excluded.enumerated() {
            w.raw(i == 0 ? "\n    {" : ",\n    {")
            w.key("path")
            w.string(e.path)
            w.raw(", \"reason\": ")
            w.string(e.reason)
            w.raw("}")
        }
        w.raw(r.excluded.isEmpty ? "],\n" : "\n  ],\n")
        w.raw("  ")
        w.key("files")
        w.raw("[")
        for (i, file) in r.files.enumerated() {
            var f = FileSummary(file)
            if mask { f.problems = f.problems.map(Masking.problem) }
            w.raw(i == 0 ? "\n    {" : ",\n    {")
            w.key("details")
            w.int(f.details)
            w.raw(", \"environment\": ")
            w.string(f.environment?.rawValue)
            w.raw(", \"kind\": ")
            w.string(f.kind?.rawValue)
            w.raw(", \"month\": ")
            w.string(f.month?.description)
            w.raw(", \"path\": ")
            w.string(f.path)
            w.raw(", \"problems\": ")
            w.raw("[")
            for (j, p) in f.problems.enumerated() {
                if j > 0 { w.raw(", ") }
                w.raw("{")
                w.key("field")
                w.int(p.field)
                w.raw(", ")
                w.key("line")
                w.int(p.line)
                w.raw(", ")
                w.key("message")
                w.string(p.message)
                w.raw("}")
            }
            w.raw("], ")
            w.key("shopId")
            w.string(f.shopId)
            w.raw(", \"warnings\": ")
            w.strings(f.warnings)
            w.raw("}")
        }
        w.raw(r.files.isEmpty ? "],\n" : "\n  ],\n")
        w.raw("  ")
        w.key("horizonMonths")
        w.int(r.options.horizonMonths)
        w.raw(",\n")
        w.raw("  ")
        w.key("month")
        w.string(r.month?.description)
        w.raw(",\n")
        w.raw("  ")
        w.key("network")
        writeNetwork(r.network, to: w)
        w.raw(",\n")
        w.raw("  ")
        w.key("subscriptions")
        w.raw("[")
        let rules = (0..<store.rules.count).map { JSONWriter.encoded(store.rule($0)) }
        let unknown = store.ruleResults.map { result -> [UInt8]? in
            if case .failure(let reason) = result { return JSONWriter.encoded(reason.description) }
            return nil
        }
        let shops = store.shops.map { JSONWriter.encoded($0) }
        let null = Array("null".utf8)
        let currencies = store.shopCurrencies.map { JSONWriter.encoded($0.code) }
        for (i, index) in store.subscriptionOrder.enumerated() {
            w.out.readAhead &+= store.readAhead(subscriptions: store.subscriptionOrder, at: i)
            let s = store.subscriptions[Int(index)]
            let a = store.aliases[Int(s.alias)]
            let reason = unknown[Int(s.rule)]
            w.raw(i == 0 ? "\n    {\"alias\": " : ",\n    {\"alias\": ")
            store.withAlias(Int(s.alias)) { w.string(bytes: $0) }
            w.raw(", \"amount\": ")
            w.int(s.amount)
            w.raw(", \"amountAtRisk\": ")
            if reason == nil { w.int(s.amountAtRisk) } else { w.raw("null") }
            w.raw(", \"chargesAtRisk\": ")
            if reason == nil { w.int(s.chargesAtRisk) } else { w.raw("null") }
            w.raw(", \"currency\": ")
            w.raw(bytes: currencies[Int(s.shop)])
            w.raw(", \"effectDate\": ")
            w.day(days: s.effect)
            w.raw(", \"expiry\": ")
            w.day(days: a.expiry)
            w.raw(", \"firstChargeAfterExpiry\": ")
            w.day(days: s.firstChargeAfterExpiry)
            w.raw(", \"initialAmount\": ")
            if s.hasInitialAmount { w.int(s.initialAmount) } else { w.raw("null") }
            w.raw(", \"initialCount\": ")
            w.int(s.initialCount)
            w.raw(", \"nextCharge\": ")
            w.day(days: s.nextCharge)
            w.raw(", \"recurrenceCounter\": ")
            store.withCounter(Int(index)) { w.string(bytes: $0) }
            w.raw(", \"rule\": ")
            w.raw(bytes: rules[Int(s.rule)])
            w.raw(", \"scheduleUnknown\": ")
            w.raw(bytes: reason ?? null)
            w.raw(", \"shopId\": ")
            w.raw(bytes: shops[Int(s.shop)])
            w.raw(", \"status\": ")
            w.raw(bytes: statuses[Int(a.status)])
            w.raw(", \"subscriptionId\": ")
            store.withSubscriptionId(Int(index)) { w.string(bytes: $0) }
            w.raw("}")
        }
        w.raw(r.subscriptions.isEmpty ? "],\n" : "\n  ],\n")
        w.raw("  ")
        w.key("summary")
        w.raw("{")
        for (i, status) in ExpiryStatus.allCases.enumerated() {
            let s = r.summary[status] ?? .init()
            w.raw(i == 0 ? "\n    " : ",\n    ")
            w.string(status.rawValue)
            w.raw(": {")
            w.key("aliases")
            w.int(s.aliases)
            w.raw(", ")
            w.key("amountAtRisk")
            w.amounts(s.amountAtRisk)
            w.raw(", ")
            w.key("subscriptions")
            w.int(s.subscriptions)
            w.raw("}")
        }
        w.raw("\n  },\n")
        w.raw("  ")
        w.key("thresholdMonths")
        w.int(r.options.thresholdMonths)
        w.raw(",\n")
        w.raw("  ")
        w.key("version")
        w.int(version)
        w.raw(",\n")
        w.raw("  ")
        w.key("warnings")
        w.raw("[")
        for (i, text) in r.warnings.map({ $0.text(masked: mask) }).enumerated() {
            w.raw(i == 0 ? "\n    " : ",\n    ")
            w.string(text)
        }
        w.raw(r.warnings.isEmpty ? "]\n" : "\n  ]\n")
        w.raw("}\n")
        w.finish()
    }

    /// The reconciliation's totals and the aliases absent from the files: `null` without one.
    private static func writeNetwork(_ network: NetworkReconciliation?, to w: JSONWriter) {
        guard let n = network else { return w.raw("null") }
        w.raw("{\n    ")
        w.key("absent")
        if n.absentOmitted {
            // A report restricted to shops cannot give them to a shop: null, not an empty list.
            w.raw("null,\n    ")
        } else {
            w.raw("[")
            for (i, record) in n.absent.enumerated() {
                w.raw(i == 0 ? "\n      " : ",\n      ")
                w.notification(record, alias: true)
            }
            w.raw(n.absent.isEmpty ? "],\n    " : "\n    ],\n    ")
        }
        w.key("actions")
        w.raw("{")
        for (i, status) in ExpiryStatus.allCases.enumerated() {
            if i > 0 { w.raw(", ") }
            w.string(status.rawValue)
            w.raw(": {")
            for (j, action) in NetworkReconciliation.Action.allCases.sorted(by: { $0.rawValue < $1.rawValue })
                .enumerated()
            {
                if j > 0 { w.raw(", ") }
                w.string(action.rawValue)
                w.raw(": ")
                w.int(n.count(status, action))
            }
            w.raw("}")
        }
        w.raw("},\n    ")
        w.key("amountAtRiskRemovedByRenewals")
        w.raw("{")
        for (i, status) in ExpiryStatus.allCases.enumerated() {
            if i > 0 { w.raw(", ") }
            w.string(status.rawValue)
            w.raw(": ")
            w.amounts(n.amountRemoved[status] ?? [:])
        }
        w.raw("},\n    ")
        w.key("lastReceived")
        w.string(n.lastReceived?.rfc3339)
        w.raw(",\n    ")
        w.key("problems")
        w.strings(n.problems.map(\.description))
        w.raw(",\n    ")
        w.key("since")
        w.day(n.since)
        w.raw(",\n    ")
        w.key("store")
        w.string(n.source)
        w.raw("\n  }")
    }
}

extension JSONWriter {
    /// `{aliasStatus, cardExpiry, lastFour, method, notifiedAt, source, tokenStatus}`, with the
    /// alias first when `alias`.
    func notification(_ record: NotificationRecord, alias: Bool) {
        let n = record.notification
        raw("{")
        if alias {
            key("alias")
            string(n.alias)
            raw(", ")
        }
        key("aliasStatus")
        string(n.aliasStatus.rawValue)
        raw(", ")
        key("cardExpiry")
        string(n.cardExpiry?.description)
        raw(", ")
        key("lastFour")
        string(n.lastFour)
        raw(", ")
        key("method")
        string(n.method?.rawValue)
        raw(", ")
        key("notifiedAt")
        string(record.notifiedAt.rfc3339)
        raw(", ")
        key("source")
        string(n.source?.rawValue)
        raw(", ")
        key("tokenStatus")
        string(n.tokenStatus.rawValue)
        raw("}")
    }
}
