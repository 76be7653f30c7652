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
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(Document(report: r, mask: mask))
        return escapingDisplayControls(String(decoding: data, as: UTF8.self)) + "\n"
    }

    /// Outside strings JSON is ASCII, so these scalars can only be inside strings.
    static func escapingDisplayControls(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { $0.value >= 0x7F && needsEscape($0) }) else { return json }
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            if scalar.value >= 0x7F, needsEscape(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: false)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    private struct Document: Encodable {
        let report: ExpiryReport
        let mask: Bool

        enum Keys: String, CodingKey {
            case version, asOf, thresholdMonths, horizonMonths, month, environment, company, files, summary
            case aliases, subscriptions, excluded, warnings
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            let r = report
            try c.encode(JSONReport.version, forKey: .version)
            try c.encode(r.options.asOf.description, forKey: .asOf)
            try c.encode(r.options.thresholdMonths, forKey: .thresholdMonths)
            try c.encode(r.options.horizonMonths, forKey: .horizonMonths)
            try c.encode(r.month?.description, forKey: .month)
            try c.encode(r.environment?.rawValue, forKey: .environment)
            try c.encode(r.companyLabel, forKey: .company)
            try c.encode(
                r.files.map { file -> FileSummary in
                    var s = FileSummary(file)
                    if mask { s.problems = s.problems.map(Masking.problem) }
                    return s
                }, forKey: .files)
            var summary = c.nestedContainer(keyedBy: StatusKey.self, forKey: .summary)
            for status in ExpiryStatus.allCases {
                try summary.encode(StatusEntry(summary: r.summary[status] ?? .init()), forKey: StatusKey(status))
            }
            try c.encode(r.aliases.map { AliasEntry(alias: $0, mask: mask) }, forKey: .aliases)
            try c.encode(r.subscriptions.map { SubscriptionEntry(sub: $0) }, forKey: .subscriptions)
            try c.encode(r.excluded.map { ["path": $0.path, "reason": $0.reason] }, forKey: .excluded)
            try c.encode(mask ? r.warnings.map(Masking.warning) : r.warnings, forKey: .warnings)
        }
    }

    private struct StatusKey: CodingKey {
        let stringValue: String
        init(_ status: ExpiryStatus) { stringValue = status.rawValue }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    private struct StatusEntry: Encodable {
        let aliases: Int
        let subscriptions: Int
        let amountAtRisk: [String: Int64]
        init(summary: ExpiryReport.StatusSummary) {
            aliases = summary.aliases
            subscriptions = summary.subscriptions
            amountAtRisk = summary.amountAtRisk
        }
    }

    private struct AliasEntry: Encodable {
        let alias: ExpiryReport.Alias
        let mask: Bool

        enum Keys: String, CodingKey {
            case alias, name, email, expiry, status, recurrences, shops, subscriptions, amountAtRisk
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(alias.alias, forKey: .alias)
            try c.encode(mask ? Masking.name(alias.name) : alias.name, forKey: .name)
            try c.encode(mask ? Masking.email(alias.email) : alias.email, forKey: .email)
            try c.encode(alias.expiry.description, forKey: .expiry)
            try c.encode(alias.status.rawValue, forKey: .status)
            try c.encode(alias.recurrences, forKey: .recurrences)
            try c.encode(alias.shops, forKey: .shops)
            try c.encode(alias.subscriptions, forKey: .subscriptions)
            try c.encode(alias.amountAtRisk, forKey: .amountAtRisk)
        }
    }

    /// No name or e-mail here: the alias links to them, so masking has nothing to hide.
    private struct SubscriptionEntry: Encodable {
        let sub: ExpiryReport.Subscription

        enum Keys: String, CodingKey {
            case shopId, alias, subscriptionId, expiry, status, rule, effectDate, recurrenceCounter, amount
            case initialAmount, initialCount, currency, nextCharge, firstChargeAfterExpiry, chargesAtRisk
            case amountAtRisk, scheduleUnknown
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(sub.shopId, forKey: .shopId)
            try c.encode(sub.alias, forKey: .alias)
            try c.encode(sub.subscriptionId, forKey: .subscriptionId)
            try c.encode(sub.expiry.description, forKey: .expiry)
            try c.encode(sub.status.rawValue, forKey: .status)
            try c.encode(sub.rule, forKey: .rule)
            try c.encode(sub.effectDate.description, forKey: .effectDate)
            try c.encode(sub.recurrenceCounter, forKey: .recurrenceCounter)
            try c.encode(sub.amount, forKey: .amount)
            try c.encode(sub.initialAmount, forKey: .initialAmount)
            try c.encode(sub.initialCount, forKey: .initialCount)
            try c.encode(sub.currency.code, forKey: .currency)
            try c.encode(sub.risk.nextCharge?.description, forKey: .nextCharge)
            try c.encode(sub.risk.firstChargeAfterExpiry?.description, forKey: .firstChargeAfterExpiry)
            try c.encode(sub.risk.chargesAtRisk, forKey: .chargesAtRisk)
            try c.encode(sub.risk.amountAtRisk, forKey: .amountAtRisk)
            try c.encode(sub.risk.unknownReason?.description, forKey: .scheduleUnknown)
        }
    }
}
