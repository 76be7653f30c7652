import Glibc

/// Lines of a file or of standard input, read in large blocks (an import may be a million lines).
/// A line longer than `maximum` is skipped to its end without being held, and returned as
/// `.tooLong`: a file with no newline (`/dev/zero`) costs no more memory than the buffer.
final class LineReader {
    enum Line {
        case text([UInt8])
        case tooLong
    }

    private let fd: Int32
    private let maximum: Int
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var start = 0
    private var end = 0
    private var eof = false
    /// Inside a line over `maximum`, its start already dropped.
    private var skipping = false
    private(set) var error: Int32?

    init?(path: String, maximum: Int) {
        precondition(maximum < 1 << 20, "a line must fit the buffer")
        self.maximum = maximum
        if path == "-" {
            fd = 0
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
            if fd < 0 { return nil }
        }
    }

    deinit { if fd > 0 { close(fd) } }

    /// The next line without its newline; nil at the end.
    func next() -> Line? {
        while true {
            if let nl = buffer[start..<end].firstIndex(of: 0x0A) {
                defer { start = nl + 1 }
                if skipping || nl - start > maximum {
                    skipping = false
                    return .tooLong
                }
                return .text(Array(buffer[start..<nl]))
            }
            if skipping || end - start > maximum {
                skipping = true
                start = end
            }
            if eof {
                if skipping {
                    skipping = false
                    return .tooLong
                }
                guard start < end else { return nil }
                defer { start = end }
                return .text(Array(buffer[start..<end]))
            }
            if start > 0 {
                buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
                end -= start
                start = 0
            }
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
