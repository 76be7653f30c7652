import Glibc

/// An instant, in milliseconds since the Unix epoch (UTC): when a notification was received or
/// says it was sent. Written and read as RFC 3339 (`2026-11-03T10:15:00.250Z`).
///
/// Parsed by hand: the two layouts the platform uses are fixed, and Foundation's date formatters
/// are slow and locale-dependent for a store that a report reads a million lines of.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.milliseconds < b.milliseconds }

    /// The UTC day the instant falls on.
    public var day: Day {
        Day(daysSinceEpoch: Int((milliseconds - floorMod(milliseconds, 86_400_000)) / 86_400_000))
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public var rfc3339: String {
        let ms = floorMod(milliseconds, 86_400_000)
        let d = day
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let frac = ms % 1000
        let fracText = frac < 10 ? "00\(frac)" : frac < 100 ? "0\(frac)" : "\(frac)"
        return "\(d)T\(two(ms / 3_600_000)):\(two(ms / 60_000 % 60)):\(two(ms / 1000 % 60)).\(fracText)Z"
    }

    public var description: String { rfc3339 }

    /// RFC 3339 with its offset (`2023-10-16T11:12:08+02:00`, `…Z`, fractions of a second allowed,
    /// `+0200` too); the guide's `yyyy-MM-dd'T'HH:mm:ssXXX`.
    public init?(rfc3339 s: some StringProtocol) {
        let u = Array(s.utf8)
        guard u.count >= 20, let date = Day(iso: String(decoding: u[0..<10], as: UTF8.self)),
            u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: " "),
            let clock = Self.clock(u, at: 11)
        else { return nil }
        var i = 19
        var fraction: Int64 = 0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < u.count, u[i] &- 48 < 10 {
                if digits < 3 { fraction = fraction * 10 + Int64(u[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            while digits < 3 {
                fraction *= 10
                digits += 1
            }
        }
        guard i < u.count else { return nil }
        var offset: Int64 = 0
        switch u[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard i + 1 == u.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let rest = Array(u[(i + 1)...])
            let digits = rest.count == 5 && rest[2] == UInt8(ascii: ":") ? [rest[0], rest[1], rest[3], rest[4]] : rest
            guard digits.count == 4, digits.allSatisfy({ $0 &- 48 < 10 }) else { return nil }
            let h = Int64(digits[0] - 48) * 10 + Int64(digits[1] - 48)
            let m = Int64(digits[2] - 48) * 10 + Int64(digits[3] - 48)
            guard h < 24, m < 60 else { return nil }
            offset = (h * 60 + m) * 60_000 * (u[i] == UInt8(ascii: "-") ? -1 : 1)
        default: return nil
        }
        milliseconds = Int64(date.daysSinceEpoch) * 86_400_000 + clock + fraction - offset
    }

    /// The guide's example layout, `16/10/2023 11:12:08`, which carries no offset: read as UTC.
    public init?(dayFirst s: some StringProtocol) {
        let u = Array(s.utf8)
        guard u.count == 19, u[2] == UInt8(ascii: "/"), u[5] == UInt8(ascii: "/"), u[10] == UInt8(ascii: " "),
            let date = Day(iso: String(decoding: u[6..<10] + [45] + u[3..<5] + [45] + u[0..<2], as: UTF8.self)),
            let clock = Self.clock(u, at: 11)
        else { return nil }
        milliseconds = Int64(date.daysSinceEpoch) * 86_400_000 + clock
    }

    /// `HH:MM:SS` at `i`, in milliseconds.
    private static func clock(_ u: [UInt8], at i: Int) -> Int64? {
        guard u.count >= i + 8, u[i + 2] == UInt8(ascii: ":"), u[i + 5] == UInt8(ascii: ":") else { return nil }
        var v: [Int64] = []
        for j in [i, i + 3, i + 6] {
            guard u[j] &- 48 < 10, u[j + 1] &- 48 < 10 else { return nil }
            v.append(Int64(u[j] - 48) * 10 + Int64(u[j + 1] - 48))
        }
        guard v[0] < 24, v[1] < 60, v[2] < 60 else { return nil }
        return ((v[0] * 60 + v[1]) * 60 + v[2]) * 1000
    }
}

private func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
    let r = a % b
    return r < 0 ? r + b : r
}
