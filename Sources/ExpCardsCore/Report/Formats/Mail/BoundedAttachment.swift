import CZlib

/// The CSV attachment gathered within a bound: whole up to `limit` bytes; past it, gzip-compressed
/// as it streams in; and when even that passes the limit, dropped (only its size is kept), so the
/// memory held is about twice the limit however large the report.
struct BoundedAttachment {
    enum Content {
        case plain([UInt8])
        case gzip([UInt8])
        case tooLarge
    }

    let limit: Int
    private(set) var totalBytes = 0
    private var plain: [UInt8] = []
    private var compressor: Gzip?
    private var dropped = false

    init(limit: Int) { self.limit = limit }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        totalBytes += bytes.count
        if dropped { return }
        if compressor == nil {
            if plain.count + bytes.count <= limit {
                plain += bytes
                return
            }
            let g = Gzip()
            plain.withUnsafeBytes { g.feed($0) }
            plain = []
            compressor = g
        }
        compressor!.feed(bytes)
        if compressor!.output.count > limit { drop() }
    }

    private mutating func drop() {
        dropped = true
        compressor = nil
    }

    mutating func finish() -> Content {
        if dropped { return .tooLarge }
        guard let g = compressor else { return .plain(plain) }
        g.finish()
        return g.output.count > limit ? .tooLarge : .gzip(g.output)
    }
}

/// A gzip stream (zlib's deflate with a gzip wrapper) into memory. A class holding the z_stream
/// at a fixed address: zlib keeps a pointer back to it and refuses a moved copy.
final class Gzip {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private(set) var output: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    private var ended = false

    init() {
        stream.initialize(to: z_stream())
        // windowBits 16 + 15: a gzip header and trailer rather than zlib's.
        let rc = deflateInit2_(
            stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
            Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "deflateInit2 failed: \(rc)")
    }

    deinit {
        if !ended { deflateEnd(stream) }
        stream.deallocate()
    }

    func feed(_ bytes: UnsafeRawBufferPointer) { run(bytes, flush: Z_NO_FLUSH) }

    func finish() {
        run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH)
        deflateEnd(stream)
        ended = true
    }

    private func run(_ bytes: UnsafeRawBufferPointer, flush: Int32) {
        guard bytes.count > 0 || flush == Z_FINISH else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(bytes.count)
        var rc = Z_OK
        repeat {
            let produced = chunk.withUnsafeMutableBytes { buffer -> Int in
                stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(buffer.count)
                rc = deflate(stream, flush)
                return buffer.count - Int(stream.pointee.avail_out)
            }
            output += chunk[0..<produced]
        } while stream.pointee.avail_out == 0 || (flush == Z_FINISH && rc == Z_OK)
        stream.pointee.next_in = nil
    }
}
