import ArgumentParser
import ExpCardsCore
import Foundation
import Logging
import SFTP

struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download every EXP_CARDS file the archive does not hold yet, before the 21-day purge.",
        discussion: """
            Lists the company directory (/ROOT/expired, else /common/expired) and each shop's \
            <shopId>/expired over one SSH connection, and downloads what is new or changed: each \
            file under a hidden temporary name, size-checked, fsynced, then renamed, so a file \
            never appears incomplete. Interrupted downloads resume on the next run. Nothing on the \
            server is ever written, renamed or deleted. A second run downloads nothing.

            Exit status: 0 done; 65 a fetched file has problems; 69 server unreachable, timed out \
            or SFTP failure; 74 local I/O error (disk full); 75 another run holds the lock or (--require-current) this month's file is not out yet; 76 host \
            key unknown or mismatched; 77 authentication rejected; 78 configuration error.

            Examples:
              EXPCARDS_PASSWORD_FILE=/etc/expcards/password expcards fetch --user acme
              expcards fetch --dry-run --config /etc/expcards/config.yaml
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var transfer: TransferOptions
    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: ArgumentHelp("Only this environment: production or test (default both).", valueName: "mode"))
    var mode: ModeArgument?

    @Flag(name: .customLong("dry-run"), help: "Say what would be downloaded; download nothing.")
    var dryRun = false

    @Flag(
        name: .customLong("require-current"),
        help: "Exit 75 when this month's company file is not on the server yet (published on the 1st at 04:00 UTC).")
    var requireCurrent = false

    func run() async throws {
        let logger = logging.makeLogger()
        do {
            let settings = try await Settings.load(
                archive: archive.archive, config: archive.config, connection: connection, transfer: transfer,
                environment: ProcessInfo.processInfo.environment)
            let result = try FetchRunner(
                settings: settings, connection: connection, mode: mode?.environment, dryRun: dryRun,
                requireCurrent: requireCurrent, logger: logger
            ).run()
            Output.stdout(result.summary)
            if result.code != .success { throw result.code }
        } catch {
            throw Failure.reported(error)
        }
    }
}

/// Runs a fetch: lock, connect, list, download; shared by `fetch` and `run`.
struct FetchRunner {
    var settings: Settings
    var connection: ConnectionOptions
    var mode: Environment?
    var dryRun: Bool
    var requireCurrent = false
    var logger: Logger

    struct Result {
        var outcome: Fetcher.Outcome
        var summary: String
        var code: ExitCode
    }

    func run() throws -> Result {
        let root = settings.archive.value
        let archive = try ArchiveDirectory.openRoot(root, create: true)!
        let lock = try ArchiveLock(archive: archive)
        defer { withExtendedLifetime(lock) {} }
        let sftp = try settings.sftpConfiguration(insecure: connection.insecureAcceptAnyHostKey)
        SecurityWarnings.emit(settings: settings, connection: connection)
        var options = Fetcher.Options(archiveRoot: root)
        options.archive = archive
        // The platform's directory (the setting's default) keeps the core's fallbacks after it.
        if settings.companyDirectory.value != options.companyDirectories.first {
            options.companyDirectories = [settings.companyDirectory.value]
        }
        options.shops = settings.shops.value
        options.shopDirectoryPattern = settings.shopDirectory.value
        options.mode = mode ?? settings.mode.value
        options.retries = settings.retries.value
        options.parallel = settings.parallel.value
        options.timeout = settings.timeout.value
        options.dryRun = dryRun
        let progress = Progress(enabled: Output.stderrIsTerminal && logger.logLevel <= .notice)
        let fetcher = Fetcher(
            options: options,
            connect: { [logger] in
                logger.debug("connecting to \(sftp.host) port \(sftp.port) as \(sftp.user)")
                return try SFTPRemoteStore(configuration: sftp, logger: logger)
            },
            now: { Int64(Date().timeIntervalSince1970) },
            onEvent: { [logger] event in
                switch event {
                case .companyDirectory(let dir):
                    if dir == "/common/expired" {
                        logger.notice("company directory: \(dir) (no /ROOT/expired on this server)")
                    } else {
                        logger.info("company directory: \(dir)")
                    }
                case .warning(let text): logger.warning("\(text)")
                case .willFetch(let count, let bytes, let bound):
                    logger.info(
                        "\(count) file\(count == 1 ? "" : "s") to fetch (\(bytes) bytes); a stalled file is given up after at most \(bound) s"
                    )
                case .started(let file, let offset):
                    if offset > 0 { logger.info("resuming \(file.remotePath) at byte \(offset)") }
                    progress.start(file.remotePath, total: file.entry.size, from: offset)
                case .progress(_, let bytes): progress.update(bytes)
                case .retrying(let file, let attempt, let of, let after, let error):
                    progress.clear()
                    logger.warning(
                        "\(file?.remotePath ?? "listing"): \(error); retry \(attempt) of \(of) in \(after) s")
                case .fetched(let file, _, _, let problems):
                    progress.clear()
                    if problems > 0 {
                        logger.warning(
                            "\(file.archiveDirectory)/\(file.entry.name) has \(problems) problem\(problems == 1 ? "" : "s"): kept and flagged; see 'expcards check'"
                        )
                    }
                case .failed(let file, let error):
                    progress.clear()
                    logger.error("\(file.remotePath): \(error)")
                }
            })
        let outcome = try fetcher.run()
        progress.clear()
        var summary = ""
        let verb = dryRun ? "would fetch" : "fetched"
        let listed = dryRun ? outcome.listing.toFetch : outcome.fetched
        for f in listed { summary += "\(verb) \(f.archiveDirectory)/\(f.entry.name) (\(f.entry.size) bytes)\n" }
        for (f, e) in outcome.failed { summary += "FAILED \(f.remotePath): \(e)\n" }
        for (dir, e) in outcome.listing.unlisted { summary += "FAILED \(dir): cannot be listed: \(e)\n" }
        for f in outcome.listing.unfetchable { summary += "FAILED \(f.remotePath): \(f.note ?? "refused")\n" }
        for f in outcome.unchanged {
            summary +=
                "unchanged \(f.archiveDirectory)/\(f.entry.name): read again (new server mtime), same bytes as archived\n"
        }
        // A file an interrupted run archived without recording it is listed as archived and
        // recorded now, as fetched: count it once.
        let archived =
            outcome.listing.files.filter { $0.state == .archived && !outcome.fetched.contains($0) }.count
            + outcome.unchanged.count
        let failures = outcome.failed.count + outcome.listing.unfetchable.count
        summary +=
            "\(listed.count) file\(listed.count == 1 ? "" : "s") \(verb), \(archived) already archived, \(failures) failed"
            + " (company directory \(outcome.listing.companyDirectory ?? "none"), \(outcome.listing.shopDirectories.count) shop director\(outcome.listing.shopDirectories.count == 1 ? "y" : "ies"))\n"
        var codes: [ExitCode] = []
        // Never a silent empty run: whatever the platform published and we do not hold fails it.
        if !outcome.failed.isEmpty || !outcome.listing.unlisted.isEmpty || !outcome.listing.unfetchable.isEmpty {
            codes.append(.unavailable)
        }
        if requireCurrent, let month = outcome.listing.missingCurrentMonth {
            summary += "the company file of \(month) is not published yet (--require-current)\n"
            codes.append(.tempFail)
        }
        if !outcome.fetchedWithProblems.isEmpty { codes.append(.dataError) }
        return Result(outcome: outcome, summary: summary, code: ExitCode.worst(codes))
    }
}

/// One line on stderr, redrawn, only on a terminal: file, bytes, rate, ETA.
final class Progress: @unchecked Sendable {
    private let enabled: Bool
    private var name = ""
    private var total: UInt64 = 0
    private var from: UInt64 = 0
    private var started = Date()
    private var lastDraw = Date.distantPast
    private var shown = false

    init(enabled: Bool) { self.enabled = enabled }

    func start(_ name: String, total: UInt64, from: UInt64) {
        self.name = name
        self.total = total
        self.from = from
        started = Date()
    }

    func update(_ bytes: UInt64) {
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = Date()
        let elapsed = max(0.001, Date().timeIntervalSince(started))
        let rate = Double(bytes - from) / elapsed
        let eta = rate > 0 ? Int(Double(total - min(bytes, total)) / rate) : 0
        let line = String(
            format: "%@  %.1f/%.1f MB  %.1f MB/s  ETA %ds", displaySafe(String(name.suffix(50))), Double(bytes) / 1e6,
            Double(total) / 1e6, rate / 1e6, eta)
        Output.stderrControl("\r\u{1B}[K" + line)
        shown = true
    }

    func clear() {
        guard shown else { return }
        Output.stderrControl("\r\u{1B}[K")
        shown = false
    }
}
