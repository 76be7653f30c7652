/// The report for people, made for `| mail`: a one-line verdict a mail preview shows, a title,
/// a summary per status, the aliases by status and month of expiry, the subscriptions at risk per
/// shop, then the files read (with their problems) and the report's warnings.
///
/// At most `width` columns: table cells are cut with `…`, free text (problems, warnings) is
/// broken at spaces with a hanging indent, so no mail client wraps a line in the middle. Plain
/// text unless `color`. Iterates only sorted arrays, so the same files give the same bytes.
public enum TextReport {
    public static let width = 100

    public static func render(_ r: ExpiryReport, color: Bool, mask: Bool) -> String {
        var w = TextReportWriter(report: r, style: TerminalStyle(enabled: color), mask: mask)
        w.write()
        return w.out
    }
}

private struct TextReportWriter {
    let report: ExpiryReport
    let style: TerminalStyle
    let mask: Bool
    var out = ""
    let width = TextReport.width

    init(report: ExpiryReport, style: TerminalStyle, mask: Bool) {
        self.report = report
        self.style = style
        self.mask = mask
    }

    mutating func write() {
        verdict()
        title()
        summary()
        for status in ExpiryStatus.allCases { aliasSection(status) }
        subscriptionSection()
        fileSection()
        warningSection()
    }

    // MARK: Lines

    /// Every line goes through here: escaped by the caller, never longer than the width unless it
    /// carries colour codes (which take no columns).
    mutating func line(_ text: String = "") { out += text + "\n" }

    mutating func blank() { out += "\n" }

    /// Free text wrapped under a hanging indent.
    mutating func paragraph(_ text: String, indent: String, hanging: String) {
        for l in wrapped(displaySafe(text), width: width, firstIndent: indent, indent: hanging) { line(l) }
    }

    // MARK: Facts

    var options: ExpiryReport.Options { report.options }

    func name(_ s: String) -> String { displaySafe(mask ? Masking.name(s) : s) }
    func email(_ s: String) -> String { displaySafe(mask ? Masking.email(s) : s) }

    func plural(_ n: Int, _ one: String, _ many: String? = nil) -> String {
        "\(n) " + (n == 1 ? one : many ?? one + "s")
    }

    func money(_ amounts: [String: Int64]) -> String {
        amounts.keys.sorted().map { code in
            let minor = amounts[code]!
            return code + nbsp + (Currency(code: code)?.format(minor) ?? String(minor))
        }.joined(separator: " + ")
    }

    func money(_ minor: Int64, _ currency: Currency) -> String { currency.code + nbsp + currency.format(minor) }

    var totalAtRisk: [String: Int64] {
        var total: [String: Int64] = [:]
        for status in ExpiryStatus.allCases {
            for (code, v) in report.summary[status]?.amountAtRisk ?? [:] { total[code, default: 0] &+= v }
        }
        return total
    }

    func count(_ status: ExpiryStatus) -> Int { report.summary[status]?.aliases ?? 0 }

    /// "expiring within 2 months", or on the day itself with a threshold of 0.
    var expiringPhrase: String {
        options.thresholdMonths == 0
            ? "expiring on \(options.asOf)" : "expiring within \(plural(options.thresholdMonths, "month"))"
    }

    // MARK: Verdict and title

    mutating func verdict() {
        let problems = report.problemCount, warnings = report.warningCount
        let word: String
        var head: String
        var warningsPart = ""
        if problems > 0 {
            word = "PROBLEMS"
            head = ": " + plural(report.filesWithProblems, "file") + " with " + plural(problems, "problem")
            if warnings > 0 { warningsPart = ", " + plural(warnings, "warning") }
        } else if warnings > 0 {
            word = "WARNING"
            head = ": " + plural(warnings, "warning")
        } else {
            word = "OK"
            head = ""
        }
        let figures = "\(count(.expired)) expired, \(count(.expiring)) \(expiringPhrase)"
        let later = count(.later) > 0 ? ", \(count(.later)) later" : ""
        var money = ""
        let total = totalAtRisk.filter { $0.value != 0 }
        if !total.isEmpty {
            money = " · " + self.money(total).replacingNoBreakSpaces() + " at risk"
        } else if !report.subscriptions.isEmpty {
            money = " · nothing at risk"
        }
        // One line, whatever it costs: a mail preview shows only that. The least useful parts go
        // first (later cards, then the warning count when there are problems); then it is cut.
        var candidates = [
            head + warningsPart + " · " + figures + later + money,
            head + warningsPart + " · " + figures + money,
            head + " · " + figures + money,
            head + " · \(count(.expired)) expired, \(count(.expiring)) expiring" + money,
        ]
        candidates = candidates.filter { displayWidth(word + $0) <= width } + [truncated(head + " · " + figures + money, to: width - word.count)]
        let colour = word == "PROBLEMS" ? "1;31" : word == "WARNING" ? "1;38;5;208" : "1"
        line(style.apply(colour, word) + candidates[0])
    }

    mutating func title() {
        var parts: [String] = []
        var what = "Expiring cards"
        if let company = report.companyLabel {
            what += " of " + company
        } else if report.shopLabels.count == 1, let (shop, label) = report.shopLabels.first {
            what += " of shop \(label) (\(shop))"
        }
        parts.append(what)
        var files = ""
        if let env = report.environment { files = env.rawValue + " " }
        files += "files"
        if let month = report.month { files += " of \(month)" }
        parts.append(files)
        parts.append("as of \(options.asOf)")
        parts.append("threshold \(plural(options.thresholdMonths, "month"))")
        paragraph(parts.joined(separator: " · "), indent: "", hanging: "  ")
    }

    // MARK: Summary

    mutating func summary() {
        blank()
        let labels = ["Expired", "Expiring", "Later"]
        let rows = ExpiryStatus.allCases.map { s -> (String, String, String) in
            let sum = report.summary[s] ?? .init()
            let atRisk = sum.amountAtRisk.values.contains { $0 != 0 } ? money(sum.amountAtRisk.filter { $0.value != 0 }) : "-"
            return (String(sum.aliases), String(sum.subscriptions), atRisk)
        }
        let labelW = max(labels.map(displayWidth).max()!, 8)
        let aW = max("Cards".count, rows.map { $0.0.count }.max()!)
        let sW = max("Subscriptions".count, rows.map { $0.1.count }.max()!)
        line("  " + padded("", to: labelW) + "  " + rightAligned("Cards", to: aW) + "  "
            + rightAligned("Subscriptions", to: sW) + "  At risk")
        for (i, s) in ExpiryStatus.allCases.enumerated() {
            let (a, subs, risk) = rows[i]
            let text = "  " + style.status(s, padded(labels[i], to: labelW)) + "  " + rightAligned(a, to: aW) + "  "
                + rightAligned(subs, to: sW) + "  "
            line(text + truncated(risk.replacingNoBreakSpaces(), to: width - (2 + labelW + 2 + aW + 2 + sW + 2)))
        }
        paragraph(
            "At risk: the charges due after the card's expiry, from \(options.asOf) to \(report.horizonEnd).",
            indent: "  ", hanging: "  ")
    }

    // MARK: Aliases

    struct AliasColumns {
        var alias: Int
        var name: Int
        var email: Int
        /// 0: no shops column (at most one shop in the report: it would say nothing).
        var shops: Int
        static let subs = 4
    }

    func shopsText(_ shops: [String]) -> String {
        switch shops.count {
        case 0: "-"
        case 1: shops[0]
        default: "\(shops.count) shops"
        }
    }

    /// Expiry and alias in full (a platform alias is 32 characters); name and e-mail share what is
    /// left, the e-mail favoured (it is longer, and how ops reach the buyer).
    lazy var columns: AliasColumns = {
        let aliases = report.aliases
        let shopCount = Set(aliases.flatMap(\.shops)).count
        let aliasW = min(max(5, aliases.map { displayWidth(displaySafe($0.alias)) }.max() ?? 0), 32)
        let shopsW = shopCount < 2 ? 0 : max(5, aliases.map { displayWidth(shopsText($0.shops)) }.max() ?? 0)
        let nameN = max(4, aliases.map { displayWidth(name($0.name)) }.max() ?? 0)
        let emailN = max(6, aliases.map { displayWidth(email($0.email)) }.max() ?? 0)
        let fixed = 4 + 10 + 2 + aliasW + 2 + 2 + 2 + AliasColumns.subs + (shopsW == 0 ? 0 : 2 + shopsW)
        let room = width - fixed
        var nameW = min(nameN, max(room * 2 / 5, room - emailN))
        let emailW = min(emailN, room - nameW)
        nameW = min(nameN, room - emailW)
        return AliasColumns(alias: aliasW, name: nameW, email: emailW, shops: shopsW)
    }()

    static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]

    mutating func aliasSection(_ status: ExpiryStatus) {
        blank()
        let aliases = report.aliases.filter { $0.status == status }
        let scope: String
        switch status {
        case .expired: scope = "expired before \(options.asOf)"
        case .expiring:
            scope = options.thresholdMonths == 0
                ? "expiring on \(options.asOf)" : "expiring from \(options.asOf) to \(report.thresholdEnd)"
        case .later: scope = "expiring after \(report.thresholdEnd)"
        }
        let heading = style.status(status, style.bold(status.rawValue.uppercased()))
        guard !aliases.isEmpty else {
            line(heading + " · none " + scope)
            return
        }
        line(heading + " · " + plural(aliases.count, "card") + " " + scope)
        let c = columns
        line("    " + padded("Expiry", to: 10) + "  " + padded("Alias", to: c.alias) + "  " + padded("Name", to: c.name)
            + "  " + padded("E-mail", to: c.email) + "  " + rightAligned("Subs", to: AliasColumns.subs)
            + (c.shops == 0 ? "" : "  Shops"))
        var month: YearMonth?
        for a in aliases {
            let m = YearMonth(a.expiry)
            if m != month {
                month = m
                line("  " + TextReportWriter.monthNames[m.month - 1] + " \(m.year)")
            }
            line("    " + style.status(status, a.expiry.description) + "  " + padded(displaySafe(a.alias), to: c.alias)
                + "  " + padded(name(a.name), to: c.name) + "  " + padded(email(a.email), to: c.email) + "  "
                + rightAligned(String(a.subscriptions), to: AliasColumns.subs)
                + (c.shops == 0 ? "" : "  " + truncated(displaySafe(shopsText(a.shops)), to: c.shops)))
        }
    }

    // MARK: Subscriptions

    /// At risk: a charge falls after the expiry (within the horizon or not), or nobody can tell.
    func isListed(_ s: ExpiryReport.Subscription) -> Bool {
        s.risk.firstChargeAfterExpiry != nil || !s.risk.isScheduleKnown
    }

    mutating func subscriptionSection() {
        blank()
        let heading = style.bold("SUBSCRIPTIONS AT RISK")
        let shopFiles = report.files.filter { $0.kind == .shop }
        if report.subscriptions.isEmpty {
            line(heading + " · none" + (shopFiles.isEmpty ? " (no shop file read)" : ""))
            return
        }
        let listed = report.subscriptions.filter(isListed)
        line(heading + " · " + (listed.isEmpty ? "none" : plural(listed.count, "subscription"))
            + ", by first charge after the card's expiry")
        // Line 1: first charge after expiry, subscription id, name, the card's expiry.
        let subN = listed.map { displayWidth(displaySafe($0.subscriptionId)) }.max() ?? 0
        let nameN = listed.map { displayWidth(name($0.name)) }.max() ?? 0
        let room = width - (4 + 10 + 2 + 2 + 2 + 23)
        let subW = min(subN, max(room - nameN, room * 3 / 5))
        let nameW = min(nameN, room - subW)
        var shop: String?
        for s in report.subscriptions where shop != s.shopId {
            shop = s.shopId
            let all = report.subscriptions.filter { $0.shopId == s.shopId }
            let atRisk = all.filter(isListed)
            var amounts: [String: Int64] = [:]
            for x in atRisk { if let v = x.risk.amountAtRisk { amounts[x.currency.code, default: 0] &+= v } }
            var head = "Shop \(s.shopId)"
            if let label = report.shopLabels[s.shopId] { head += " (" + displaySafe(label) + ")" }
            head += " · " + (atRisk.isEmpty ? "none at risk" : plural(atRisk.count, "subscription") + " at risk")
            if amounts.values.contains(where: { $0 != 0 }) { head += ", " + money(amounts.filter { $0.value != 0 }) }
            let other = all.count - atRisk.count
            if other > 0 { head += " · \(other) not at risk (no charge after the expiry)" }
            blank()
            paragraph(head, indent: "  ", hanging: "    ")
            for x in atRisk { subscription(x, subW: subW, nameW: nameW) }
        }
    }

    mutating func subscription(_ s: ExpiryReport.Subscription, subW: Int, nameW: Int) {
        let first = s.risk.firstChargeAfterExpiry.map { style.status(s.status, $0.description) } ?? "unknown   "
        let card = (s.status == .expired ? "card expired " : "card expires ") + s.expiry.description
        line("    " + first + "  " + padded(displaySafe(s.subscriptionId), to: subW) + "  "
            + padded(name(s.name), to: nameW) + "  " + style.status(s.status, card))
        var facts: [String] = []
        if let reason = s.risk.unknownReason {
            facts.append("schedule unknown (\(reason))")
        } else {
            facts.append(s.risk.nextCharge.map { "next \($0)" } ?? "no next charge")
            let n = s.risk.chargesAtRisk ?? 0
            facts.append(
                n == 0
                    ? "no charge at risk to \(report.horizonEnd)"
                    : plural(n, "charge") + " at risk, " + money(s.risk.amountAtRisk ?? 0, s.currency))
        }
        var price = money(s.amount, s.currency) + " each"
        if let initial = s.initialAmount, s.initialCount > 0 {
            price += " (first \(s.initialCount): \(money(initial, s.currency)))"
        }
        facts.append(price)
        facts.append("counter " + displaySafe(s.recurrenceCounter))
        if !s.risk.isScheduleKnown { facts.append("rule " + displaySafe(s.rule)) }
        paragraph(facts.joined(separator: " · "), indent: String(repeating: " ", count: 16), hanging: String(repeating: " ", count: 16))
    }

    // MARK: Files and warnings

    mutating func fileSection() {
        blank()
        line(style.bold("FILES READ") + " · " + (report.files.isEmpty ? "none" : String(report.files.count)))
        for f in report.files {
            var facts: [String] = []
            if let kind = f.kind { facts.append(kind == .shop ? "shop \(f.shopId ?? "?")" : "company") }
            if let env = f.environment { facts.append(env.rawValue) }
            if let month = f.month { facts.append(month.description) }
            facts.append(plural(f.detailRecords, "detail"))
            if f.compressed { facts.append("gzip") }
            let problems = f.problems.count + (f.unreadable == nil ? 0 : 1)
            let state = f.unreadable != nil && f.problems.isEmpty ? "UNREADABLE" : (f.isClean ? "OK" : "FAIL")
            var text = f.path + " (" + facts.joined(separator: ", ") + ")"
            if problems > 0 { text += ": " + plural(problems, "problem") }
            let tagW = max(4, state.count)
            let tag = state == "OK" ? padded(state, to: tagW) : style.red(padded(state, to: tagW))
            let lines = wrapped(displaySafe(text), width: width - 2 - tagW - 2, firstIndent: "", indent: "  ")
            for (i, l) in lines.enumerated() { line("  " + (i == 0 ? tag : String(repeating: " ", count: tagW)) + "  " + l) }
            if let unreadable = f.unreadable { paragraph(unreadable, indent: "        ", hanging: "          ") }
            for p in f.problems {
                let p = mask ? Masking.problem(p) : p
                var place = ""
                if p.line > 0 { place = "line \(p.line)" + (p.field > 0 ? ", field \(p.field)" : "") + ": " }
                paragraph(place + p.message, indent: "        ", hanging: "          ")
            }
            for w in f.warnings { paragraph("warning: " + w, indent: "        ", hanging: "          ") }
        }
        guard !report.excluded.isEmpty else { return }
        blank()
        line(style.bold("FILES LEFT OUT") + " · \(report.excluded.count)")
        for e in report.excluded { paragraph(e.path + ": " + e.reason, indent: "  ", hanging: "    ") }
    }

    mutating func warningSection() {
        guard !report.warnings.isEmpty else { return }
        blank()
        line(style.bold("WARNINGS") + " · \(report.warnings.count)")
        for w in report.warnings { paragraph("- " + (mask ? Masking.warning(w) : w), indent: "  ", hanging: "    ") }
    }
}

/// Joins a currency code to its amount so that wrapping never separates them; printed as a space.
private let nbsp = "\u{00A0}"

extension String {
    fileprivate func replacingNoBreakSpaces() -> String { String(map { $0 == "\u{00A0}" ? " " : $0 }) }
}
