/// The subscriptions at risk, the files read and the warnings.
extension HTMLWriter {
    mutating func subscriptions() {
        // With each, its alias's store id (for the network's word on its card).
        let store = report.store
        let all = report.subscriptions
        let listed = all.indices.lazy.map { k in
            (all[k], Int(store.subscriptions[Int(store.subscriptionOrder[k])].alias))
        }.filter { s, _ in s.risk.firstChargeAfterExpiry != nil || !s.risk.isScheduleKnown }
        let total = report.summary.values.reduce(0) { $0 + $1.subscriptions }
        guard !report.subscriptions.isEmpty else {
            let shopFiles = report.files.contains { $0.kind == .shop }
            heading("SUBSCRIPTIONS AT RISK · none" + (shopFiles ? "" : " (no shop file read)"))
            return
        }
        var shown = 0
        var leftOut = 0
        var shop: String?
        var open = false
        var any = false
        heading("SUBSCRIPTIONS AT RISK · by first charge after the card's expiry")
        for (s, aliasID) in listed {
            any = true
            if shown >= maxRows {
                leftOut += 1
                continue
            }
            if s.shopId != shop {
                if open { put("</table>") }
                shop = s.shopId
                let label = report.shopLabels[s.shopId].map { " (" + text($0) + ")" } ?? ""
                put("<h3 style=\"margin:16px 0 4px 0;font-size:14px;\(Self.font)\">Shop \(text(s.shopId))\(label)</h3>")
                table()
                headerRow([
                    "First charge after expiry", "Subscription", "Name", "Card expiry", "Next charge", "At risk>",
                    "Each>", "Counter",
                ])
                open = true
            }
            shown += 1
            let c = Self.colours[s.status]!
            let r = s.risk
            let first = r.firstChargeAfterExpiry.map { "\($0)" } ?? "unknown"
            let next = r.isScheduleKnown ? (r.nextCharge.map { "\($0)" } ?? "none") : "unknown"
            var atRisk = "schedule unknown"
            if let reason = r.unknownReason {
                atRisk = "schedule unknown: " + text("\(reason)") + "<br>rule " + text(s.rule)
            } else if let n = r.chargesAtRisk, let amount = r.amountAtRisk {
                atRisk = n == 0 ? "none" : plural(n, "charge") + ", " + money(amount, s.currency)
            }
            var each = money(s.amount, s.currency)
            if let initial = s.initialAmount, s.initialCount > 0 {
                each += " (first \(s.initialCount): " + money(initial, s.currency) + ")"
            }
            let nowrap = "white-space:nowrap;"
            row(
                [
                    (nowrap + "font-weight:bold;color:\(c.text);", first), ("", text(s.subscriptionId)),
                    ("", name(s.name)),
                    (
                        nowrap + "color:\(c.text);",
                        "\(s.expiry)" + (networkWord(alias: aliasID).map { "<br>" + $0 } ?? "")
                    ), (nowrap, next),
                    (r.isScheduleKnown ? "text-align:right;" : "", atRisk), ("text-align:right;", each),
                    ("", text(s.recurrenceCounter)),
                ], background: c.background)
        }
        if open { put("</table>") }
        if !any { note("None of the \(plural(total, "subscription")) has a charge after its card's expiry.") }
        if leftOut > 0 { note("<b>\(leftOut) more subscriptions at risk not shown here</b>: \(leftOutNote)") }
    }

    mutating func files() {
        let problems = report.problemCount
        heading(
            "PROBLEMS · " + (problems == 0 ? "none" : "\(problems)"),
            colour: problems == 0 ? "#222222" : Self.colours[.expired]!.text)
        for f in report.files where !f.isClean {
            put("<p style=\"margin:8px 0 2px 0;font-weight:bold;\">\(text(f.path))</p><ul style=\"margin:0 0 8px 0;\">")
            if let u = f.unreadable { put("<li>\(text(u))</li>") }
            for p in f.problems {
                let p = mask ? Masking.problem(p) : p
                let place = p.line > 0 ? "line \(p.line)" + (p.field > 0 ? ", field \(p.field)" : "") + ": " : ""
                put("<li>\(text(place + p.message))</li>")
            }
            put("</ul>")
        }
        heading("FILES READ · \(report.files.count)")
        table()
        headerRow(["", "File", "Kind", "Details>"])
        for f in report.files {
            let state = f.unreadable != nil && f.problems.isEmpty ? "UNREADABLE" : (f.isClean ? "OK" : "FAIL")
            let colour = f.isClean ? "#1b5e20" : "#b71c1c"
            var kind = f.kind.map { $0 == .shop ? "shop " + (f.shopId ?? "?") : "company" } ?? "-"
            if let env = f.environment { kind += ", " + env.rawValue }
            if f.compressed { kind += ", gzip" }
            var file = text(f.path)
            if !f.warnings.isEmpty {
                file +=
                    "<br><span style=\"color:#b34700;\">"
                    + f.warnings.map { "warning: " + text($0) }.joined(separator: "<br>") + "</span>"
            }
            row([
                ("font-weight:bold;color:\(colour);", state), ("", file), ("", text(kind)),
                ("text-align:right;", "\(f.detailRecords)"),
            ])
        }
        put("</table>")
        if !report.excluded.isEmpty {
            heading("FILES LEFT OUT · \(report.excluded.count)")
            put("<ul style=\"margin:0 0 8px 0;\">")
            for e in report.excluded { put("<li>\(text(e.path)): \(text(e.reason))</li>") }
            put("</ul>")
        }
        if !report.warnings.isEmpty {
            heading("WARNINGS · \(report.warnings.count)", colour: "#b34700")
            put("<ul style=\"margin:0 0 8px 0;\">")
            for w in report.warnings { put("<li>\(text(w.text(masked: mask)))</li>") }
            put("</ul>")
        }
    }
}
