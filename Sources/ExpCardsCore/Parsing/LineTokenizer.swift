import Glibc

/// Splits one record line of bytes into fields, in place, in a single pass.
///
/// Hand-written rather than a CSV library: the job is one byte-level pass over a reused buffer,
/// with no allocation per line or field, which is what makes a million-line file a fraction of a
/// second. The rules are the format page's reading decisions:
/// - fields separated by `;`; a field may be wrapped in `"`; inside, `""` stands for one `"` and
///   `;` is data;
/// - a line ends at `\n`, `\r\n` or a lone `\r`, in every state: a record never spans lines, so a
///   stray quote cannot swallow the rest of the file (it is reported as an unterminated quote);
/// - a quote inside an unquoted field, or text after a closing quote, is kept and flagged.
///
/// The line end is found first with libc's vectorised memchr; within the line, fields are scanned
/// 8 bytes at a time (SWAR), for `"` alone in quoted ones, for `;` and `"` in the others, never
/// a byte at a time: this is most of what makes `check` several times faster than a CSV module.
struct LineTokenizer {
    /// One field: byte offsets into the buffer, after in-place unescaping of `""`.
    struct Field {
        var start: Int
        var end: Int
        var quoted: Bool
        var defect: Defect
        var count: Int { end - start }
    }

    enum Defect: UInt8 {
        case none
        case unterminatedQuote
        case strayQuote
        case textAfterClosingQuote
    }

    enum Outcome {
        /// A complete line; the next one starts at `next`. `length` excludes the line end.
        case line(next: Int, length: Int)
        /// The line does not end inside the bytes available: read more (or it is too long).
        case needMore
    }

    /// Fields beyond this many are counted, not kept: no record has more than 13.
    static let maxFields = 16

    /// `maxFields` fields, reused for every line (a pointer, not an Array: no uniqueness check
    /// or bounds check per store). Owned: `deallocate()` frees it.
    let fields: UnsafeMutablePointer<Field>
    private(set) var fieldCount = 0

    init() {
        fields = .allocate(capacity: LineTokenizer.maxFields)
        fields.initialize(
            repeating: Field(start: 0, end: 0, quoted: false, defect: .none), count: LineTokenizer.maxFields)
    }

    func deallocate() { fields.deallocate() }

    // SWAR helpers: a word with `b` in every byte, and bit 7 set in each byte of `v` that is
    // zero, exact for the lowest such byte (a borrow only propagates upwards), which is the
    // only one the scan uses.
    @inline(__always) private static func splat(_ b: UInt8) -> UInt64 { 0x0101_0101_0101_0101 &* UInt64(b) }
    @inline(__always) private static func zeroBytes(_ v: UInt64) -> UInt64 {
        (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080
    }

    /// The index of the first `;` or `"` in `buf[start..<end]`, or `end`: 8 bytes at a time.
    @inline(__always)
    private static func separatorOrQuote(_ buf: UnsafeMutablePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var i = start
        let raw = UnsafeRawPointer(buf)
        while i &+ 8 <= end {
            let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let m = zeroBytes(w ^ splat(0x22)) | zeroBytes(w ^ splat(0x3B))
            if m != 0 { return i &+ m.trailingZeroBitCount >> 3 }
            i &+= 8
        }
        while i < end {
            let c = buf[i]
            if c == 0x22 || c == 0x3B { return i }
            i &+= 1
        }
        return end
    }

    /// The index of the first `"` in `buf[start..<end]`, or nil: 8 bytes at a time (fields are
    /// short: a call to memchr per field costs more than it saves).
    @inline(__always)
    private static func quote(_ buf: UnsafeMutablePointer<UInt8>, from start: Int, to end: Int) -> Int? {
        var i = start
        let raw = UnsafeRawPointer(buf)
        while i &+ 8 <= end {
            let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let m = zeroBytes(w ^ splat(0x22))
            if m != 0 { return i &+ m.trailingZeroBitCount >> 3 }
            i &+= 8
        }
        while i < end {
            if buf[i] == 0x22 { return i }
            i &+= 1
        }
        return nil
    }

    /// The index of the first `byte` in `buf[start..<end]`, or nil: libc's vectorised memchr.
    @inline(__always)
    private static func find(_ byte: UInt8, _ buf: UnsafeMutablePointer<UInt8>, from start: Int, to end: Int) -> Int? {
        guard start < end, let p = memchr(buf + start, Int32(byte), end - start) else { return nil }
        return UnsafeMutableRawPointer(buf).distance(to: p)
    }

    /// Tokenizes the line starting at `start` in `buf[start..<end]`. `atEOF`: no more bytes will
    /// come, so a line without its line end is complete.
    ///
    /// The line's end is found first (memchr for `\n`, then for a `\r` before it), so the field
    /// scans look for `"` and `;` only. Both are searched in windows that double from 512 bytes:
    /// in a file whose lines end with a lone `\r`, a search for `\n` to the buffer's end for
    /// every line would make the scan quadratic.
    mutating func tokenize(_ buf: UnsafeMutablePointer<UInt8>, start: Int, end: Int, atEOF: Bool) -> Outcome {
        var lineEnd = end
        var from = start
        var window = 512
        while from < end {
            let to = min(end, from + window)
            if let lf = LineTokenizer.find(0x0A, buf, from: from, to: to) {
                lineEnd = LineTokenizer.find(0x0D, buf, from: from, to: lf) ?? lf
                break
            }
            if let cr = LineTokenizer.find(0x0D, buf, from: from, to: to) {
                lineEnd = cr
                break
            }
            from = to
            window &*= 2
        }
        let next: Int
        if lineEnd == end {
            if !atEOF { return .needMore }
            next = end
        } else if buf[lineEnd] == 0x0D {
            // \r\n, or a lone \r; at the buffer's end, the next byte decides.
            if lineEnd + 1 < end {
                next = buf[lineEnd + 1] == 0x0A ? lineEnd + 2 : lineEnd + 1
            } else {
                if !atEOF { return .needMore }
                next = lineEnd + 1
            }
        } else {
            next = lineEnd + 1
        }
        fieldCount = 0
        var i = start
        while true {
            var field = Field(start: i, end: i, quoted: false, defect: .none)
            if i < lineEnd && buf[i] == 0x22 {
                // Quoted field: copy down over each doubled quote (in place, only once one occurs).
                field.quoted = true
                i &+= 1
                field.start = i
                var w = i
                var closed = false
                while let q = LineTokenizer.quote(buf, from: i, to: lineEnd) {
                    if w != i && q > i { memmove(buf + w, buf + i, q - i) }  // regions overlap
                    w &+= q &- i
                    i = q
                    if i &+ 1 < lineEnd && buf[i &+ 1] == 0x22 {
                        buf[w] = 0x22
                        w &+= 1
                        i &+= 2
                        continue
                    }
                    closed = true
                    break
                }
                if closed {
                    field.end = w
                    i &+= 1
                    // After the closing quote: a separator or the line end.
                    if i < lineEnd && buf[i] != 0x3B {
                        field.defect = .textAfterClosingQuote
                        i = LineTokenizer.find(0x3B, buf, from: i, to: lineEnd) ?? lineEnd
                    }
                } else {
                    if w != i && lineEnd > i { memmove(buf + w, buf + i, lineEnd - i) }
                    field.end = w &+ (lineEnd &- i)
                    i = lineEnd
                    field.defect = .unterminatedQuote
                }
            } else {
                while true {
                    i = LineTokenizer.separatorOrQuote(buf, from: i, to: lineEnd)
                    if i < lineEnd && buf[i] == 0x22 {
                        field.defect = .strayQuote
                        i &+= 1
                        continue
                    }
                    break
                }
                field.end = i
            }
            if fieldCount < LineTokenizer.maxFields { fields[fieldCount] = field }
            fieldCount &+= 1
            if i >= lineEnd { return .line(next: next, length: lineEnd - start) }
            i &+= 1  // the `;`
        }
    }
}
