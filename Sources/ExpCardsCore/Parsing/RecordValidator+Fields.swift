/// Field access and the checks of each kind of field, on the bytes in the read buffer.
extension RecordValidator {
    func bytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        let f = fields[i]
        return UnsafeBufferPointer(start: buf + f.start, count: f.count)
    }

    func isEmpty(_ i: Int) -> Bool { fields[i].count == 0 }

    /// `n..max` (or exactly `n<max>` when `exact`): ASCII digits, at least one.
    mutating func digits(_ i: Int, _ fieldName: String, max: Int, exact: Bool = false) -> Int64? {
        let b = bytes(i)
        let ok = exact ? b.count == max : (1...max).contains(b.count)
        var value: Int64 = 0
        var bad = false
        for c in b {
            bad = bad || !isDigit(c)
            value = value &* 10 &+ Int64(c &- 48)
        }
        guard ok, !bad else {
            fieldProblem(i, fieldName, expected: exact ? "\(max) digits" : "1 to \(max) digits")
            return nil
        }
        return value
    }

    mutating func date(_ i: Int, _ fieldName: String) -> Day? {
        guard let (y, m, dd) = SWAR.eightDigits(bytes(i)), let d = Day(year: y, month: m, day: dd)
        else {
            fieldProblem(i, fieldName, expected: "a real date YYYYMMDD")
            return nil
        }
        return d
    }

    mutating func time(_ i: Int, _ fieldName: String) -> TimeOfDay? {
        let b = bytes(i)
        guard b.count == 6, allDigits(b),
            let t = TimeOfDay(hour: number(b[0..<2]), minute: number(b[2..<4]), second: number(b[4..<6]))
        else {
            fieldProblem(i, fieldName, expected: "a time HHMMSS")
            return nil
        }
        return t
    }

    mutating func environment(_ i: Int) -> Environment? {
        let b = bytes(i)
        guard b.count == 1, let e = Environment(code: b[0]) else {
            fieldProblem(i, "environment", expected: "T (test) or P (production)")
            return nil
        }
        return e
    }

    /// Reductions without an early exit, so that the compiler vectorises them.
    @inline(__always) func allDigits(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var bad = false
        for c in b { bad = bad || !isDigit(c) }
        return !bad
    }

    /// Whether the bytes are valid UTF-8: shortest forms, no surrogates, at most U+10FFFF (the
    /// Unicode standard's table 3-7). Hand-written: validating without building a String keeps
    /// `check` allocation-free, and the ranges of the second byte replace decoding the scalar.
    static func isUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = b.count
        @inline(__always) func continuation(_ k: Int) -> Bool { b[k] & 0xC0 == 0x80 }
        while i < n {
            let c = b[i]
            if c < 0x80 {
                i &+= 1
                continue
            }
            switch c {
            case 0xC2...0xDF:
                guard i + 1 < n, continuation(i + 1) else { return false }
                i &+= 2
            case 0xE0...0xEF:
                guard i + 2 < n else { return false }
                let c1 = b[i + 1]
                let low: UInt8 = c == 0xE0 ? 0xA0 : 0x80
                let high: UInt8 = c == 0xED ? 0x9F : 0xBF
                guard c1 >= low, c1 <= high, continuation(i + 2) else { return false }
                i &+= 3
            case 0xF0...0xF4:
                guard i + 3 < n else { return false }
                let c1 = b[i + 1]
                let low: UInt8 = c == 0xF0 ? 0x90 : 0x80
                let high: UInt8 = c == 0xF4 ? 0x8F : 0xBF
                guard c1 >= low, c1 <= high, continuation(i + 2), continuation(i + 3) else { return false }
                i &+= 4
            default:
                return false
            }
        }
        return true
    }

    /// `ans..max`: 1 to `max` printable ASCII characters (aliases, subscription ids, rules).
    mutating func identifier(_ i: Int, _ fieldName: String, max: Int) -> Bool {
        let b = bytes(i)
        guard (1...max).contains(b.count), SWAR.isPrintableASCII(b) else {
            fieldProblem(i, fieldName, expected: "1 to \(max) printable ASCII characters")
            return false
        }
        return true
    }

    /// `an..max`: up to `max` characters of text, UTF-8 or else Latin-1; may be empty. A NUL byte
    /// is a defect; other control characters are kept (reports escape them). Returns whether the
    /// text is read as ISO-8859-1, or nil when it is wrong.
    mutating func text(_ i: Int, _ fieldName: String, max: Int) -> Bool? {
        let b = bytes(i)
        let (ascii, nul) = SWAR.asciiAndNul(b)
        if nul {
            fieldProblem(i, fieldName, expected: "text without NUL bytes")
            return nil
        }
        var characters = b.count
        var latin1 = false
        if !ascii {
            if RecordValidator.isUTF8(b) {
                // Scalars are the bytes that do not continue one; counted only when it matters.
                if characters > max { characters = b.reduce(0) { $0 &+ ($1 & 0xC0 == 0x80 ? 0 : 1) } }
            } else {
                // Not UTF-8: read as ISO-8859-1, where every byte is the scalar of the same value.
                latin1Fields += 1
                latin1 = true
            }
        }
        guard characters <= max else {
            fieldProblem(i, fieldName, expected: "at most \(max) characters (\(characters))")
            return nil
        }
        return latin1
    }
}
