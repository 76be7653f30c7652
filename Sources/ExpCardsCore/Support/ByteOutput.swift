/// Output bytes gathered in one buffer and handed to a sink in large pieces (about `flushAt`
/// bytes): the report formats write hundreds of megabytes, a few bytes at a time.
///
/// An unsafe buffer rather than `[UInt8]` because appending is the formats' inner loop; every
/// write goes through `reserve`, so `count + n <= capacity` holds by construction.
final class ByteOutput {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0
    /// Where the formats fold the values of `ReportStore.readAhead`, so its loads are not optimised away.
    var readAhead: UInt64 = 0
    let flushAt: Int
    private let sink: (UnsafeRawBufferPointer) -> Void

    init(flushAt: Int = 1 << 20, sink: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.flushAt = max(1, flushAt)
        capacity = min(self.flushAt, 1 << 20) + 4096
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        self.sink = sink
    }

    deinit { base.deallocate() }

    @inline(__always) func reserve(_ n: Int) {
        if count + n > capacity { grow(n) }
    }

    private func grow(_ n: Int) {
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: max(capacity * 2, count + n))
        fresh.update(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = max(capacity * 2, count + n)
    }

    @inline(__always) func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always) func append(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0, let source = bytes.baseAddress else { return }
        reserve(n)
        let target = base + count
        if n <= 16 {
            // Keys, separators, short fields: a call to memmove costs more than the copy.
            let from = source.assumingMemoryBound(to: UInt8.self)
            var i = 0
            while i < n {
                target[i] = from[i]
                i += 1
            }
        } else {
            UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: n)
        }
        count += n
    }

    func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    @inline(__always) func append(_ s: StaticString) {
        append(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    func append(_ s: String) {
        var s = s
        s.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    func append(spaces n: Int) {
        guard n > 0 else { return }
        reserve(n)
        (base + count).initialize(repeating: 0x20, count: n)
        count += n
    }

    /// A decimal integer, digit by digit (no String per number).
    func append(int v: Int64) {
        reserve(20)
        var magnitude = v.magnitude
        if v < 0 {
            base[count] = UInt8(ascii: "-")
            count += 1
        }
        var digits = 1
        var p: UInt64 = 10
        while digits < 20, magnitude >= p {
            digits += 1
            if p > UInt64.max / 10 { break }
            p *= 10
        }
        var i = count + digits - 1
        repeat {
            base[i] = UInt8(48 + magnitude % 10)
            magnitude /= 10
            i -= 1
        } while magnitude > 0
        count += digits
    }

    /// `YYYY-MM-DD` of a day given as days since the epoch.
    func append(day days: Int32) {
        let d = Day(daysSinceEpoch: Int(days))
        reserve(10)
        var y = d.year
        for i in stride(from: 3, through: 0, by: -1) {
            base[count + i] = UInt8(48 + y % 10)
            y /= 10
        }
        base[count + 4] = UInt8(ascii: "-")
        base[count + 5] = UInt8(48 + d.month / 10)
        base[count + 6] = UInt8(48 + d.month % 10)
        base[count + 7] = UInt8(ascii: "-")
        base[count + 8] = UInt8(48 + d.day / 10)
        base[count + 9] = UInt8(48 + d.day % 10)
        count += 10
    }

    /// Minor units as `units.cents` with `minorDigits` decimals (as `Currency.format`), the
    /// decimal point being `point`.
    func append(minor: Int64, minorDigits: Int, point: UInt8 = UInt8(ascii: ".")) {
        guard minorDigits > 0 else { return append(int: minor) }
        var divisor: UInt64 = 1
        for _ in 0..<minorDigits { divisor *= 10 }
        let magnitude = minor.magnitude
        if minor < 0 { append(UInt8(ascii: "-")) }
        append(int: Int64(magnitude / divisor))
        append(point)
        var cents = magnitude % divisor
        reserve(minorDigits)
        for i in stride(from: minorDigits - 1, through: 0, by: -1) {
            base[count + i] = UInt8(48 + cents % 10)
            cents /= 10
        }
        count += minorDigits
    }

    /// The bytes written since `start` (a `count` read earlier), while nothing was flushed.
    func withBytes<R>(from start: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        precondition(start >= 0 && start <= count)
        return body(UnsafeRawBufferPointer(start: base + start, count: count - start))
    }

    /// Drops what was written since `start` (see `withBytes`).
    func truncate(to start: Int) {
        precondition(start >= 0 && start <= count)
        count = start
    }

    @inline(__always) func flushIfFull() {
        if count >= flushAt { flush() }
    }

    /// Hands what is buffered to the sink.
    func flush() {
        guard count > 0 else { return }
        sink(UnsafeRawBufferPointer(start: base, count: count))
        count = 0
    }
}
