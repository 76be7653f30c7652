/// The distinct aliases of a shop file, for the trailer's alias count: 64-bit hashes of the
/// alias bytes, appended as they come and counted once at the end by sorting.
///
/// Hand-written rather than `Set<Int>` + `Hasher`: SipHash twice per alias (its bytes, then the
/// Int) and a cache and TLB miss per insert into any table of a million entries would dominate
/// `check`'s time, while appending is sequential and one sort at the end costs a few
/// milliseconds (BENCHMARKS.md). The hash mixes 8 bytes at a time, keyed
/// per process (a file cannot be crafted to collide). Two aliases whose hashes collide would be
/// counted once: at 10^6 aliases the chance is about 3 in 10^8, and the count is a coherence
/// check, not data. Memory is bounded: the list is deduplicated when it fills, and past `limit`
/// distinct aliases (the field's 6 digits) the count cannot match anyway and no more are kept.
final class DistinctAliases {
    /// The trailer's field has 6 digits.
    static let limit = 999_999
    private static let seed = UInt64.random(in: .min ... .max)
    /// Counting stops past this many distinct aliases.
    let limit: Int
    /// Twice the limit: at most 16 MB, whatever the file.
    private let capacity: Int
    private var hashes: UnsafeMutablePointer<UInt64>?
    private var stored = 0
    /// The first `sortedPrefix` hashes are sorted and distinct.
    private var sortedPrefix = 0
    private var overflow = false

    init(limit: Int = DistinctAliases.limit) {
        self.limit = limit
        capacity = 2 * (limit + 1)
    }

    deinit { hashes?.deallocate() }

    @inline(__always) private static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = seed ^ UInt64(b.count) &* 0x9E37_79B9_7F4A_7C15
        guard let base = b.baseAddress else { return mix(h) }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= b.count {
            h = mix(h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        if i < b.count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < b.count {
                tail |= UInt64(b[i]) << shift
                shift += 8
                i += 1
            }
            h = mix(h ^ tail)
        }
        return h
    }

    @inline(__always) func insert(_ alias: UnsafeBufferPointer<UInt8>) {
        if overflow { return }
        if stored == capacity { compact() }
        if overflow { return }
        if hashes == nil {
            hashes = .allocate(capacity: capacity)
        }
        hashes![stored] = DistinctAliases.hash(alias)
        stored += 1
    }

    /// Adds the hashes `other` holds: a linear merge when both are sorted (`compact`).
    func absorb(_ other: DistinctAliases) {
        other.compact()
        guard let theirs = other.hashes else { return }
        if let mine = hashes, sortedPrefix == stored, !overflow, !other.overflow, stored + other.stored <= capacity {
            let merged = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
            var i = 0
            var j = 0
            var w = 0
            while i < stored || j < other.stored {
                let v: UInt64
                if j == other.stored || (i < stored && mine[i] <= theirs[j]) {
                    v = mine[i]
                    i += 1
                } else {
                    v = theirs[j]
                    j += 1
                }
                if w == 0 || merged[w - 1] != v {
                    merged[w] = v
                    w += 1
                }
            }
            mine.deallocate()
            hashes = merged
            stored = w
            sortedPrefix = w
            if w > limit { overflow = true }
            return
        }
        for k in 0..<other.stored {
            if overflow { return }
            if stored == capacity { compact() }
            if overflow { return }
            if hashes == nil { hashes = .allocate(capacity: capacity) }
            hashes![stored] = theirs[k]
            stored += 1
        }
        if other.overflow { overflow = true }
    }

    /// Distinct aliases; more than `limit` when there are more.
    var count: Int {
        compact()
        return overflow ? limit + 1 : stored
    }

    /// Sorts and deduplicates what is stored: one counting pass and one scatter by the top 16
    /// bits, then each bucket (about 15 hashes at a million, they are uniform) sorted in place
    /// by insertion and written back without its duplicates. Two sequential passes instead of the
    /// eight of a full radix sort.
    func compact() {
        guard let hashes, stored > sortedPrefix else { return }
        let n = stored
        let buckets = 1 << 16
        let starts = UnsafeMutablePointer<Int>.allocate(capacity: buckets + 1)
        defer { starts.deallocate() }
        starts.initialize(repeating: 0, count: buckets + 1)
        for k in 0..<n { starts[Int(hashes[k] >> 48) + 1] += 1 }
        for b in 0..<buckets { starts[b + 1] += starts[b] }
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
        defer { scratch.deallocate() }
        let next = UnsafeMutablePointer<Int>.allocate(capacity: buckets)
        defer { next.deallocate() }
        next.initialize(from: starts, count: buckets)
        for k in 0..<n {
            let v = hashes[k]
            let b = Int(v >> 48)
            scratch[next[b]] = v
            next[b] += 1
        }
        var w = 0
        for b in 0..<buckets {
            let lo = starts[b]
            let hi = starts[b + 1]
            guard lo < hi else { continue }
            // Insertion sort of the bucket.
            for k in (lo + 1)..<max(hi, lo + 1) {
                let v = scratch[k]
                var j = k
                while j > lo && scratch[j - 1] > v {
                    scratch[j] = scratch[j - 1]
                    j -= 1
                }
                scratch[j] = v
            }
            for k in lo..<hi where k == lo || scratch[k] != scratch[k - 1] {
                hashes[w] = scratch[k]
                w += 1
            }
        }
        stored = w
        sortedPrefix = w
        if w > limit { overflow = true }
    }
}
