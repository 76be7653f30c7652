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
        write(r, mask: mask) { out.append(contentsOf: $0) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Streams the report as JSON to `output` in pieces of about 1 MiB: keys sorted, one alias or
    /// subscription per line (easy to grep, cheap to write), every key always present.
    public static func write(_ r: ExpiryReport, mask: Bool, to output: @escaping ([UInt8]) -> Void) {
        var w = JSONWriter(flush: output)
        w.raw("{\n")
        w.raw("  "); w.key("aliases"); w.raw("[")
        for (i, a) in r.aliases.enumerated() {
            w.raw(i == 0 ? "\n    {" : ",\n    {")
            w.key("alias"); w.string(a.alias); w.raw(", ")
            w.key("amountAtRisk"); w.amounts(a.amountAtRisk); w.raw(", ")
            w.key("email"); w.string(mask ? Masking.email(a.email) : a.email); w.raw(", ")
            w.key("expiry"); w.day(a.expiry); w.raw(", ")
            w.key("name"); w.string(mask ? Masking.name(a.name) : a.name); w.raw(", ")
            w.key("recurrences"); w.int(a.recurrences); w.raw(", ")
            w.key("shops"); w.strings(a.shops); w.raw(", ")
            w.key("status"); w.string(a.status.rawValue); w.raw(", ")
            w.key("subscriptions"); w.int(a.subscriptions)
            w.raw("}")
        }
        w.raw(r.aliases.isEmpty ? "],\n" : "\n  ],\n")
        w.raw("  "); w.key("asOf"); w.day(r.options.asOf); w.raw(",\n")
        w.raw("  "); w.key("company"); w.string(r.companyLabel); w.raw(",\n")
        w.raw("  "); w.key("environment"); w.string(r.environment?.rawValue); w.raw(",\n")
        w.raw("  "); w.key("excluded"); w.raw("[")
        for (i, e) in r.excluded.enumerated() {
            w.raw(i == 0 ? "\n    {" : ",\n    {")
            w.key("path"); w.string(e.path); w.raw(", ")
            w.key("reason"); w.string(e.reason)
            w.raw("}")
        }
        w.raw(r.excluded.isEmpty ? "],\n" : "\n  ],\n")
        w.raw("  "); w.key("files"); w.raw("[")
        for (i, file) in r.files.enumerated() {
            var f = FileSummary(file)
            if mask { f.problems = f.problems.map(Masking.problem) }
            w.raw(i == 0 ? "\n    {" : ",\n    {")
            w.key("details"); w.int(f.details); w.raw(", ")
            w.key("environment"); w.string(f.environment?.rawValue); w.raw(", ")
            w.key("kind"); w.string(f.kind?.rawValue); w.raw(", ")
            w.key("month"); w.string(f.month?.description); w.raw(", ")
            w.key("path"); w.string(f.path); w.raw(", ")
            w.key("problems"); w.raw("[")
            for (j, p) in f.problems.enumerated() {
                if j > 0 { w.raw(", ") }
                w.raw("{"); w.key("field"); w.int(p.field); w.raw(", ")
                w.key("line"); w.int(p.line); w.raw(", ")
                w.key("message"); w.string(p.message); w.raw("}")
            }
            w.raw("], ")
            w.key("shopId"); w.string(f.shopId); w.raw(", ")
            w.key("warnings"); w.strings(f.warnings)
            w.raw("}")
        }
        w.raw(r.files.isEmpty ? "],\n" : "\n  ],\n")
        w.raw("  "); w.key("horizonMonths"); w.int(r.options.horizonMonths); w.raw(",\n")
        w.raw("  "); w.key("month"); w.string(r.month?.description); w.raw(",\n")
        w.raw("  "); w.key("subscriptions"); w.raw("[")
        for (i, s) in r.subscriptions.enumerated() {
            w.raw(i == 0 ? "\n    {" : ",\n    {")
            w.key("alias"); w.string(s.alias); w.raw(", ")
            w.key("amount"); w.int(s.amount); w.raw(", ")
            w.key("amountAtRisk"); w.int(s.risk.amountAtRisk); w.raw(", ")
            w.key("chargesAtRisk"); w.int(s.risk.chargesAtRisk); w.raw(", ")
            w.key("currency"); w.string(s.currency.code); w.raw(", ")
            w.key("effectDate"); w.day(s.effectDate); w.raw(", ")
            w.key("expiry"); w.day(s.expiry); w.raw(", ")
            w.key("firstChargeAfterExpiry"); w.day(s.risk.firstChargeAfterExpiry); w.raw(", ")
            w.key("initialAmount"); w.int(s.initialAmount); w.raw(", ")
            w.key("initialCount"); w.int(s.initialCount); w.raw(", ")
            w.key("nextCharge"); w.day(s.risk.nextCharge); w.raw(", ")
            w.key("recurrenceCounter"); w.string(s.recurrenceCounter); w.raw(", ")
            w.key("rule"); w.string(s.rule); w.raw(", ")
            w.key("scheduleUnknown"); w.string(s.risk.unknownReason?.description); w.raw(", ")
            w.key("shopId"); w.string(s.shopId); w.raw(", ")
            w.key("status"); w.string(s.status.rawValue); w.raw(", ")
            w.key("subscriptionId"); w.string(s.subscriptionId)
            w.raw("}")
        }
        w.raw(r.subscriptions.isEmpty ? "],\n" : "\n  ],\n")
        w.raw("  "); w.key("summary"); w.raw("{")
        for (i, status) in ExpiryStatus.allCases.enumerated() {
            let s = r.summary[status] ?? .init()
            w.raw(i == 0 ? "\n    " : ",\n    ")
            w.string(status.rawValue); w.raw(": {")
            w.key("aliases"); w.int(s.aliases); w.raw(", ")
            w.key("amountAtRisk"); w.amounts(s.amountAtRisk); w.raw(", ")
            w.key("subscriptions"); w.int(s.subscriptions)
            w.raw("}")
        }
        w.raw("\n  },\n")
        w.raw("  "); w.key("thresholdMonths"); w.int(r.options.thresholdMonths); w.raw(",\n")
        w.raw("  "); w.key("version"); w.int(version); w.raw(",\n")
        w.raw("  "); w.key("warnings"); w.raw("[")
        for (i, text) in (mask ? r.warnings.map(Masking.warning) : r.warnings).enumerated() {
            w.raw(i == 0 ? "\n    " : ",\n    ")
            w.string(text)
        }
        w.raw(r.warnings.isEmpty ? "]\n" : "\n  ]\n")
        w.raw("}\n")
        w.finish()
    }
}
