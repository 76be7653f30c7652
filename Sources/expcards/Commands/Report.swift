import ArgumentParser
import ExpCardsCore
import Foundation
import Logging

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report aliases whose card is expired or expiring, with the subscriptions and money at risk.",
        discussion: """
            Reads the given files, or the archive that 'fetch' fills, and reports one month of one \
            environment: the newest month, production when there is any. Aliases are grouped by \
            status against the alert threshold: expired (red), expiring within the threshold \
            (orange), later.

            Exit status: 0 clean; 65 when a file had problems (the report is still printed, the \
            problems listed at its end); 66 when there is no EXP_CARDS file to report on; 64 bad \
            usage; 78 configuration error.

            Examples:
              expcards report
              expcards report --shop 12345678 --month 2026-11
              expcards report --format csv --csv-dialect excel-fr > expiring.csv
              expcards report --format json | jq '.summary'
            """
    )

    @OptionGroup var report: ReportOptions
    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var logging: LoggingOptions

    @Argument(help: "EXP_CARDS files; default: the archive's.")
    var files: [String] = []

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        do {
            let settings = try await Settings.load(
                archive: archive.archive, config: archive.config, connection: nil, environment: env)
            let code = ReportRunner(options: report, settings: settings, logger: logging.makeLogger()).run(
                files: files, headline: nil)
            if code != .success { throw code }
        } catch {
            throw Failure.reported(error)
        }
    }
}

/// Builds and prints a report: shared by `report` and `run`.
struct ReportRunner {
    var options: ReportOptions
    var settings: Settings
    var logger: Logging.Logger

    /// `headline`: a first line put before the report (e.g. that the fetch failed).
    func run(files: [String], headline: String?, month: YearMonth? = nil) -> ExitCode {
        let env = ProcessInfo.processInfo.environment
        var paths = files
        var open: FileSource.Opener = FileSource.openPath
        var size: ((String) -> Int)?
        if files.isEmpty {
            // From the archive: paths relative to it read better in the report (ROOT/expired/…),
            // and the archive's opener reads them from its root.
            let root = settings.archive.value
            do {
                if let archive = try ArchiveDirectory.openRoot(root, create: false) {
                    paths = try ArchiveContents.reportableFiles(in: archive).map {
                        String($0.dropFirst(root.count + 1))
                    }
                    open = ArchiveContents.opener(archive)
                    size = { ReportBuilder.fileSize(atPath: archive.pathOf($0)) }
                }
            } catch {
                return Failure.reported(error)
            }
        }
        let asOf = options.asOf.flatMap { Day(iso: $0) } ?? Day.todayUTC()
        let selection = ReportSelection(
            paths: paths, asOf: asOf, mode: options.mode?.environment ?? settings.mode.value,
            month: options.month.flatMap { YearMonth($0) } ?? month, shops: Set(options.shops))
        for warning in selection.warnings { logger.warning("\(warning)") }
        if selection.selected.isEmpty {
            if let headline { Output.stdout(headline + "\n") }
            let searched = files.isEmpty ? "in the archive \(settings.archive.value)" : "among the files given"
            var why = "no EXP_CARDS file to report on \(searched)"
            if let month = selection.month, let env = selection.environment { why += " for \(env.rawValue) \(month)" }
            logger.error("\(why)")
            for e in selection.excluded { logger.info("left out \(e.path): \(e.reason)") }
            return .noInput
        }
        var o = ExpiryReport.Options(asOf: asOf)
        o.thresholdMonths = options.threshold ?? settings.threshold.value
        o.horizonMonths = options.horizon
        o.currency = options.currency.flatMap { Currency(code: $0) } ?? settings.currency.value
        o.shopCurrencies = settings.shopCurrencies.value
        var mail: MailReport.Options?
        if options.format == .mail {
            let to = options.mailTo.isEmpty ? settings.mailTo.value : options.mailTo.compactMap { MailAddress($0) }
            guard !to.isEmpty else {
                logger.error(
                    "--format mail needs a recipient: --mail-to, EXPCARDS_MAIL_TO or mailTo in the configuration file")
                return .usage
            }
            let host = Settings.hostName
            let from =
                options.mailFrom.flatMap { MailAddress($0) } ?? settings.mailFrom.value ?? MailAddress(
                    "expcards@\(host)")
                ?? MailAddress("expcards@localhost")!
            var m = MailReport.Options(from: from, to: to, date: Int64(Date().timeIntervalSince1970), host: host)
            m.subject = options.subject ?? settings.subject.value
            m.csvDialect = options.csvDialect == .excelFR ? .excelFR : .rfc4180
            m.mask = options.mask
            m.headline = headline
            mail = m
        }
        var report = ReportBuilder.build(
            selection: selection, options: o, onlyShopAliases: !options.shops.isEmpty, open: open, size: size)
        if !options.noITN, let network = reconcile(report) {
            report.network = network
            if let silence = network.silenceWarning(asOf: report.options.asOf) {
                report.warnings.append(.other(silence))
                logger.warning("\(silence)")
            }
        }
        if var m = mail {
            m.rebuildCommand = rebuildCommand(report, archive: files.isEmpty)
            mail = m
        }
        if let headline, options.format != .text { logger.error("\(headline)") }
        // Streamed in pieces of about 1 MiB: a million subscriptions never sit in memory as one string.
        switch options.format {
        case .text:
            if let headline { Output.stdout(headline + "\n") }
            TextReport.write(report, color: options.color.enabled(environment: env), mask: options.mask) {
                Output.stdout(bytes: $0)
            }
        case .csv:
            CSVReport.write(report, dialect: options.csvDialect == .excelFR ? .excelFR : .rfc4180, mask: options.mask) {
                Output.stdout(bytes: $0)
            }
        case .json:
            JSONReport.write(report, mask: options.mask) { Output.stdout(bytes: $0) }
        case .mail:
            MailReport.write(report, mail!) { Output.stdout(bytes: $0) }
        }
        for file in report.files where !file.isClean {
            logger.warning(
                "\(file.path): \(file.unreadable ?? "\(file.problems.count) problem\(file.problems.count == 1 ? "" : "s")")"
            )
        }
        return report.filesWithProblems > 0 ? .dataError : .success
    }

    /// The command that writes this report's CSV again, for a mail whose attachment is too large.
    /// The report seen through the archive's ITN store, when it has one; a store that cannot be
    /// read is said on stderr and the files are reported alone.
    func reconcile(_ report: ExpiryReport) -> NetworkReconciliation? {
        let environment = report.environment ?? .production
        do {
            guard let store = try NotificationStore.open(archiveRoot: settings.archive.value, create: false) else {
                return nil
            }
            // Up to the end of the report's day: a report as of a past day sees that day's state.
            let end = Timestamp(milliseconds: Int64(report.options.asOf.daysSinceEpoch + 1) * 86_400_000)
            let (latest, problems, lastReceived) = try store.latest(for: environment, until: end)
            for p in problems.prefix(10) { logger.warning("\(p)") }
            return NetworkReconciliation(
                report: report, latest: latest, source: store.path, problems: problems, lastReceived: lastReceived,
                shopsOnly: !options.shops.isEmpty)
        } catch {
            logger.error("the network's notifications are left out of this report: \(error)")
            return nil
        }
    }

    func rebuildCommand(_ report: ExpiryReport, archive: Bool) -> String {
        var words = ["expcards", "report", "--format", "csv"]
        if options.csvDialect == .excelFR { words += ["--csv-dialect", "excel-fr"] }
        if let env = report.environment { words += ["--mode", env.rawValue] }
        if let month = report.month { words += ["--month", month.description] }
        for shop in options.shops.sorted() { words += ["--shop", shop] }
        if let asOf = options.asOf { words += ["--as-of", asOf] }
        if let threshold = options.threshold { words += ["--threshold", String(threshold)] }
        if options.horizon != 12 { words += ["--horizon", String(options.horizon)] }
        if let currency = options.currency { words += ["--currency", currency] }
        if options.mask { words.append("--mask") }
        if archive { words += ["--archive", settings.archive.value] }
        return words.joined(separator: " ") + (archive ? "" : " FILES...")
    }
}
