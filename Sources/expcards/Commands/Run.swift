import ArgumentParser
import ExpCardsCore
import Foundation

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch, then report the newest month: the monthly job for cron.",
        discussion: """
            The report goes to stdout even when the fetch fails (from what the archive holds), its \
            first line then saying so, and the exit status says the fetch failed. With --if-new, \
            prints nothing and exits 0 when no file of a new month was fetched, so a daily schedule \
            catches up after an outage and mails once a month.

            Exit status: as 'fetch' when the fetch failed (69, 74, 75, 76, 77, 78), else as \
            'report' (0, 65, 66); 75 also with --require-current when this month's company file \
            is not published yet.

            Examples (crontab lines for a host whose cron runs in UTC):
              30 4 1 * * expcards run | mail -s "Expiring cards" ops@example.com
              30 4 * * * expcards run --if-new | ifne mail -s Expiring ops@example.com
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var report: ReportOptions
    @OptionGroup var transfer: TransferOptions
    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var logging: LoggingOptions

    @Flag(name: .customLong("if-new"), help: "Print nothing and exit 0 unless a file of a new month was fetched.")
    var ifNew = false

    @Flag(
        name: .customLong("require-current"), help: "Exit 75 when this month's company file is not on the server yet.")
    var requireCurrent = false

    func run() async throws {
        let logger = logging.makeLogger()
        let settings: Settings
        do {
            settings = try await Settings.load(
                archive: archive.archive, config: archive.config, connection: connection, transfer: transfer,
                environment: ProcessInfo.processInfo.environment)
        } catch {
            throw Failure.reported(error)
        }
        let monthsBefore: Set<YearMonth>
        do {
            monthsBefore = Set(
                try ArchiveContents.reportableFiles(root: settings.archive.value).compactMap {
                    ExpCardsFileName(String($0.split(separator: "/").last ?? ""))?.month
                })
        } catch {
            throw Failure.reported(error)
        }
        var fetchCode = ExitCode.success
        var headline: String?
        var newMonth = false
        do {
            let result = try FetchRunner(
                settings: settings, connection: connection, mode: report.mode?.environment, dryRun: false,
                requireCurrent: requireCurrent, logger: logger
            ).run()
            newMonth = result.outcome.fetched.contains { !monthsBefore.contains($0.name!.month) }
            fetchCode = result.code == .dataError ? .success : result.code
            if !result.outcome.failed.isEmpty {
                headline =
                    "FETCH INCOMPLETE: \(result.outcome.failed.count) file(s) could not be downloaded; this report is from the archive."
            }
            if logging.verbose { Output.stderr(result.summary) }
        } catch {
            fetchCode = Failure.reported(error)
            headline = "FETCH FAILED (exit \(fetchCode.rawValue)): \(error); this report is from the archive."
        }
        if ifNew && !newMonth {
            if fetchCode != .success { throw fetchCode }
            return
        }
        let reportCode = ReportRunner(options: report, settings: settings, logger: logger).run(
            files: [], headline: headline)
        let code = ExitCode.worst([fetchCode, reportCode])
        if code != .success { throw code }
    }
}
