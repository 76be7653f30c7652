import ArgumentParser
import ExpCardsCore

/// What a report covers and how it is written: shared by `report` and `run`.
struct ReportOptions: ParsableArguments {
    @Option(
        name: .customLong("as-of"),
        help: ArgumentHelp("The reference date.", discussion: "Default: today in UTC.", valueName: "YYYY-MM-DD"))
    var asOf: String?

    @Option(
        help: ArgumentHelp("The alert threshold in months (0 to 24; default 2, the platform's).", valueName: "months"))
    var threshold: Int?

    @Option(
        help: ArgumentHelp(
            "Count charges at risk up to this many months after the reference date.", valueName: "months"))
    var horizon: Int = 12

    @Option(
        help: ArgumentHelp(
            "The environment: production or test.",
            discussion:
                "Default: production when any production file is present, else test. With 'run', also the only environment fetched.",
            valueName: "mode"))
    var mode: ModeArgument?

    @Option(
        help: ArgumentHelp(
            "The files' month.", discussion: "Default: the newest month of the environment.", valueName: "YYYY-MM"))
    var month: String?

    @Option(name: .customLong("shop"), help: ArgumentHelp("Only this shop (8 digits); repeatable.", valueName: "id"))
    var shops: [String] = []

    @Option(help: ArgumentHelp("The currency of the amounts (ISO 4217; default EUR).", valueName: "code"))
    var currency: String?

    @Option(
        help: ArgumentHelp(
            "Output format: text, csv, json or mail.",
            discussion:
                "mail: one RFC 5322 message for 'sendmail -t -oi': the text report and an HTML rendering as alternatives, the CSV attached."
        ))
    var format: ReportFormat = .text

    @Option(
        name: .customLong("csv-dialect"), help: "CSV dialect: rfc4180 (comma) or excel-fr (semicolon and a UTF-8 BOM).")
    var csvDialect: CSVDialectArgument = .rfc4180

    @Option(help: "Colour: auto (only on a terminal), always or never.")
    var color: ColorMode = .auto

    @Flag(help: "Reduce names to initials and e-mails to their first letter and domain.")
    var mask = false

    @Flag(
        name: .customLong("no-itn"),
        help: "Ignore the network's notifications (the archive's ITN store): report the files alone.")
    var noITN = false

    @Option(
        name: .customLong("mail-from"),
        help: ArgumentHelp(
            "With --format mail: the From address.", discussion: "Default: expcards@ the host name.",
            valueName: "address"))
    var mailFrom: String?

    @Option(
        name: .customLong("mail-to"),
        help: ArgumentHelp(
            "With --format mail: a recipient; repeatable, at least one (or the mailTo setting).", valueName: "address"))
    var mailTo: [String] = []

    @Option(
        help: ArgumentHelp(
            "With --format mail: the Subject.",
            discussion:
                "Default: the verdict, the counts and the month, e.g. '[expcards] WARNING 12 expired, 24 expiring · ACME 2026-11'.",
            valueName: "text"))
    var subject: String?

    func validate() throws {
        if let asOf, Day(iso: asOf) == nil {
            throw ValidationError("--as-of wants a real date YYYY-MM-DD, not '\(asOf)'.")
        }
        if let threshold, !Limits.threshold.contains(threshold) {
            throw ValidationError("--threshold wants 0 to 24 months, not \(threshold).")
        }
        if !(0...120).contains(horizon) { throw ValidationError("--horizon wants 0 to 120 months, not \(horizon).") }
        if let month, YearMonth(month) == nil { throw ValidationError("--month wants YYYY-MM, not '\(month)'.") }
        for shop in shops where !(shop.utf8.count == 8 && shop.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }) {
            throw ValidationError("--shop wants an 8-digit shop id, not '\(shop)'.")
        }
        if let mailFrom, MailAddress(mailFrom) == nil {
            throw ValidationError("--mail-from wants an e-mail address, not '\(mailFrom)'.")
        }
        for to in mailTo where MailAddress(to) == nil {
            throw ValidationError("--mail-to wants an e-mail address, not '\(to)'.")
        }
        if let currency, Currency(code: currency) == nil {
            throw ValidationError("--currency wants an ISO 4217 code such as EUR, not '\(currency)'.")
        }
    }
}

enum ModeArgument: String, ExpressibleByArgument, CaseIterable {
    case production, test
    var environment: Environment { self == .production ? .production : .test }
}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable { case text, csv, json, mail }

enum CSVDialectArgument: String, ExpressibleByArgument, CaseIterable {
    case rfc4180
    case excelFR = "excel-fr"
}

enum ColorMode: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never

    /// auto: stdout is a terminal, TERM is not dumb and NO_COLOR is unset.
    func enabled(environment: [String: String]) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto:
            return Output.stdoutIsTerminal && environment["TERM"] != "dumb" && (environment["NO_COLOR"] ?? "").isEmpty
        }
    }
}
