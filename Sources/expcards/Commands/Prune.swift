import ArgumentParser
import ExpCardsCore
import Foundation

struct Prune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete archived files of months older than a retention period.",
        discussion: """
            For data-retention rules on cardholder data: deletes the archived files (and their \
            earlier versions and manifest entries) whose month is more than MONTHS months before \
            the current month. Nothing is ever deleted otherwise.

            Exit status: 0; 74 when a file cannot be deleted; 75 when another run holds the lock.

            Examples:
              expcards prune --older-than 13 --dry-run
              expcards prune --older-than 13
            """
    )

    @Option(name: .customLong("older-than"), help: ArgumentHelp("Delete months older than this many months.", valueName: "months"))
    var olderThan: Int

    @Flag(name: .customLong("dry-run"), help: "List what would be deleted; delete nothing.")
    var dryRun = false

    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if olderThan < 1 { throw ValidationError("--older-than wants at least 1 month.") }
    }

    func run() async throws {
        do {
            let settings = try await Settings.load(archive: archive.archive, config: archive.config, connection: nil, environment: ProcessInfo.processInfo.environment)
            let root = settings.archive.value
            let lock = try ArchiveLock(root: root)
            defer { withExtendedLifetime(lock) {} }
            var manifest = try Manifest.load(root: root)
            let cutoff = YearMonth(Day.todayUTC()).adding(months: -olderThan)
            var out = ""
            var count = 0
            for path in ArchiveContents.allFiles(root: root) {
                let base = String(path.split(separator: "/").last ?? "")
                let original = base.components(separatedBy: ".replaced-")[0]
                guard let name = ExpCardsFileName(original), name.month < cutoff else { continue }
                out += (dryRun ? "would delete " : "deleted ") + path + "\n"
                count += 1
                if !dryRun { try ArchiveContents.remove(path) }
            }
            if !dryRun {
                manifest.files = manifest.files.filter { key, _ in
                    let base = String(key.split(separator: "/").last ?? "")
                    return (ExpCardsFileName(base)?.month).map { $0 >= cutoff } ?? true
                }
                try manifest.save(root: root)
            }
            out += "\(count) file\(count == 1 ? "" : "s") of months before \(cutoff) \(dryRun ? "would be " : "")deleted\n"
            Output.stdout(out)
        } catch {
            throw Failure.exit(error)
        }
    }
}
