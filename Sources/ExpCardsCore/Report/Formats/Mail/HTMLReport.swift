/// The report as one self-contained HTML document for mail clients (Outlook, Gmail, Thunderbird):
/// tables and inline styles only, no stylesheet, image, font or script, nothing fetched. The
/// verdict, the summary, the cards by status (expired red, expiring orange, later), the
/// subscriptions at risk per shop, then problems, files read and warnings. Every text from a
/// file is made display-safe and HTML-escaped; at most `maxRows` cards and `maxRows`
/// subscriptions are listed, the rest counted in a note.
enum HTMLReport {
    static func render(
        _ r: ExpiryReport, headline: String?, verdict: String, title: String, mask: Bool, maxRows: Int,
        leftOutNote: String
    ) -> String {
        var w = HTMLWriter(report: r, mask: mask, maxRows: maxRows, leftOutNote: leftOutNote)
        w.document(headline: headline, verdict: verdict, title: title)
        return w.out
    }
}

/// Escapes `&<>"'`: safe in text and in quoted attributes.
func htmlEscaped(_ text: String) -> String {
    guard text.utf8.contains(where: { "&<>\"'".utf8.contains($0) }) else { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count + 16)
    for c in text.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

struct HTMLWriter {
    let report: ExpiryReport
    let mask: Bool
    let maxRows: Int
    let leftOutNote: String
    var out = ""

    static let font = "font-family:Arial,Helvetica,sans-serif;"
    /// Padding comes from the table's cellpadding and alignment from the row: a cell carries
    /// only what differs, so 5,000 rows stay a few megabytes.
    static let rowStyle = "border-bottom:1px solid #dddddd;"
    static let head = "border-bottom:2px solid #999999;text-align:left;font-weight:bold;"
    static let colours: [ExpiryStatus: (text: String, background: String)] = [
        .expired: ("#b71c1c", "#fdecea"), .expiring: ("#b34700", "#fff3e0"), .later: ("#37474f", "#f3f5f6"),
    ]

    init(report: ExpiryReport, mask: Bool, maxRows: Int, leftOutNote: String) {
        self.report = report
        self.mask = mask
        self.maxRows = maxRows
        self.leftOutNote = leftOutNote
    }

    /// Text from a file or a person: display-safe, then escaped.
    func text(_ s: String) -> String { htmlEscaped(displaySafe(s)) }
    func name(_ s: String) -> String { text(mask ? Masking.name(s) : s) }

    /// A `mailto:` link when the e-mail looks like one address; escaped text otherwise.
    func email(_ s: String) -> String {
        let shown = mask ? Masking.email(s) : s
        guard !mask, MailAddress(s) != nil, !s.contains("<") else { return text(shown) }
        var href = "mailto:"
        for b in s.utf8 {
            let unreserved = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            if unreserved || "@.-_+~!$*".utf8.contains(b) {
                href.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                href += "%" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
            }
        }
        return "<a href=\"\(htmlEscaped(href))\" style=\"color:#0b57d0;\">\(text(shown))</a>"
    }

    func money(_ amounts: [String: Int64]) -> String {
        let parts = amounts.filter { $0.value != 0 }.keys.sorted().map { code in
            code + "&nbsp;" + (Currency(code: code)?.format(amounts[code]!) ?? String(amounts[code]!))
        }
        return parts.isEmpty ? "-" : parts.joined(separator: " + ")
    }

    func money(_ minor: Int64, _ c: Currency) -> String { c.code + "&nbsp;" + c.format(minor) }

    func plural(_ n: Int, _ one: String) -> String { "\(n) " + (n == 1 ? one : one + "s") }

    mutating func put(_ s: String) {
        out += s
        out += "\n"
    }

    mutating func document(headline: String?, verdict: String, title: String) {
        put("<!DOCTYPE html>")
        put("<html lang=\"en\"><head><meta charset=\"utf-8\">")
        put("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        put("<title>\(text(title))</title></head>")
        put("<body style=\"margin:0;padding:16px;background:#ffffff;color:#222222;\(Self.font)font-size:14px;\">")
        if let headline {
            let style = "margin:0 0 8px 0;padding:8px;background:#fdecea;color:#b71c1c;font-weight:bold;"
            put("<p style=\"\(style)\">\(text(headline))</p>")
        }
        let word = verdict.prefix { $0.isLetter }
        let colour = word == "PROBLEMS" ? "#b71c1c" : word == "WARNING" ? "#b34700" : "#1b5e20"
        put("<p style=\"margin:0 0 4px 0;font-size:18px;font-weight:bold;color:\(colour);\">\(text(verdict))</p>")
        put("<p style=\"margin:0 0 16px 0;color:#555555;\">\(text(title))</p>")
        summary()
        network()
        var budget = maxRows
        for status in ExpiryStatus.allCases { cards(status, budget: &budget) }
        subscriptions()
        files()
        put("</body></html>")
    }

    mutating func table() {
        put(
            "<table role=\"presentation\" cellspacing=\"0\" cellpadding=\"5\" border=\"0\" "
                + "style=\"border-collapse:collapse;\(Self.font)font-size:14px;margin:0 0 8px 0;\">")
    }

    /// A header row; a label ending in `>` is right-aligned (the `>` dropped).
    mutating func headerRow(_ labels: [String]) {
        let cells = labels.map { label in
            label.hasSuffix(">")
                ? "<th style=\"\(Self.head)text-align:right;\">\(label.dropLast())</th>"
                : "<th style=\"\(Self.head)\">\(label)</th>"
        }
        put("<tr>" + cells.joined() + "</tr>")
    }

    /// A row of cells, each its extra style and its HTML.
    mutating func row(_ cells: [(style: String, html: String)], background: String? = nil) {
        let open =
            "<tr valign=\"top\" style=\"\(Self.rowStyle)" + (background.map { "background:\($0);" } ?? "") + "\">"
        put(
            open
                + cells.map { $0.style.isEmpty ? "<td>\($0.html)</td>" : "<td style=\"\($0.style)\">\($0.html)</td>" }
                .joined() + "</tr>")
    }

    mutating func heading(_ html: String, colour: String = "#222222") {
        put("<h2 style=\"margin:24px 0 8px 0;font-size:16px;color:\(colour);\(Self.font)\">\(html)</h2>")
    }

    mutating func note(_ html: String) { put("<p style=\"margin:4px 0 8px 0;color:#555555;\">\(html)</p>") }

    mutating func summary() {
        table()
        let network = report.network
        headerRow(
            ["", "Cards>", "Subscriptions>"] + (network == nil ? [] : ["To contact>", "Renewed>"]) + ["At risk"]
                + (network == nil ? [] : ["Removed by renewals"]))
        for status in ExpiryStatus.allCases {
            let s = report.summary[status] ?? .init()
            let c = Self.colours[status]!
            var cells = [
                ("color:\(c.text);font-weight:bold;", status.rawValue.capitalized),
                ("text-align:right;", "\(s.aliases)"),
                ("text-align:right;", "\(s.subscriptions)"),
            ]
            if let network {
                cells.append(("text-align:right;font-weight:bold;", "\(network.count(status, .contact))"))
                cells.append(("text-align:right;", "\(network.count(status, .renewed))"))
            }
            cells.append(("", money(s.amountAtRisk)))
            if let network { cells.append(("", money(network.amountRemoved[status] ?? [:]))) }
            row(cells)
        }
        put("</table>")
        note("At risk: the charges due after the card's expiry, from \(report.options.asOf) to \(report.horizonEnd).")
    }

    mutating func cards(_ status: ExpiryStatus, budget: inout Int) {
        let c = Self.colours[status]!
        // The aliases are sorted by status: this status's are one run, found from the counts
        // (only the rows shown are built, however many cards the report holds).
        let statuses = ExpiryStatus.allCases
        let before = statuses.prefix { $0 != status }.reduce(0) { $0 + (report.summary[$1]?.aliases ?? 0) }
        let count = report.summary[status]?.aliases ?? 0
        let all = report.aliases[before..<min(report.aliases.count, before + count)]
        let scope: String
        switch status {
        case .expired: scope = "expired before \(report.options.asOf)"
        case .expiring:
            scope =
                report.options.thresholdMonths == 0
                ? "expiring on \(report.options.asOf)"
                : "expiring from \(report.options.asOf) to \(report.thresholdEnd)"
        case .later: scope = "expiring after \(report.thresholdEnd)"
        }
        heading(
            "\(status.rawValue.uppercased()) · \(all.isEmpty ? "none" : plural(all.count, "card")) \(scope)",
            colour: c.text)
        guard !all.isEmpty else { return }
        let shown = all.prefix(max(0, budget))
        budget -= shown.count
        if !shown.isEmpty {
            table()
            let withNetwork = report.network != nil
            headerRow(["Expiry", "Name", "E-mail", "Subs>", "Shops"] + (withNetwork ? ["Network"] : []) + ["Alias"])
            for (k, a) in zip(shown.indices, shown) {
                let shops = a.shops.isEmpty ? "-" : a.shops.map(text).joined(separator: ", ")
                var cells = [
                    ("color:\(c.text);font-weight:bold;white-space:nowrap;", "\(a.expiry)"), ("", name(a.name)),
                    ("white-space:nowrap;", email(a.email)),
                    ("text-align:right;", "\(a.subscriptions)"), ("", shops),
                ]
                if withNetwork { cells.append(("", networkWord(alias: Int(report.store.aliasOrder[k])) ?? "")) }
                cells.append(("font-family:monospace;font-size:12px;color:#555555;", text(a.alias)))
                row(cells, background: c.background)
            }
            put("</table>")
        }
        if shown.count < all.count {
            note("<b>\(all.count - shown.count) more \(status.rawValue) cards not shown here</b>: \(leftOutNote)")
        }
    }
}
