import ArgumentParser
import ExpCardsCore
import Foundation
import Glibc

/// `expcards itn import FILE…`: notifications saved elsewhere (one JSON document or one form body
/// per line), validated as `itn serve` validates a request, into the store.
struct ITNImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import notifications saved elsewhere: one JSON document or one form body per line.",
        discussion: """
            Each line is a notification as the platform posts it: a JSON document, or the form \
            (kr-answer, kr-hash, kr-hash-algorithm, kr-answer-type) of its IPN. Blank lines are \
            skipped. A line that is not a valid notification is reported on stderr as \
            FILE:LINE: reason, and the others are still imported. A notification already in the \
            store, or saying what the alias's latest one says, is counted as a duplicate and not \
            stored again. Without its own time (serverDate), a notification is dated by its import.

            Exit status: 0; 65 when a line was refused; 66 when a file cannot be read; 74 when \
            the store cannot be written; 78 when the key file or the archive is not safe.

            Examples:
              expcards itn import saved-notifications.jsonl
              grep -h itn /var/log/shop/*.log | cut -f2 | expcards itn import -
            """
    )

    @Argument(help: ArgumentHelp("Files of notifications, one per line; - for standard input.", valueName: "file"))
    var files: [String]

    @Option(
        name: .customLong("hmac-key-file"),
        help: ArgumentHelp(
            "Check each notification's kr-hash with this key (the shop's HMAC key); unsigned lines are then refused.",
            valueName: "file"))
    var hmacKeyFile: String?

    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var logging: LoggingOptions

    /// Lines stored per append (one lock and one fsync each).
    static let batchSize = 4096

    func run() async throws {
        let logger = logging.makeLogger()
        do {
            let settings = try await Settings.load(
                archive: archive.archive, config: archive.config, connection: nil,
                environment: ProcessInfo.processInfo.environment)
            let key = try (hmacKeyFile ?? settings.itnHmacKeyFile.value).map(ITNKeyFile.read)
            let store = try NotificationStore.open(archiveRoot: settings.archive.value, create: true)!
            var stored = 0
            var duplicates = 0
            var refused = 0
            var unreadable = false
            var batch: [NotificationStore.Incoming] = []
            func flush() throws {
                guard !batch.isEmpty else { return }
                for outcome in try store.append(batch) {
                    if case .stored = outcome { stored += 1 } else { duplicates += 1 }
                }
                batch.removeAll(keepingCapacity: true)
            }
            for file in files {
                let name = file == "-" ? "(standard input)" : file
                guard let reader = LineReader(path: file, maximum: ITNEnvelope.maximumSize) else {
                    logger.error("\(name): cannot be read: \(String(cString: strerror(errno)))")
                    unreadable = true
                    continue
                }
                var number = 0
                while let next = reader.next() {
                    number += 1
                    guard case .text(let line) = next else {
                        refused += 1
                        Output.stderr("\(name):\(number): the line is over \(ITNEnvelope.maximumSize) bytes\n")
                        continue
                    }
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                    do throws(ITNError) {
                        let envelope = try ITNEnvelope.parse(line, contentType: nil)
                        let receivedAt = Timestamp.now()
                        try envelope.checkTime(receivedAt: receivedAt)
                        if let key, !envelope.signatureMatches(key: key) {
                            throw ITNError(
                                field: "kr-hash",
                                envelope.isSigned
                                    ? "does not match the key's HMAC-SHA-256" : "missing: a key is configured")
                        }
                        batch.append(
                            .init(envelope: envelope, receivedAt: receivedAt, via: .import, signed: key != nil))
                    } catch {
                        refused += 1
                        Output.stderr("\(name):\(number): \(error)\n")
                    }
                    if batch.count >= Self.batchSize { try flush() }
                }
                if let e = reader.error {
                    logger.error("\(name): read failed: \(String(cString: strerror(e)))")
                    unreadable = true
                }
            }
            try flush()
            Output.stderr(
                "\(stored) stored, \(duplicates) duplicate\(duplicates == 1 ? "" : "s"), \(refused) refused into \(store.path)\n"
            )
            // The man page's order: 65 before 66.
            if refused > 0 { throw ExitCode.dataError }
            if unreadable { throw ExitCode.noInput }
        } catch {
            throw Failure.reported(error)
        }
    }
}
