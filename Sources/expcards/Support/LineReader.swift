import Glibc

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
