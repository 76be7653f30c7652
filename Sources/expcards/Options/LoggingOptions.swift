import ArgumentParser
import Logging

/// `--quiet` / `--verbose`, on every command: diagnostics go to stderr through swift-log.
struct LoggingOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print only errors on stderr.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Print what is done, step by step, on stderr.")
    var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose exclude each other.") }
    }

    var level: Logger.Level { quiet ? .error : (verbose ? .debug : .notice) }

    func makeLogger() -> Logger {
        var logger = Logger(label: "expcards") { _ in DiagnosticsHandler() }
        logger.logLevel = level
        return logger
    }
}

/// `expcards: warning: …` lines on stderr: the Unix convention, readable in a cron mail.
struct DiagnosticsHandler: LogHandler {
    var logLevel: Logger.Level = .notice
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix: String
        switch event.level {
        case .trace, .debug: prefix = "expcards: debug: "
        case .info, .notice: prefix = "expcards: "
        case .warning: prefix = "expcards: warning: "
        case .error, .critical: prefix = "expcards: error: "
        }
        // Structured fields (the ITN endpoint's request lines), as key=value after the message.
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }
        let suffix =
            fields.isEmpty
            ? "" : " " + fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        Output.stderr(prefix + "\(event.message)" + suffix + "\n")
    }
}
