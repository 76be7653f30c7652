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
                guard let reader = LineReader(path: file) else {
                    logger.error("\(name): cannot be read: \(String(cString: strerror(errno)))")
                    unreadable = true
                    continue
                }
                var number = 0
                while let line = reader.next() {
                    number += 1
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                    do throws(ITNError) {
                        let envelope = try ITNEnvelope.parse(line, contentType: nil)
                        if let key, !envelope.signatureMatches(key: key) {
                            throw ITNError(
                                field: "kr-hash",
                                envelope.isSigned
                                    ? "does not match the key's HMAC-SHA-256" : "missing: a key is configured")
                        }
                        batch.append(.init(envelope: envelope, receivedAt: .now(), via: .import, signed: key != nil))
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
            if unreadable { throw ExitCode.noInput }
            if refused > 0 { throw ExitCode.dataError }
        } catch {
            throw Failure.reported(error)
        }
    }
}

/// The shop's HMAC key, from a file only the user may read (as ssh refuses a readable key).
enum ITNKeyFile {
    struct Unsafe: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            throw Unsafe(description: "\(path): cannot open the key file: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw Unsafe(description: "\(path): the key file is not a regular file")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw Unsafe(description: "\(path): group or others may read the key file; fix it with 'chmod 600 \(path)'")
        }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw Unsafe(description: "\(path): the key file is empty") }
        var key = Array(bytes[0..<n])
        while let last = key.last, last == 0x0A || last == 0x0D { key.removeLast() }
        guard !key.isEmpty else { throw Unsafe(description: "\(path): the key file is empty") }
        return key
    }
}

/// Lines of a file or of standard input, read in large blocks (an import may be a million lines).
final class LineReader {
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var start = 0
    private var end = 0
    private var eof = false
    private(set) var error: Int32?

    init?(path: String) {
        if path == "-" {
            fd = 0
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
            if fd < 0 { return nil }
        }
    }

    deinit { if fd > 0 { close(fd) } }

    /// The next line without its newline; nil at the end.
    func next() -> [UInt8]? {
        while true {
            if let nl = buffer[start..<end].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<nl])
                start = nl + 1
                return line
            }
            if eof {
                guard start < end else { return nil }
                let line = Array(buffer[start..<end])
                start = end
                return line
            }
            if start > 0 {
                buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
                end -= start
                start = 0
            }
            if end == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + end, $0.count - end) }
            if n < 0 {
                if errno == EINTR { continue }
                error = errno
                eof = true
            } else if n == 0 {
                eof = true
            } else {
                end += n
            }
        }
    }
}
