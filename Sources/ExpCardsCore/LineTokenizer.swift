#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
/// The scans look at 8 bytes at a time (SWAR: a word compare against each delimiter) rather than
/// a byte at a time: fields are 10 to 50 bytes, and this halves the tokenizer's share of `check`.
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
        fields.initialize(repeating: Field(start: 0, end: 0, quoted: false, defect: .none), count: LineTokenizer.maxFields)
    }

    func deallocate() { fields.deallocate() }

    // SWAR helpers: a word with `b` in every byte, and the lowest byte of `w` equal to `b`.
    @inline(__always) private static func splat(_ b: UInt8) -> UInt64 { 0x0101_0101_0101_0101 &* UInt64(b) }
    /// Bit 7 of each byte set where the byte is zero; exact for the lowest such byte (a borrow only
    /// propagates upwards), which is the only one the scans use.
    @inline(__always) private static func zeroBytes(_ v: UInt64) -> UInt64 {
        (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080
    }

    /// The index of the first byte in `buf[i..<end]` that is `"`, `\n`, `\r`, or (when
    /// `semicolon`) `;`; `end` if none.
    @inline(__always)
    private static func scan(_ buf: UnsafeMutablePointer<UInt8>, from start: Int, to end: Int, semicolon: Bool) -> Int {
        var i = start
        let raw = UnsafeRawPointer(buf)
        while i + 8 <= end {
            let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            var m = zeroBytes(w ^ splat(0x22)) | zeroBytes(w ^ splat(0x0A)) | zeroBytes(w ^ splat(0x0D))
            if semicolon { m |= zeroBytes(w ^ splat(0x3B)) }
            if m != 0 { return i + m.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < end {
            let c = buf[i]
            if c == 0x22 || c == 0x0A || c == 0x0D || (semicolon && c == 0x3B) { return i }
            i += 1
        }
        return end
    }

    /// Tokenizes the line starting at `start` in `buf[start..<end]`. `atEOF`: no more bytes will
    /// come, so a line without its line end is complete.
    mutating func tokenize(_ buf: UnsafeMutablePointer<UInt8>, start: Int, end: Int, atEOF: Bool) -> Outcome {
        fieldCount = 0
        var i = start
        while true {
            var field = Field(start: i, end: i, quoted: false, defect: .none)
            if i < end && buf[i] == 0x22 {
                // Quoted field: copy down over each doubled quote (in place, only once one occurs).
                field.quoted = true
                i += 1
                field.start = i
                var w = i
                var closed = false
                while i < end {
                    let j = LineTokenizer.scan(buf, from: i, to: end, semicolon: false)
                    if w != i && j > i { memmove(buf + w, buf + i, j - i) }  // regions overlap
                    w += j - i
                    i = j
                    if i >= end { break }
                    if buf[i] != 0x22 { break }  // a line end: the quote is not closed
                    if i + 1 < end && buf[i + 1] == 0x22 {
                        buf[w] = 0x22
                        w += 1
                        i += 2
                        continue
                    }
                    if i + 1 >= end && !atEOF { return .needMore }
                    closed = true
                    break
                }
                if i >= end && !atEOF { return .needMore }
                field.end = w
                if closed {
                    i += 1
                    // After the closing quote: a separator or the line end.
                    if i < end, buf[i] != 0x3B, buf[i] != 0x0A, buf[i] != 0x0D {
                        field.defect = .textAfterClosingQuote
                        while i < end, buf[i] != 0x3B, buf[i] != 0x0A, buf[i] != 0x0D { i += 1 }
                        if i >= end && !atEOF { return .needMore }
                    }
                } else {
                    field.defect = .unterminatedQuote
                }
            } else {
                while true {
                    i = LineTokenizer.scan(buf, from: i, to: end, semicolon: true)
                    if i < end && buf[i] == 0x22 {
                        field.defect = .strayQuote
                        i += 1
                        continue
                    }
                    break
                }
                if i >= end && !atEOF { return .needMore }
                field.end = i
            }
            if fieldCount < LineTokenizer.maxFields { fields[fieldCount] = field }
            fieldCount += 1
            if i >= end {
                return .line(next: i, length: i - start)
            }
            switch buf[i] {
            case 0x3B:
                i += 1
            case 0x0A:
                return .line(next: i + 1, length: i - start)
            default:  // \r, alone or before \n
                if i + 1 < end { return .line(next: buf[i + 1] == 0x0A ? i + 2 : i + 1, length: i - start) }
                if !atEOF { return .needMore }
                return .line(next: i + 1, length: i - start)
            }
        }
    }
}
