import ArgumentParser
import ExpCardsCore
import Foundation

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash every archived file against the manifest.",
        discussion: """
            Reports every file whose SHA-256 differs from the manifest (CHANGED), every file the \
            manifest lists that is missing (MISSING), every file in the archive it does not list \
            (UNLISTED), symbolic links and special files, never followed nor opened (REFUSED), \
            anything else expcards did not write (UNKNOWN), and partial downloads (PARTIAL, not \
            a difference).

            Exit status: 0 when all match, 65 on any difference, 74 when the archive or its \
            manifest cannot be read, 78 when the archive directory is not safe.
            """
    )

    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        do {
            let settings = try await Settings.load(
                archive: archive.archive, config: archive.config, connection: nil,
                environment: ProcessInfo.processInfo.environment)
            guard let root = try ArchiveDirectory.openRoot(settings.archive.value, create: false) else {
                Output.stdout("0 files in the manifest, 0 differences\n")  // no archive yet
                return
            }
            let summary = try Verifier.verify(root) { finding in
                if finding.status != .ok || !logging.quiet { Output.stdout(finding.line + "\n") }
            }
            let n = summary.listed
            let bad = summary.differences
            var last = "\(n) file\(n == 1 ? "" : "s") in the manifest, \(bad) difference\(bad == 1 ? "" : "s")"
            if summary.partials > 0 { last += ", \(summary.partials) partial file\(summary.partials == 1 ? "" : "s")" }
            Output.stdout(last + "\n")
            if bad > 0 { throw ExitCode.dataError }
        } catch {
            throw Failure.reported(error)
        }
    }
}
