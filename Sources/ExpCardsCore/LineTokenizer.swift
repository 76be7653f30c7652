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

    private(set) var fields: [Field] = Array(repeating: Field(start: 0, end: 0, quoted: false, defect: .none), count: maxFields)
    private(set) var fieldCount = 0

    /// Byte classes for the unquoted scan: 1 = `;`, `\n`, `\r` or `"`.
    private static let special: [Bool] = (0..<256).map { [0x3B, 0x0A, 0x0D, 0x22].contains($0) }

    /// Tokenizes the line starting at `start` in `buf[start..<end]`. `atEOF`: no more bytes will
    /// come, so a line without its line end is complete.
    mutating func tokenize(_ buf: UnsafeMutablePointer<UInt8>, start: Int, end: Int, atEOF: Bool) -> Outcome {
        fieldCount = 0
        var i = start
        let special = LineTokenizer.special
        return special.withUnsafeBufferPointer { table -> Outcome in
            while true {
                var field = Field(start: i, end: i, quoted: false, defect: .none)
                if i < end && buf[i] == 0x22 {
                    // Quoted field: copy down over each doubled quote (in place, only when one occurs).
                    field.quoted = true
                    i += 1
                    field.start = i
                    var w = i
                    var closed = false
                    while i < end {
                        let c = buf[i]
                        if c == 0x22 {
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
                        if c == 0x0A || c == 0x0D { break }
                        if w != i { buf[w] = c }
                        w += 1
                        i += 1
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
                    while i < end {
                        if table[Int(buf[i])] {
                            if buf[i] != 0x22 { break }
                            field.defect = .strayQuote
                        }
                        i += 1
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
}
