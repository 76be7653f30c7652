/// Word-at-a-time byte checks (8 bytes per step) for the validator's hottest loops.
enum SWAR {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Every byte in 0x20...0x7E.
    @inline(__always) static func isPrintableASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress, b.count >= 8 else {
            var bad = false
            for c in b { bad = bad || (c &- 0x20) >= 0x5F }
            return !bad
        }
        let raw = UnsafeRawPointer(base)
        // A byte < 0x20 (exact as a yes/no), or a byte > 0x7E (0x7F + 1 or a high bit).
        @inline(__always) func check(_ w: UInt64) -> UInt64 { ((w &- 0x20 &* ones) & ~w) | ((w &+ ones) | w) }
        // The last word overlaps the one before: checking a byte twice changes no answer.
        var bad = check(raw.loadUnaligned(fromByteOffset: b.count &- 8, as: UInt64.self))
        var i = 0
        while i &+ 8 < b.count {
            bad |= check(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i &+= 8
        }
        return bad & highs == 0
    }

    /// (all bytes ASCII, some byte is NUL).
    @inline(__always) static func asciiAndNul(_ b: UnsafeBufferPointer<UInt8>) -> (Bool, Bool) {
        guard let base = b.baseAddress, b.count >= 8 else {
            var bits: UInt8 = 0
            var nul = false
            for c in b {
                bits |= c
                nul = nul || c == 0
            }
            return (bits < 0x80, nul)
        }
        let raw = UnsafeRawPointer(base)
        var w = raw.loadUnaligned(fromByteOffset: b.count &- 8, as: UInt64.self)
        var bits = w
        var zero = (w &- ones) & ~w
        var i = 0
        while i &+ 8 < b.count {
            w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            bits |= w
            zero |= (w &- ones) & ~w
            i &+= 8
        }
        return (bits & highs == 0, zero & highs != 0)
    }

    /// `YYYYMMDD` as (year, month, day) when all 8 bytes are ASCII digits, from one word.
    @inline(__always) static func eightDigits(_ b: UnsafeBufferPointer<UInt8>) -> (Int, Int, Int)? {
        guard b.count == 8, let base = b.baseAddress else { return nil }
        let w = UInt64(littleEndian: UnsafeRawPointer(base).loadUnaligned(as: UInt64.self))
        // No byte below '0' (exact), then no byte of w - '0' above 9 (exact: no borrows left).
        guard (w &- 0x30 &* ones) & ~w & highs == 0 else { return nil }
        let x = w &- 0x30 &* ones
        guard ((x &+ 118 &* ones) | x) & highs == 0 else { return nil }
        @inline(__always) func d(_ k: UInt64) -> Int { Int((x >> (8 * k)) & 0xFF) }
        return (d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3), d(4) * 10 + d(5), d(6) * 10 + d(7))
    }
}
