/// A minimal streaming JSON writer: bytes appended to a buffer that is handed to `flush` in
/// large pieces, so a report of a million subscriptions never exists whole in memory.
///
/// Hand-written because Foundation's JSONEncoder builds the whole document tree first, which for
/// a million subscriptions costs minutes and gigabytes (BENCHMARKS.md).
struct JSONWriter {
    let out: ByteOutput

    init(flushAt: Int = 1 << 20, flush: @escaping (UnsafeRawBufferPointer) -> Void) {
        out = ByteOutput(flushAt: flushAt, sink: flush)
    }

    func raw(_ s: StaticString) {
        out.append(s)
        out.flushIfFull()
    }

    func raw(_ s: String) {
        out.append(s)
        out.flushIfFull()
    }

    /// Bytes already in JSON form (a pre-encoded string).
    func raw(bytes: [UInt8]) {
        out.append(bytes)
        out.flushIfFull()
    }

    /// A JSON string: `"`, `\`, controls and the scalars that act on a terminal's display (DEL,
    /// C1, bidi controls, line separators) escaped as `\uXXXX`; all else as UTF-8.
    func string(_ s: String) {
        var s = s
        s.withUTF8 { string(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// The same from UTF-8 bytes: copied as they are unless some byte needs a look.
    func string(bytes: UnsafeRawBufferPointer) {
        out.append(UInt8(ascii: "\""))
        if JSONWriter.isPlain(bytes) {
            out.append(bytes)
        } else {
            for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
                switch scalar.value {
                case 0x22: out.append("\\\"")
                case 0x5C: out.append("\\\\")
                case 0x0A: out.append("\\n")
                case 0x0D: out.append("\\r")
                case 0x09: out.append("\\t")
                default:
                    if needsEscape(scalar) {
                        let hex = String(scalar.value, radix: 16, uppercase: false)
                        out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                    } else {
                        out.append(String(scalar))
                    }
                }
            }
        }
        out.append(UInt8(ascii: "\""))
        out.flushIfFull()
    }

    /// True when the UTF-8 bytes need no escape: no control, quote or backslash, and none of the
    /// multi-byte display controls (C1 as C2 80–9F, U+061C as D8 9C, U+200E/F, U+2028–202E and
    /// U+2066–2069 as E2 80/81 xx). Checked on bytes: no scalar decoding on the common path.
    static func isPlain(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Most text has none of the bytes that need a closer look (controls, `"`, `\`, DEL and
        // any non-ASCII byte): checked 8 bytes at a time, with the classic SWAR tests.
        var suspicious = false
        var i = 0
        let n = bytes.count
        if let p = bytes.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            @inline(__always) func hasZero(_ v: UInt64) -> Bool { (v &- ones) & ~v & highs != 0 }
            while i + 8 <= n {
                let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if w & highs != 0 || (w &- ones &* 0x20) & ~w & highs != 0 || hasZero(w ^ (ones &* 0x22))
                    || hasZero(w ^ (ones &* 0x5C)) || hasZero(w ^ (ones &* 0x7F))
                {
                    suspicious = true
                    break
                }
                i += 8
            }
        }
        if !suspicious {
            while i < n {
                let b = bytes[i]
                if b < 0x20 || b == 0x22 || b == 0x5C || b >= 0x7F {
                    suspicious = true
                    break
                }
                i += 1
            }
        }
        if !suspicious { return true }
        // Non-ASCII bytes: only C2, D8 and E2 can start a display control.
        var lead = false
        for b in bytes where b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F || b == 0xC2 || b == 0xD8 || b == 0xE2 {
            lead = true
            break
        }
        if !lead { return true }
        var previous: UInt8 = 0
        var beforePrevious: UInt8 = 0
        for b in bytes {
            if b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F { return false }
            if previous == 0xC2 && b >= 0x80 && b <= 0x9F { return false }
            if previous == 0xD8 && b == 0x9C { return false }
            if beforePrevious == 0xE2 && (previous == 0x80 || previous == 0x81) { return false }
            beforePrevious = previous
            previous = b
        }
        return true
    }

    static func isPlain(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { isPlain(UnsafeRawBufferPointer($0)) }
    }

    /// A string's JSON form, to write many times with `raw(bytes:)`.
    static func encoded(_ s: String?) -> [UInt8] {
        var bytes: [UInt8] = []
        let w = JSONWriter(flushAt: Int.max / 2) { bytes += $0 }
        w.string(s)
        w.finish()
        return bytes
    }

    /// A day as `"YYYY-MM-DD"`.
    func day(_ d: Day?) {
        guard let d else { return raw("null") }
        day(days: d.days32)
    }

    /// A day stored as days since the epoch (`Day.none32`: null).
    func day(days: Int32) {
        guard days != Day.none32 else { return raw("null") }
        out.append(UInt8(ascii: "\""))
        out.append(day: days)
        out.append(UInt8(ascii: "\""))
    }

    func string(_ s: String?) {
        if let s { string(s) } else { raw("null") }
    }

    /// An integer written digit by digit (no String per number).
    func int<I: BinaryInteger>(_ v: I?) {
        guard let v else { return raw("null") }
        out.append(int: Int64(v))
        out.flushIfFull()
    }

    /// `"key": ` (keys are ASCII identifiers).
    func key(_ k: StaticString) {
        out.append(UInt8(ascii: "\""))
        out.append(k)
        out.append("\": ")
    }

    /// `{"EUR": 123, ...}`, keys sorted.
    func amounts(_ a: [String: Int64]) {
        raw("{")
        for (i, (code, amount)) in a.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { raw(", ") }
            string(code)
            raw(": ")
            int(amount)
        }
        raw("}")
    }

    func strings(_ list: [String]) {
        raw("[")
        for (i, s) in list.enumerated() {
            if i > 0 { raw(", ") }
            string(s)
        }
        raw("]")
    }

    /// Hands what is buffered to `flush`.
    func finish() { out.flush() }
}
