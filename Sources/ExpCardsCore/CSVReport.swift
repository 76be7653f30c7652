/// The report as CSV for a mail merge or a spreadsheet: a header row, then one row per
/// subscription, and one row with empty subscription columns per alias that has none. Rows follow
/// the aliases' order (status, expiry, alias), each alias's subscriptions in the report's order.
///
/// RFC 4180 (comma, CRLF, fields quoted only when they hold the separator or a quote, quotes
/// doubled), or `excelFR` for a French spreadsheet: `;`, a decimal comma in amounts and a UTF-8
/// BOM so accents open right. Buyers' control characters are escaped (`\x01`), and a text cell
/// that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a leading `'`.
public enum CSVReport {
    public enum Dialect: Sendable { case rfc4180, excelFR }

    /// Column names, the same as the JSON report's keys.
    public static let columns = [
        "status", "expiry", "alias", "name", "email", "recurrences", "shops", "shopId", "subscriptionId",
        "recurrenceCounter", "rule", "effectDate", "currency", "amount", "initialAmount", "initialCount",
        "nextCharge", "firstChargeAfterExpiry", "chargesAtRisk", "amountAtRisk", "scheduleUnknown",
    ]

    public static func render(_ r: ExpiryReport, dialect: Dialect, mask: Bool) -> String {
        let separator: Character = dialect == .excelFR ? ";" : ","
        var out = dialect == .excelFR ? "\u{FEFF}" : ""
        func row(_ cells: [String]) {
            out += cells.map { quoted($0, separator: separator) }.joined(separator: String(separator)) + "\r\n"
        }
        func amount(_ minor: Int64?, _ currency: Currency) -> String {
            guard let minor else { return "" }
            let text = currency.format(minor)
            return dialect == .excelFR ? text.replacingDot() : text
        }
        row(columns)
        var byAlias: [String: [ExpiryReport.Subscription]] = [:]
        for s in r.subscriptions { byAlias[s.alias, default: []].append(s) }
        for a in r.aliases {
            let aliasCells = [
                a.status.rawValue, a.expiry.description, text(a.alias), text(mask ? Masking.name(a.name) : a.name),
                text(mask ? Masking.email(a.email) : a.email), a.recurrences.map(String.init) ?? "",
                text(a.shops.joined(separator: " ")),
            ]
            let subs = byAlias[a.alias] ?? []
            if subs.isEmpty {
                row(aliasCells + Array(repeating: "", count: columns.count - aliasCells.count))
            }
            for s in subs {
                row(
                    aliasCells + [
                        text(s.shopId), text(s.subscriptionId), text(s.recurrenceCounter), text(s.rule),
                        s.effectDate.description, s.currency.code, amount(s.amount, s.currency),
                        amount(s.initialAmount, s.currency), String(s.initialCount),
                        s.risk.nextCharge?.description ?? "", s.risk.firstChargeAfterExpiry?.description ?? "",
                        s.risk.chargesAtRisk.map(String.init) ?? "", amount(s.risk.amountAtRisk, s.currency),
                        s.risk.unknownReason.map { text($0.description) } ?? "",
                    ])
            }
        }
        return out
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

    static func quoted(_ cell: String, separator: Character) -> String {
        guard cell.contains(where: { $0 == separator || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else { return cell }
        return "\"" + cell.replacingQuotes() + "\""
    }
}

extension String {
    fileprivate func replacingDot() -> String { String(map { $0 == "." ? "," : $0 }) }

    fileprivate func replacingQuotes() -> String {
        var out = ""
        for c in self {
            if c == "\"" { out += "\"\"" } else { out.append(c) }
        }
        return out
    }
}
