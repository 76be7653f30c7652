import ExpCardsCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Report on stdout, diagnostics on stderr, written whole with write(2) so lines from the
/// progress display and the log never interleave mid-line.
enum Output {
    /// Text for a person (summaries, headlines): outside text in it is neutralised, line feeds
    /// kept. Reports, already escaped by their renderers (and coloured), go through `stdout(bytes:)`.
    static func stdout(_ text: String) { write(1, displaySafeLines(text)) }

    static func stdout(bytes: [UInt8]) {
        bytes.withUnsafeBytes { buf in
            var done = 0
            while done < buf.count {
                let n = Glibc.write(1, buf.baseAddress! + done, buf.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                done += n
            }
        }
    }
    /// Diagnostics: neutralised like `stdout(_:)`.
    static func stderr(_ text: String) { write(2, displaySafeLines(text)) }

    /// Terminal control sequences of our own (the progress line), written as they are.
    static func stderrControl(_ text: String) { write(2, text) }

    private static func write(_ fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { buf in
            var done = 0
            while done < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return  // EPIPE (a closed pipe): nothing more to say
                }
                done += n
            }
        }
    }

    static var stdoutIsTerminal: Bool { isatty(1) == 1 }
    static var stderrIsTerminal: Bool { isatty(2) == 1 }
}
