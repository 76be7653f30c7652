import ArgumentParser
import ExpCardsCore
import Foundation

struct Prune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete archived files of months older than a retention period.",
        discussion: """
            For data-retention rules on cardholder data: deletes the archived files (and their \
            earlier versions, partial downloads and manifest entries) whose month is more than \
            MONTHS months before the current month, and every partial download left for more \
            than a day; and the network notifications (the ITN store) dated before that month, \
            except each alias's latest (its state). \
            Each deletion is printed as it happens, and the manifest is updated before each one. \
            Nothing is ever deleted otherwise.

            Exit status: 0; 74 when a file cannot be deleted or the archive holds a symbolic \
            link; 75 when another run holds the lock; 78 when the archive directory is not safe.

            Examples:
              expcards prune --older-than 13 --dry-run
              expcards prune --older-than 13
            """
    )

    @Option(
        name: .customLong("older-than"),
        help: ArgumentHelp("Delete months older than this many months.", valueName: "months"))
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
            let settings = try await Settings.load(
                archive: archive.archive, config: archive.config, connection: nil,
                environment: ProcessInfo.processInfo.environment)
            let root = try ArchiveDirectory.openRoot(settings.archive.value, create: true)!
            let lock = try ArchiveLock(archive: root)
            defer { withExtendedLifetime(lock) {} }
            let cutoff = YearMonth(Day.todayUTC()).adding(months: -olderThan)
            let pruner = Pruner(archive: root, cutoff: cutoff, now: Int64(Date().timeIntervalSince1970))
            func line(_ verb: String, _ d: Pruner.Deletion) -> String {
                verb + d.path + (d.note.map { " (\($0))" } ?? "") + "\n"
            }
            let count: Int
            if dryRun {
                let plan = try pruner.plan()
                for d in plan { Output.stdout(line("would delete ", d)) }
                count = plan.count
            } else {
                count = try pruner.run { Output.stdout(line("deleted ", $0)) }
            }
            let notifications = try pruneNotifications(root, cutoff: cutoff)
            let verb = count == 1 ? (dryRun ? "would be" : "was") : (dryRun ? "would be" : "were")
            Output.stdout(
                "\(count) file\(count == 1 ? "" : "s") \(verb) deleted"
                    + " (months before \(cutoff), and partial files left for more than a day)\n")
            if let notifications {
                Output.stdout(
                    "\(notifications.count) network notification\(notifications.count == 1 ? "" : "s") of months before \(cutoff) "
                        + (dryRun ? "would be" : notifications.count == 1 ? "was" : "were")
                        + " deleted from \(notifications.path)\n")
            }
        } catch {
            throw Failure.reported(error)
        }
    }

    /// The ITN store's notifications of the pruned months, when there is a store.
    private func pruneNotifications(_ root: ArchiveDirectory, cutoff: YearMonth) throws -> (count: Int, path: String)? {
        guard let store = try NotificationStore.open(archive: root, create: false) else { return nil }
        let start = Timestamp(milliseconds: Int64(cutoff.firstDay.daysSinceEpoch) * 86_400_000)
        return (try store.prune(before: start, dryRun: dryRun), store.path)
    }
}
