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
        var plain = true
        for b in s.utf8 where b < 0x20 || b == 0x22 || b == 0x5C || b >= 0x7F {
            plain = false
            break
        }
        if plain {
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

    mutating func string(_ s: String?) {
        if let s { string(s) } else { raw("null") }
    }

    mutating func int<I: BinaryInteger>(_ v: I?) {
        if let v { raw(String(v)) } else { raw("null") }
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
