/// The report for people, made for `| mail`: a one-line verdict a mail preview shows, a title,
/// a summary per status, the aliases by status and month of expiry, the subscriptions at risk per
/// shop, then the files read (with their problems) and the report's warnings.
///
/// At most `width` columns, and nothing a person acts on is cut: a name, e-mail, alias or
/// subscription id too long for its column takes lines of its own (see `TextReport+Aliases`),
/// free text (problems, warnings) is broken at spaces with a hanging indent, so no mail client
/// wraps a line in the middle. Plain
/// text unless `color`. Iterates only sorted arrays, so the same files give the same bytes.
public enum TextReport {
    public static let width = 100

    public static func render(_ r: ExpiryReport, color: Bool, mask: Bool) -> String {
        var out: [UInt8] = []
        write(r, color: color, mask: mask) { out += $0 }
        return String(decoding: out, as: UTF8.self)
    }

    /// Streams the report to `output` in pieces of about 1 MiB. The rows (one per alias, two or
    /// more per subscription) are written from the report's compact records, byte by byte when
    /// their text is simple (see `isSimpleText`), through Strings otherwise.
    public static func write(
        _ r: ExpiryReport, color: Bool, mask: Bool, to output: @escaping (UnsafeRawBufferPointer) -> Void
    ) {
        var w = TextReportWriter(
            report: r, style: TerminalStyle(enabled: color), mask: mask, out: ByteOutput(sink: output))
        w.write()
        w.out.flush()
    }
}

struct TextReportWriter {
    let report: ExpiryReport
    let style: TerminalStyle
    let mask: Bool
    let out: ByteOutput
    /// A paragraph's bytes while they are wrapped, reused.
    var scratch: [UInt8] = []
    let width = TextReport.width
    /// Held once: read through `report` at every row, the class reference would be retained each time.
    let store: ReportStore
    /// The alias table's layout, measured once.
    var aliasColumns: AliasColumns?
    /// A long name's lines after the first, written after the card's first line.
    var pendingLines: [String] = []

    init(report: ExpiryReport, style: TerminalStyle, mask: Bool, out: ByteOutput) {
        self.report = report
        store = report.store
        self.style = style
        self.mask = mask
        self.out = out
    }

    mutating func write() {
        verdict()
        title()
        summary()
        networkSection()
        for status in ExpiryStatus.allCases { aliasSection(status) }
        subscriptionSection()
        fileSection()
        warningSection()
    }

    // MARK: Lines

    /// Every line goes through here: escaped by the caller, never longer than the width unless it
    /// carries colour codes (which take no columns).
    mutating func line(_ text: String = "") {
        out.append(text)
        out.append(0x0A)
        out.flushIfFull()
    }

    mutating func blank() { out.append(0x0A) }

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
            for (code, v) in report.summary[status]?.amountAtRisk ?? [:] { total[code, default: 0].addSaturating(v) }
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
        let problems = report.problemCount
        let warnings = report.warningCount
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
        var figures = "\(count(.expired)) expired, \(count(.expiring)) \(expiringPhrase)"
        let later = count(.later) > 0 ? ", \(count(.later)) later" : ""
        // With the network's notifications, who must be called: what customer care acts on.
        let contact = report.network.map { ", \($0.callCount) to contact" } ?? ""
        var money = ""
        let total = totalAtRisk.filter { $0.value != 0 }
        if !total.isEmpty {
            money = " · " + self.money(total).replacingNoBreakSpaces() + " at risk"
        } else if !store.subscriptionOrder.isEmpty {
            money = " · nothing at risk"
        }
        // One line, whatever it costs: a mail preview shows only that. The least useful parts go
        // first (later cards, then the warning count when there are problems); then it is cut.
        var candidates = [
            head + warningsPart + " · " + figures + later + contact + money,
            head + warningsPart + " · " + figures + contact + money,
            head + " · " + figures + contact + money,
            head + " · \(count(.expired)) expired, \(count(.expiring)) expiring" + contact + money,
            head + " · \(count(.expired)) expired, \(count(.expiring)) expiring" + contact,
        ]
        figures += contact
        candidates =
            candidates.filter { displayWidth(word + $0) <= width } + [
                truncated(head + " · " + figures + money, to: width - word.count)
            ]
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
            let atRisk =
                sum.amountAtRisk.values.contains { $0 != 0 } ? money(sum.amountAtRisk.filter { $0.value != 0 }) : "-"
            return (String(sum.aliases), String(sum.subscriptions), atRisk)
        }
        let labelW = max(labels.map(displayWidth).max()!, 8)
        let aW = max("Cards".count, rows.map { $0.0.count }.max()!)
        let sW = max("Subscriptions".count, rows.map { $0.1.count }.max()!)
        // With the network's notifications, each status's aliases to call and those renewed.
        let network = report.network
        let actionCells = ExpiryStatus.allCases.map { s in
            network.map { (String($0.count(s, .contact)), String($0.count(s, .renewed))) } ?? ("", "")
        }
        let cW = network == nil ? 0 : max("Contact".count, actionCells.map { $0.0.count }.max()!)
        let rW = network == nil ? 0 : max("Renewed".count, actionCells.map { $0.1.count }.max()!)
        func actions(_ contact: String, _ renewed: String) -> String {
            network == nil ? "" : rightAligned(contact, to: cW) + "  " + rightAligned(renewed, to: rW) + "  "
        }
        line(
            "  " + padded("", to: labelW) + "  " + rightAligned("Cards", to: aW) + "  "
                + rightAligned("Subscriptions", to: sW) + "  " + actions("Contact", "Renewed") + "At risk")
        let used = 2 + labelW + 2 + aW + 2 + sW + 2 + (network == nil ? 0 : cW + 2 + rW + 2)
        for (i, s) in ExpiryStatus.allCases.enumerated() {
            let (a, subs, risk) = rows[i]
            let text =
                "  " + style.status(s, padded(labels[i], to: labelW)) + "  " + rightAligned(a, to: aW) + "  "
                + rightAligned(subs, to: sW) + "  " + actions(actionCells[i].0, actionCells[i].1)
            line(text + truncated(risk.replacingNoBreakSpaces(), to: width - used))
        }
        paragraph(
            "At risk: the charges due after the card's expiry, from \(options.asOf) to \(report.horizonEnd).",
            indent: "  ", hanging: "  ")
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
            for (i, l) in lines.enumerated() {
                line("  " + (i == 0 ? tag : String(repeating: " ", count: tagW)) + "  " + l)
            }
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
        for w in report.warnings { paragraph("- " + w.text(masked: mask), indent: "  ", hanging: "    ") }
    }
}

/// Joins a currency code to its amount so that wrapping never separates them; printed as a space.
let nbsp = "\u{00A0}"

extension String {
    func replacingNoBreakSpaces() -> String { String(map { $0 == "\u{00A0}" ? " " : $0 }) }
}
