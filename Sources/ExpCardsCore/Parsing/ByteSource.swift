import CZlib
import Glibc

/// A stream of bytes the parser pulls from: a file, a gzip stream over a file, or memory.
public protocol ByteSource {
    /// Fills up to `buffer.count` bytes; returns 0 at the end.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(SourceError) -> Int
}

/// Why bytes could not be read.
public enum SourceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// open(2)/read(2) failed: the path cannot be read.
    case unreadable(path: String, reason: String)
    /// The gzip stream is damaged or cut short.
    case corruptGzip(reason: String)
    /// The gzip stream inflates to more than its `GzipSource.InflationLimit` allows.
    case inflatesTooMuch(limit: Int, compressed: Int)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): cannot read: \(reason)"
        case .corruptGzip(let reason): return "gzip data is damaged: \(reason)"
        case .inflatesTooMuch(let limit, let compressed):
            return "gzip data inflates to more than \(limit) bytes (from \(compressed) compressed bytes read)"
        }
    }
}

func errnoText(_ e: Int32 = errno) -> String { String(cString: strerror(e)) }

/// A file read with read(2): no Foundation, no mapping, one reused buffer.
public final class FileSource: ByteSource {
    private let fd: Int32
    public let path: String
    var descriptor: Int32 { fd }

    public init(path: String) throws(SourceError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: errnoText()) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw .unreadable(path: path, reason: "is a directory")
        }
        self.fd = fd
    }

    /// Reads from `descriptor`, which it then owns (and closes).
    public init(descriptor: Int32, path: String) {
        self.fd = descriptor
        self.path = path
    }

    /// How a file is opened for the parser.
    public typealias Opener = (String) throws(SourceError) -> FileSource

    /// `init(path:)`: the path as given, links followed (files named on the command line).
    public static func openPath(_ path: String) throws(SourceError) -> FileSource { try FileSource(path: path) }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SourceError) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw .unreadable(path: path, reason: errnoText())
        }
    }
}

/// Bytes in memory (tests, fuzzing).
public struct MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0
    /// At most this many bytes per read, to exercise chunk boundaries in tests.
    private let chunk: Int

    public init(_ bytes: [UInt8], chunk: Int = .max) {
        self.bytes = bytes
        self.chunk = max(1, chunk)
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(SourceError) -> Int {
        let n = min(buffer.count, bytes.count - offset, chunk)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + offset, byteCount: n)
        }
        offset += n
        return n
    }
}

/// gzip decompressed as a stream with zlib: never the whole file in memory. Concatenated gzip
/// members (allowed by RFC 1952) are read one after the other.
public final class GzipSource<Inner: ByteSource>: ByteSource {
    /// A bound on the inflated size, so a small "gzip bomb" (zeros compress about 1000:1) cannot
    /// make a run read gigabytes: at most `ratio` times the compressed bytes read so far, but
    /// always at least `floor`, and never more than `cap`. Text like an EXP_CARDS file compresses
    /// 3 to 10 times, so real files stay far below; checked as the stream is read, so it holds
    /// for a stream whose size is not known in advance.
    public struct InflationLimit: Hashable, Sendable {
        public var ratio = 64
        public var floor = 64 << 20
        public var cap = 4 << 30

        public init(ratio: Int = 64, floor: Int = 64 << 20, cap: Int = 4 << 30) {
            self.ratio = ratio
            self.floor = floor
            self.cap = cap
        }

        /// The inflated bytes allowed after `compressed` bytes of input.
        public func allowed(afterCompressed compressed: Int) -> Int {
            let (scaled, overflow) = compressed.multipliedReportingOverflow(by: ratio)
            return min(cap, max(floor, overflow ? Int.max : scaled))
        }
    }

    private var inner: Inner
    private let limit: InflationLimit
    private var compressedBytes = 0
    private var inflatedBytes = 0
    private var stream = z_stream()
    private let input: UnsafeMutableRawBufferPointer
    private var innerEnded = false
    private var memberEnded = false
    private var finished = false

    public init(
        _ inner: Inner, inputSize: Int = 256 * 1024, limit: InflationLimit = InflationLimit()
    ) throws(SourceError) {
        self.inner = inner
        self.limit = limit
        input = .allocate(byteCount: inputSize, alignment: 16)
        // 16 + MAX_WBITS: expect a gzip header and trailer (CRC and size are checked by zlib).
        let rc = inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            input.deallocate()
            throw .corruptGzip(reason: "zlib could not start (\(rc))")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SourceError) -> Int {
        if finished || buffer.isEmpty { return 0 }
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = UInt32(min(buffer.count, Int(UInt32.max)))
        while stream.avail_out > 0 {
            if stream.avail_in == 0 && !innerEnded {
                let n = try inner.read(into: input)
                if n == 0 {
                    innerEnded = true
                } else {
                    stream.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_in = UInt32(n)
                    compressedBytes += n
                }
            }
            if stream.avail_in == 0 && innerEnded {
                if memberEnded {
                    finished = true
                    break
                }
                throw .corruptGzip(reason: "the compressed stream ends before its end marker (file cut short?)")
            }
            if memberEnded {
                // More input after a complete member: another member follows.
                inflateReset(&stream)
                memberEnded = false
            }
            let rc = inflate(&stream, Z_NO_FLUSH)
            switch rc {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                memberEnded = true
            default:
                let msg = stream.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                throw .corruptGzip(reason: msg)
            }
        }
        let produced = buffer.count - Int(stream.avail_out)
        inflatedBytes += produced
        let allowed = limit.allowed(afterCompressed: compressedBytes)
        if inflatedBytes > allowed {
            finished = true
            throw .inflatesTooMuch(limit: allowed, compressed: compressedBytes)
        }
        return produced
    }
}
