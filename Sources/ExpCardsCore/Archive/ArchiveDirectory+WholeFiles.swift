import Crypto
import Glibc

/// Whole files of the archive (the manifest), read, written and hashed through the
/// descriptor-relative primitives of `ArchiveDirectory`.
extension ArchiveDirectory {
    /// A whole regular file, or nil when there is none; refused beyond `limit` bytes.
    public func readAll(_ name: String, limit: Int) throws(ArchiveError) -> [UInt8]? {
        guard let f = try openForReading(name) else { return nil }
        defer { close(f) }
        var st = stat()
        if fstat(f, &st) == 0, st.st_size > limit { throw .tooLarge(path: pathOf(name), limit: limit) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(f, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.fail(pathOf(name), "read")
            }
            if n == 0 { break }
            // It may grow while it is read.
            if out.count + n > limit { throw .tooLarge(path: pathOf(name), limit: limit) }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Writes a whole small file atomically: a new temporary file (`.<name>.tmp-<random>`, 0600,
    /// O_EXCL), fsync, rename over `name`, fsync of the directory.
    public func writeAtomically(_ bytes: [UInt8], to name: String) throws(ArchiveError) {
        try check(name)
        let (f, temp) = try createUnique(prefix: "." + name + ".tmp-", suffix: "")
        var e: Int32 = 0
        bytes.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(f, raw.baseAddress! + off, raw.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    e = errno
                    return
                }
                off += n
            }
        }
        if e == 0 && fsync(f) != 0 { e = errno }
        close(f)
        guard e == 0 else {
            unlinkat(fd, temp, 0)
            throw Self.fail(pathOf(name), "write", e)
        }
        do throws(ArchiveError) {
            try rename(temp, to: name)
        } catch {
            unlinkat(fd, temp, 0)
            throw error
        }
        try sync()
    }

    /// SHA-256 (hex) of a regular file; nil when there is none by that name.
    public func sha256Hex(of name: String) throws(ArchiveError) -> String? {
        guard let f = try openForReading(name) else { return nil }
        defer { close(f) }
        return try Self.sha256Hex(fd: f, path: pathOf(name))
    }

    static func sha256Hex(fd f: Int32, path: String) throws(ArchiveError) -> String {
        var hasher = SHA256()
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buf.withUnsafeMutableBytes { read(f, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail(path, "read")
            }
            if n == 0 { break }
            buf.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return hexDigest(hasher.finalize())
    }
}

func hexDigest(_ digest: SHA256.Digest) -> String {
    digest.map { byte in
        let h = String(byte, radix: 16)
        return h.count == 1 ? "0" + h : h
    }.joined()
}

/// `path` quoted for a shell command in a message, when it needs it.
func shellQuoted(_ path: String) -> String {
    let plain = path.utf8.allSatisfy { c in
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || "/._-+,:@%".utf8.contains(c)
    }
    if plain && !path.isEmpty { return path }
    var out = "'"
    for c in path { out += c == "'" ? "'\\''" : String(c) }
    return out + "'"
}
