import ExpCardsCore
import Glibc

/// Report on stdout, diagnostics on stderr, written whole with write(2) so lines from the
/// progress display and the log never interleave mid-line. Every write to either goes through here.
enum Output {
    /// Text for a person (summaries, headlines): outside text in it is neutralised, line feeds
    /// kept. Reports, already escaped by their renderers (and coloured), go through `stdout(bytes:)`.
    static func stdout(_ text: String) { write(1, displaySafeLines(text)) }

    /// Bytes already made safe by whoever produced them (a renderer, a JSON encoder), as they are.
    static func stdout(bytes: UnsafeRawBufferPointer) { write(1, bytes) }

    /// `stdout(bytes:)` of an array.
    static func stdout(bytes: [UInt8]) { bytes.withUnsafeBytes { write(1, $0) } }

    /// Diagnostics: neutralised like `stdout(_:)`.
    static func stderr(_ text: String) { write(2, displaySafeLines(text)) }

    /// Terminal control sequences of our own (the progress line), written as they are.
    static func stderrControl(_ text: String) { write(2, text) }

    private static func write(_ fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { write(fd, UnsafeRawBufferPointer($0)) }
    }

    private static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, base + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                return  // EPIPE (a closed pipe): nothing more to say
            }
            done += n
        }
    }

    static var stdoutIsTerminal: Bool { isatty(1) == 1 }
    static var stderrIsTerminal: Bool { isatty(2) == 1 }
}
