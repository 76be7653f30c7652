/// A minimal streaming JSON writer: bytes appended to a buffer that is handed to `flush` in
/// large pieces, so a report of a million subscriptions never exists whole in memory.
///
/// Hand-written because Foundation's JSONEncoder builds the whole document tree first: measured
/// here on a 1,000,000-subscription report it took minutes and gigabytes.
struct JSONWriter {
    private var buffer: [UInt8] = []
    private let flushAt: Int
    private let flush: ([UInt8]) -> Void

    init(flushAt: Int = 1 << 20, flush: @escaping ([UInt8]) -> Void) {
        self.flushAt = flushAt
        self.flush = flush
        buffer.reserveCapacity(flushAt + 4096)
    }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { buffer.append(contentsOf: $0) }
        if buffer.count >= flushAt { finish() }
    }

    mutating func raw(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= flushAt { finish() }
    }

    /// A JSON string: `"`, `\`, controls and the scalars that act on a terminal's display (DEL,
    /// C1, bidi controls, line separators) escaped as `\uXXXX`; all else as UTF-8.
    mutating func string(_ s: String) {
        buffer.append(UInt8(ascii: "\""))
        if JSONWriter.isPlain(s) {
            buffer.append(contentsOf: s.utf8)
        } else {
            for scalar in s.unicodeScalars {
                switch scalar.value {
                case 0x22: buffer.append(contentsOf: [0x5C, 0x22])
                case 0x5C: buffer.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: buffer.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: buffer.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: buffer.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                default:
                    if needsEscape(scalar) {
                        let hex = String(scalar.value, radix: 16, uppercase: false)
                        buffer.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
                    } else {
                        buffer.append(contentsOf: String(scalar).utf8)
                    }
                }
            }
        }
        buffer.append(UInt8(ascii: "\""))
        if buffer.count >= flushAt { finish() }
    }

    /// True when the UTF-8 bytes need no escape: no control, quote or backslash, and none of the
    /// multi-byte display controls (C1 as C2 80–9F, U+061C as D8 9C, U+200E/F, U+2028–202E and
    /// U+2066–2069 as E2 80/81 xx). Checked on bytes: no scalar decoding on the common path.
    static func isPlain(_ s: String) -> Bool {
        var previous: UInt8 = 0
        var beforePrevious: UInt8 = 0
        for b in s.utf8 {
            if b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F { return false }
            if previous == 0xC2 && b >= 0x80 && b <= 0x9F { return false }
            if previous == 0xD8 && b == 0x9C { return false }
            if beforePrevious == 0xE2 && (previous == 0x80 || previous == 0x81) { return false }
            beforePrevious = previous
            previous = b
        }
        return true
    }

    /// A day as `"YYYY-MM-DD"`, written digit by digit.
    mutating func day(_ d: Day?) {
        guard let d else { return raw("null") }
        func digits(_ v: Int, _ n: Int) {
            var p = 1
            for _ in 1..<n { p *= 10 }
            var v = v
            while p > 0 {
                buffer.append(UInt8(48 + v / p))
                v %= p
                p /= 10
            }
        }
        buffer.append(UInt8(ascii: "\""))
        digits(d.year, 4)
        buffer.append(UInt8(ascii: "-"))
        digits(d.month, 2)
        buffer.append(UInt8(ascii: "-"))
        digits(d.day, 2)
        buffer.append(UInt8(ascii: "\""))
    }

    mutating func string(_ s: String?) {
        if let s { string(s) } else { raw("null") }
    }

    /// An integer written digit by digit (no String per number).
    mutating func int<I: BinaryInteger>(_ v: I?) {
        guard let v else { return raw("null") }
        var magnitude = UInt64(truncatingIfNeeded: Int64(v).magnitude)
        if v < 0 { buffer.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[count] = UInt8(48 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for i in stride(from: count - 1, through: 0, by: -1) { buffer.append(d[i]) }
        }
        if buffer.count >= flushAt { finish() }
    }

    /// `"key": ` (keys are ASCII identifiers).
    mutating func key(_ k: StaticString) {
        buffer.append(UInt8(ascii: "\""))
        k.withUTF8Buffer { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":"), UInt8(ascii: " ")])
    }

    /// `{"EUR": 123, ...}`, keys sorted.
    mutating func amounts(_ a: [String: Int64]) {
        raw("{")
        for (i, (code, amount)) in a.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { raw(", ") }
            string(code)
            raw(": ")
            int(amount)
        }
        raw("}")
    }

    mutating func strings(_ list: [String]) {
        raw("[")
        for (i, s) in list.enumerated() {
            if i > 0 { raw(", ") }
            string(s)
        }
        raw("]")
    }

    /// Hands what is buffered to `flush`.
    mutating func finish() {
        guard !buffer.isEmpty else { return }
        flush(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
