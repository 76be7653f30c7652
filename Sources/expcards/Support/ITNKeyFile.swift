import Glibc

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
        guard n < bytes.count else { throw Unsafe(description: "\(path): the key file is over 4 KiB: not a key") }
        var key = Array(bytes[0..<n])
        // An editor's final newline, or a space left after a paste, is not part of the key.
        while let last = key.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { key.removeLast() }
        guard !key.isEmpty else { throw Unsafe(description: "\(path): the key file is empty") }
        return key
    }
}
