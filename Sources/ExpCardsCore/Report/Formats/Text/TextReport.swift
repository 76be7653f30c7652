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
        var out: [UInt8] = []
        write(r, color: color, mask: mask) { out += $0 }
        return String(decoding: out, as: UTF8.self)
    }

    /// Streams the report to `output` in pieces of about 1 MiB. The rows (one per alias, two or
    /// more per subscription) are written from the report's compact records, byte by byte when
    /// their text is simple (see `isSimpleText`), through Strings otherwise.
    public static func write(_ r: ExpiryReport, color: Bool, mask: Bool, to output: @escaping (UnsafeRawBufferPointer) -> Void) {
        var w = TextReportWriter(report: r, style: TerminalStyle(enabled: color), mask: mask, out: ByteOutput(sink: output))
        w.write()
        w.out.flush()
    }
}

private struct TextReportWriter {
    let report: ExpiryReport
    let style: TerminalStyle
    let mask: Bool
    let out: ByteOutput
    /// A paragraph's bytes while they are wrapped, reused.
    var scratch: [UInt8] = []
    let width = TextReport.width
    /// Held once: read through `report` at every row, the class reference would be retained each time.
    let store: ReportStore

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
        } else if !store.subscriptionOrder.isEmpty {
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
        var aliasN = 0, nameN = 0, emailN = 0
        var setsUsed = Set<UInt32>()
        // Maxima do not depend on the order: when every alias is reported, read them in storage
        // order (sequential memory) rather than in the report's.
        func measure(_ id: Int) {
            setsUsed.insert(store.aliases[id].shopSet)
            aliasN = max(aliasN, store.withAlias(id) { textWidth($0) })
            nameN = max(nameN, nameWidth(id))
            emailN = max(emailN, emailWidth(id))
        }
        if store.aliasOrder.count == store.aliases.count {
            for id in store.aliases.indices { measure(id) }
        } else {
            for idU in store.aliasOrder { measure(Int(idU)) }
        }
        let shopCount = Set(setsUsed.flatMap { store.shopSets[Int($0)] }).count
        let aliasW = min(max(5, aliasN), 32)
        let shopsW = shopCount < 2 ? 0 : max(5, setsUsed.map { displayWidth(shopsText(store.shopSets[Int($0)])) }.max() ?? 0)
        nameN = max(4, nameN)
        emailN = max(6, emailN)
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
        let rank = UInt8(status.rank)
        let ids = store.aliasOrder.filter { store.aliases[Int($0)].status == rank }
        let scope: String
        switch status {
        case .expired: scope = "expired before \(options.asOf)"
        case .expiring:
            scope = options.thresholdMonths == 0
                ? "expiring on \(options.asOf)" : "expiring from \(options.asOf) to \(report.thresholdEnd)"
        case .later: scope = "expiring after \(report.thresholdEnd)"
        }
        let heading = style.status(status, style.bold(status.rawValue.uppercased()))
        guard !ids.isEmpty else {
            line(heading + " · none " + scope)
            return
        }
        line(heading + " · " + plural(ids.count, "card") + " " + scope)
        let c = columns
        line("    " + padded("Expiry", to: 10) + "  " + padded("Alias", to: c.alias) + "  " + padded("Name", to: c.name)
            + "  " + padded("E-mail", to: c.email) + "  " + rightAligned("Subs", to: AliasColumns.subs)
            + (c.shops == 0 ? "" : "  Shops"))
        let shopsCells = store.shopSets.map { "  " + truncated(displaySafe(shopsText($0)), to: c.shops) }
        var month = -1
        for (position, idU) in ids.enumerated() {
            out.readAhead &+= store.readAhead(aliases: ids, at: position)
            let id = Int(idU)
            let a = store.aliases[id]
            let day = Day(daysSinceEpoch: Int(a.expiry))
            if day.year * 12 + day.month != month {
                month = day.year * 12 + day.month
                line("  " + TextReportWriter.monthNames[day.month - 1] + " \(day.year)")
            }
            out.append(spaces: 4)
            statusDate(status, a.expiry)
            out.append(spaces: 2)
            store.withAlias(id) { appendPadded($0, to: c.alias) }
            out.append(spaces: 2)
            appendName(id, to: c.name)
            out.append(spaces: 2)
            appendEmail(id, to: c.email)
            out.append(spaces: 2)
            appendRightAligned(Int64(a.subscriptions), to: AliasColumns.subs)
            if c.shops != 0 { out.append(shopsCells[Int(a.shopSet)]) }
            out.append(0x0A)
            out.flushIfFull()
        }
    }

    // MARK: Rows, from the records' bytes

    /// A date coloured by status, as `style.status(status, date)`.
    mutating func statusDate(_ status: ExpiryStatus, _ days: Int32) {
        let code = style.enabled ? TextReportWriter.colourCodes[status.rank] : nil
        if let code { out.append(code) }
        out.append(day: days)
        if code != nil { out.append(TerminalStyle.reset) }
    }

    static let colourCodes: [String?] = ["\u{1B}[31m", "\u{1B}[38;5;208m", nil]

    /// Columns of text as `displayWidth(displaySafe(text))`.
    func textWidth(_ bytes: UnsafeRawBufferPointer) -> Int {
        isSimpleText(bytes) ? simpleWidth(bytes) : displayWidth(displaySafe(String(decoding: bytes, as: UTF8.self)))
    }

    func nameWidth(_ id: Int) -> Int {
        mask ? displayWidth(name(store.name(id))) : store.withName(id) { textWidth($0) }
    }

    func emailWidth(_ id: Int) -> Int {
        mask ? displayWidth(email(store.email(id))) : store.withEmail(id) { textWidth($0) }
    }

    mutating func appendName(_ id: Int, to width: Int) {
        if mask { return out.append(padded(name(store.name(id)), to: width)) }
        store.withName(id) { appendPadded($0, to: width) }
    }

    mutating func appendEmail(_ id: Int, to width: Int) {
        if mask { return out.append(padded(email(store.email(id)), to: width)) }
        store.withEmail(id) { appendPadded($0, to: width) }
    }

    /// `padded(displaySafe(text), to: width)`.
    mutating func appendPadded(_ bytes: UnsafeRawBufferPointer, to width: Int) {
        guard isSimpleText(bytes) else {
            return out.append(padded(displaySafe(String(decoding: bytes, as: UTF8.self)), to: width))
        }
        let w = simpleWidth(bytes)
        if w <= width {
            out.append(bytes)
            out.append(spaces: width - w)
            return
        }
        guard width > 0 else { return }
        // The first width - 1 scalars, then "…".
        var scalars = 0, end = 0
        while end < bytes.count {
            if bytes[end] & 0xC0 != 0x80 {
                if scalars == width - 1 { break }
                scalars += 1
            }
            end += 1
        }
        out.append(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
        out.append("…")
    }

    mutating func appendRightAligned(_ v: Int64, to width: Int) {
        var digits = v < 0 ? 2 : 1
        var m = v.magnitude
        while m >= 10 {
            m /= 10
            digits += 1
        }
        out.append(spaces: width - digits)
        out.append(int: v)
    }

    /// `paragraph(text)` for text written at `out.count` from `start`: wrapped from the bytes
    /// when simple, through `wrapped` otherwise. Nothing is flushed while it is written.
    mutating func paragraph(from start: Int, indent: Int, hanging: Int) {
        let simple = out.withBytes(from: start) { isSimpleText($0) }
        guard simple else {
            let text = out.withBytes(from: start) { String(decoding: $0, as: UTF8.self) }
            out.truncate(to: start)
            return paragraph(text, indent: String(repeating: " ", count: indent), hanging: String(repeating: " ", count: hanging))
        }
        var text = scratch
        text.removeAll(keepingCapacity: true)
        out.withBytes(from: start) { text.append(contentsOf: $0) }
        out.truncate(to: start)
        text.withUnsafeBytes { wrapSimple($0, indent: indent, hanging: hanging) }
        scratch = text
        out.flushIfFull()
    }

    /// `wrapped` for simple text (every scalar one column, split only at ASCII spaces), written
    /// out with its no-break spaces as spaces.
    mutating func wrapSimple(_ text: UnsafeRawBufferPointer, indent: Int, hanging: Int) {
        func appendLine(_ bytes: UnsafeRawBufferPointer) {
            // Runs between no-break spaces copied whole; each no-break space written as a space.
            var run = 0, i = 0
            while i < bytes.count {
                if bytes[i] == 0xC2 && i + 1 < bytes.count && bytes[i + 1] == 0xA0 {
                    out.append(UnsafeRawBufferPointer(rebasing: bytes[run..<i]))
                    out.append(0x20)
                    i += 2
                    run = i
                } else {
                    i += 1
                }
            }
            out.append(UnsafeRawBufferPointer(rebasing: bytes[run..<bytes.count]))
        }
        let total = simpleWidth(text)
        var doubleSpace = false
        for i in 0..<max(0, text.count - 1) where text[i] == 0x20 && text[i + 1] == 0x20 {
            doubleSpace = true
            break
        }
        if !doubleSpace, text.first != 0x20, text.last != 0x20, text.count > 0, indent + total <= width {
            out.append(spaces: indent)
            appendLine(text)
            out.append(0x0A)
            return
        }
        var lineStart = out.count
        var emitted = false
        var used = indent
        var lineHasWord = false
        out.append(spaces: indent)
        func newLine() {
            out.append(0x0A)
            emitted = true
            lineStart = out.count
            out.append(spaces: hanging)
            used = hanging
        }
        var i = 0
        while i < text.count {
            if text[i] == 0x20 {
                i += 1
                continue
            }
            var j = i
            while j < text.count && text[j] != 0x20 { j += 1 }
            var word = UnsafeRawBufferPointer(rebasing: text[i..<j])
            i = j
            var ww = simpleWidth(word)
            let prefix = lineHasWord ? 1 : 0
            if used + prefix + ww <= width {
                if lineHasWord { out.append(0x20) }
                appendLine(word)
                used += prefix + ww
                lineHasWord = true
                continue
            }
            if lineHasWord { newLine() }
            // A word longer than a whole line: cut it into pieces.
            while used + ww > width {
                let room = width - used
                guard room > 0 else { break }
                var scalars = 0, end = 0
                while end < word.count {
                    if word[end] & 0xC0 != 0x80 {
                        if scalars == room { break }
                        scalars += 1
                    }
                    end += 1
                }
                appendLine(UnsafeRawBufferPointer(rebasing: word[0..<end]))
                newLine()
                word = UnsafeRawBufferPointer(rebasing: word[end...])
                ww -= scalars
            }
            appendLine(word)
            used += ww
            lineHasWord = !word.isEmpty
        }
        if lineHasWord || !emitted {
            out.append(0x0A)
        } else {
            out.truncate(to: lineStart)
        }
    }

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
        var subN = 0, nameN = 0
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
        line(heading + " · " + (listedCount == 0 ? "none" : plural(listedCount, "subscription"))
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
                if amounts.values.contains(where: { $0 != 0 }) { head += ", " + money(amounts.filter { $0.value != 0 }) }
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
        store.withSubscriptionId(index) { appendPadded($0, to: subW) }
        out.append(spaces: 2)
        appendName(alias, to: nameW)
        out.append(spaces: 2)
        let code = style.enabled ? TextReportWriter.colourCodes[status.rank] : nil
        if let code { out.append(code) }
        out.append(status == .expired ? "card expired " : "card expires ")
        out.append(day: a.expiry)
        if code != nil { out.append(TerminalStyle.reset) }
        out.append(0x0A)

        // The facts, written as one paragraph's text, then wrapped in place.
        let start = out.count
        let dot = " · "
        func money(_ minor: Int64) {
            out.append(currency.code)
            out.append("\u{00A0}")
            out.append(minor: minor, minorDigits: currency.minorDigits)
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
            if isSimpleText(counter) { out.append(counter) } else { out.append(displaySafe(String(decoding: counter, as: UTF8.self))) }
        }
        if reason != nil {
            out.append(dot)
            out.append("rule ")
            out.append(displaySafe(store.rule(Int(s.rule))))
        }
        paragraph(from: start, indent: 16, hanging: 16)
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
