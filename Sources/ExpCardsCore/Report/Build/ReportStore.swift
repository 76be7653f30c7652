import Glibc

/// The bytes and fixed-size records a report is made of: what `ReportBuilder` fills and every
/// format reads.
///
/// Strings per field would cost several times the input for a million subscriptions, so every
/// text is kept once, as bytes in a few growing arrays, and aliases and subscriptions are small
/// records pointing into them; `ExpiryReport.aliases`/`subscriptions` build the public value
/// types only when an element is asked for (figures in BENCHMARKS.md).
///
/// Immutable once built (every property is a `let`), hence `Sendable`.
final class ReportStore: Sendable {
    /// Alias bytes, interned: an alias's id is its index in `aliases`.
    let aliasKeys: ByteInterner
    let aliases: [AliasRecord]
    /// Names and e-mails (UTF-8), pointed to by `AliasRecord.textOffset`.
    let text: [UInt8]
    let subscriptions: [SubscriptionRecord]
    /// Subscription ids followed by their recurrence counters.
    let subscriptionText: [UInt8]
    /// Rule texts, interned; `ruleResults[id]` is the rule parsed once.
    let rules: ByteInterner
    let ruleResults: [Result<RecurrenceRule, RecurrenceRuleError>]
    /// Shop ids by shop index, and the currency of each shop.
    let shops: [String]
    let shopCurrencies: [Currency]
    /// Shop sets by id (an alias's shops), each sorted by shop id; set 0 is the empty set.
    let shopSets: [[String]]
    /// Alias ids in report order (status, expiry, alias), and subscription indices in report
    /// order (shop, first charge after expiry, alias, subscription id).
    let aliasOrder: [UInt32]
    let subscriptionOrder: [UInt32]
    /// Per alias: money at risk over its subscriptions, per currency (see `AliasAmounts`).
    let aliasAmounts: AliasAmounts
    /// Currencies by id (`SubscriptionRecord` and `AliasAmounts` use ids).
    let currencies: [Currency]

    init(
        aliasKeys: ByteInterner, aliases: [AliasRecord], text: [UInt8], subscriptions: [SubscriptionRecord],
        subscriptionText: [UInt8], rules: ByteInterner, ruleResults: [Result<RecurrenceRule, RecurrenceRuleError>],
        shops: [String], shopCurrencies: [Currency], shopSets: [[String]], aliasOrder: [UInt32],
        subscriptionOrder: [UInt32], aliasAmounts: AliasAmounts, currencies: [Currency]
    ) {
        self.aliasKeys = aliasKeys
        self.aliases = aliases
        self.text = text
        self.subscriptions = subscriptions
        self.subscriptionText = subscriptionText
        self.rules = rules
        self.ruleResults = ruleResults
        self.shops = shops
        self.shopCurrencies = shopCurrencies
        self.shopSets = shopSets
        self.aliasOrder = aliasOrder
        self.subscriptionOrder = subscriptionOrder
        self.aliasAmounts = aliasAmounts
        self.currencies = currencies
    }

    static let empty = ReportStore(
        aliasKeys: ByteInterner(), aliases: [], text: [], subscriptions: [], subscriptionText: [],
        rules: ByteInterner(),
        ruleResults: [], shops: [], shopCurrencies: [], shopSets: [[]], aliasOrder: [], subscriptionOrder: [],
        aliasAmounts: AliasAmounts(), currencies: [])

    // MARK: Reading ahead

    /// Loads what the formats will read for the rows a few positions ahead in `order`, and
    /// returns a value to fold into `ByteOutput.readAhead` (so the loads are kept).
    ///
    /// The report's order jumps around the records (a million subscriptions sorted by shop and
    /// date, read in file order): each row would otherwise wait on several cache misses in turn
    /// (the record, then its alias, then their bytes). Touching them 16, 8 and 4 rows ahead lets
    /// the misses of later rows overlap with the work on this one.
    @inline(__always)
    func readAhead(subscriptions order: [UInt32], at k: Int) -> UInt64 {
        var t: UInt64 = 0
        let n = order.count
        if k + 16 < n { t &+= UInt64(subscriptions[Int(order[k + 16])].alias) }
        if k + 8 < n {
            let s = subscriptions[Int(order[k + 8])]
            let a = Int(s.alias)
            t &+= UInt64(aliases[a].textOffset) &+ UInt64(aliasKeys.spans[a].offset)
            if s.idLength > 0 { t &+= UInt64(subscriptionText[Int(s.textOffset)]) }
        }
        if k + 4 < n {
            let a = Int(subscriptions[Int(order[k + 4])].alias)
            let span = aliasKeys.spans[a]
            if span.length > 0 { t &+= UInt64(aliasKeys.bytes[Int(span.offset)]) }
            let r = aliases[a]
            if r.nameLength > 0 { t &+= UInt64(text[Int(r.textOffset)]) }
        }
        return t
    }

    /// The same for rows of aliases in `order`.
    @inline(__always)
    func readAhead(aliases order: [UInt32], at k: Int) -> UInt64 {
        var t: UInt64 = 0
        let n = order.count
        if k + 16 < n {
            let a = Int(order[k + 16])
            t &+= UInt64(aliases[a].textOffset) &+ UInt64(aliasKeys.spans[a].offset)
        }
        if k + 8 < n {
            let a = Int(order[k + 8])
            let span = aliasKeys.spans[a]
            if span.length > 0 { t &+= UInt64(aliasKeys.bytes[Int(span.offset)]) }
            let r = aliases[a]
            if r.nameLength > 0 { t &+= UInt64(text[Int(r.textOffset)]) }
            if r.emailLength > 0 { t &+= UInt64(text[Int(r.textOffset) + Int(r.nameLength)]) }
        }
        return t
    }

    // MARK: Bytes of one element (valid while the store lives: `body` must not keep the pointer)

    func withAlias<R>(_ id: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R { aliasKeys.withKey(id, body) }

    func withName<R>(_ id: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let a = aliases[id]
        return text.withUnsafeBytes {
            body(UnsafeRawBufferPointer(rebasing: $0[Int(a.textOffset)..<Int(a.textOffset) + Int(a.nameLength)]))
        }
    }

    func withEmail<R>(_ id: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let a = aliases[id]
        let start = Int(a.textOffset) + Int(a.nameLength)
        return text.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<start + Int(a.emailLength)])) }
    }

    func withSubscriptionId<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let s = subscriptions[index]
        let start = Int(s.textOffset)
        return subscriptionText.withUnsafeBytes {
            body(UnsafeRawBufferPointer(rebasing: $0[start..<start + Int(s.idLength)]))
        }
    }

    func withCounter<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let s = subscriptions[index]
        let start = Int(s.textOffset) + Int(s.idLength)
        return subscriptionText.withUnsafeBytes {
            body(UnsafeRawBufferPointer(rebasing: $0[start..<start + Int(s.counterLength)]))
        }
    }

    func aliasString(_ id: Int) -> String { withAlias(id) { String(decoding: $0, as: UTF8.self) } }
    func name(_ id: Int) -> String { withName(id) { String(decoding: $0, as: UTF8.self) } }
    func email(_ id: Int) -> String { withEmail(id) { String(decoding: $0, as: UTF8.self) } }
    func subscriptionId(_ index: Int) -> String { withSubscriptionId(index) { String(decoding: $0, as: UTF8.self) } }
    func counter(_ index: Int) -> String { withCounter(index) { String(decoding: $0, as: UTF8.self) } }
    func rule(_ id: Int) -> String { rules.withKey(id) { String(decoding: $0, as: UTF8.self) } }

    func status(_ id: Int) -> ExpiryStatus { ExpiryStatus.allCases[Int(aliases[id].status)] }

    /// The money at risk of an alias, per currency code.
    func amounts(ofAlias id: Int) -> [String: Int64] {
        var out: [String: Int64] = [:]
        aliasAmounts.forEach(alias: id) { out[currencies[$0].code] = $1 }
        return out
    }

    func risk(_ index: Int) -> ChargeRisk {
        let s = subscriptions[index]
        if case .failure(let reason) = ruleResults[Int(s.rule)] { return .unknown(reason) }
        return ChargeRisk(
            nextCharge: Day(days: s.nextCharge), firstChargeAfterExpiry: Day(days: s.firstChargeAfterExpiry),
            chargesAtRisk: Int(s.chargesAtRisk), amountAtRisk: s.amountAtRisk, unknownReason: nil)
    }

    func alias(_ id: Int) -> ExpiryReport.Alias {
        let a = aliases[id]
        return ExpiryReport.Alias(
            alias: aliasString(id), name: name(id), email: email(id), expiry: Day(daysSinceEpoch: Int(a.expiry)),
            status: status(id), recurrences: a.recurrences < 0 ? nil : Int(a.recurrences),
            shops: shopSets[Int(a.shopSet)],
            subscriptions: Int(a.subscriptions), amountAtRisk: amounts(ofAlias: id))
    }

    func subscription(_ index: Int) -> ExpiryReport.Subscription {
        let s = subscriptions[index]
        let a = Int(s.alias)
        return ExpiryReport.Subscription(
            shopId: shops[Int(s.shop)], alias: aliasString(a), subscriptionId: subscriptionId(index), name: name(a),
            email: email(a), expiry: Day(daysSinceEpoch: Int(aliases[a].expiry)), status: status(a),
            rule: rule(Int(s.rule)),
            effectDate: Day(daysSinceEpoch: Int(s.effect)), recurrenceCounter: counter(index), amount: s.amount,
            initialAmount: s.hasInitialAmount ? s.initialAmount : nil, initialCount: Int(s.initialCount),
            currency: shopCurrencies[Int(s.shop)], risk: risk(index))
    }
}

/// One alias, merged over the files. 36 bytes; its alias bytes are in the interner.
struct AliasRecord: BitwiseCopyable {
    /// Name then e-mail in `ReportStore.text`.
    var textOffset: UInt32
    var nameLength: UInt16
    var emailLength: UInt16
    /// `ExpiryStatus.rank`, set by `finish`.
    var status: UInt8
    var fromCompany: Bool
    /// Days since 1970-01-01: the earliest expiry any file gave.
    var expiry: Int32
    /// The company file's count of active recurrences; -1 when the alias is only in shop files.
    var recurrences: Int32
    var subscriptions: UInt32
    /// Index into the shop sets (0: no shop).
    var shopSet: UInt32
    /// Where it was last read from the company file, or first read: for warnings.
    var originFile: UInt32
    var originLine: UInt32
}

/// One subscription of a shop file, with its risk once `finish` computed it. 64 bytes.
struct SubscriptionRecord: BitwiseCopyable {
    var amount: Int64
    var initialAmount: Int64
    var amountAtRisk: Int64
    var alias: UInt32
    var shop: UInt32
    /// Subscription id then counter in `ReportStore.subscriptionText`.
    var textOffset: UInt32
    var rule: UInt32
    /// Days since 1970-01-01.
    var effect: Int32
    var initialCount: Int32
    /// Days since 1970-01-01, `Day.none32` for nil.
    var nextCharge: Int32
    var firstChargeAfterExpiry: Int32
    var chargesAtRisk: Int32
    var idLength: UInt8
    var counterLength: UInt8
    var hasInitialAmount: Bool
}

/// Per alias, money at risk per currency: one (currency, amount) pair inline, since an alias's
/// subscriptions nearly always share a currency, and the rare others in a side table.
struct AliasAmounts: Sendable {
    /// Currency id + 1 of the inline pair; 0: none.
    private var firstCurrency: [UInt16] = []
    private var firstAmount: [Int64] = []
    private var others: [Int: [UInt16: Int64]] = [:]

    init() {}

    init(aliases: Int) {
        firstCurrency = Array(repeating: 0, count: aliases)
        firstAmount = Array(repeating: 0, count: aliases)
    }

    /// Adds `amount` to the alias's total in `currency` (saturating).
    mutating func add(alias: Int, currency: Int, amount: Int64) {
        let c = UInt16(currency + 1)
        if firstCurrency[alias] == 0 { firstCurrency[alias] = c }
        if firstCurrency[alias] == c {
            firstAmount[alias].addSaturating(amount)
        } else {
            others[alias, default: [:]][c, default: 0].addSaturating(amount)
        }
    }

    /// Calls `body(currency id, amount)` for each currency the alias has an amount in.
    func forEach(alias: Int, _ body: (Int, Int64) -> Void) {
        guard alias < firstCurrency.count, firstCurrency[alias] != 0 else { return }
        body(Int(firstCurrency[alias]) - 1, firstAmount[alias])
        if let more = others[alias] {
            for (c, v) in more { body(Int(c) - 1, v) }
        }
    }

    /// How many currencies an alias has amounts in (the writers' fast path for none and one).
    enum Spread {
        case empty
        case single(currency: Int, amount: Int64)
        case several
    }

    /// The currencies the alias has amounts in: none, one (with its amount) or several.
    func spread(alias: Int) -> Spread {
        guard alias < firstCurrency.count, firstCurrency[alias] != 0 else { return .empty }
        if !others.isEmpty, others[alias] != nil { return .several }
        return .single(currency: Int(firstCurrency[alias]) - 1, amount: firstAmount[alias])
    }
}

/// Distinct byte strings, each stored once and numbered in order of first sight: aliases, rules.
///
/// Open addressing with linear probing over 64-bit slots (32 bits of hash, 32 bits of id + 1),
/// so a probe compares bytes only when the hashes agree. The hash is Swift's `Hasher` (SipHash,
/// seeded per process): a file crafted for collisions cannot make the table quadratic, and no
/// output depends on the table's order.
struct ByteInterner: Sendable {
    struct Span: BitwiseCopyable {
        var offset: UInt32
        var length: UInt32
    }

    private(set) var bytes: [UInt8] = []
    private(set) var spans: [Span] = []
    private var slots: [UInt64] = Array(repeating: 0, count: 16)
    private var bits = 4

    init() {}

    var count: Int { spans.count }

    /// Room for about `entries` keys of `bytes` bytes in all, so big files do not regrow.
    mutating func reserve(entries: Int, bytes: Int) {
        self.bytes.reserveCapacity(bytes)
        spans.reserveCapacity(entries)
        while (1 << bits) < 2 * entries { bits += 1 }
        if slots.count < 1 << bits { rehash() }
    }

    /// The id of `key`, and whether it was added now.
    mutating func intern(_ key: UnsafeRawBufferPointer) -> (id: Int, inserted: Bool) {
        if slots.isEmpty { rebuildIndex() }
        var hasher = Hasher()
        hasher.combine(bytes: key)
        let tag = UInt64(UInt32(truncatingIfNeeded: hasher.finalize()))
        let mask = (1 << bits) - 1
        var i = Int(tag >> (32 - UInt64(bits)))
        while true {
            let slot = slots[i]
            if slot == 0 { break }
            if slot >> 32 == tag {
                let id = Int(slot & 0xFFFF_FFFF) - 1
                if equals(id, key) { return (id, false) }
            }
            i = (i + 1) & mask
        }
        let id = spans.count
        precondition(
            id < Int(UInt32.max) - 1 && bytes.count + key.count <= Int(UInt32.max),
            "report too large for 32-bit offsets")
        spans.append(Span(offset: UInt32(bytes.count), length: UInt32(key.count)))
        bytes.append(contentsOf: key)
        slots[i] = tag << 32 | UInt64(id + 1)
        if spans.count * 2 > slots.count {
            bits += 1
            rehash()
        }
        return (id, true)
    }

    /// Frees the hash index: the keys stay readable by id, but nothing more can be interned.
    mutating func dropIndex() {
        slots = []
        bits = 0
    }

    func withKey<R>(_ id: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let s = spans[id]
        return bytes.withUnsafeBytes {
            body(UnsafeRawBufferPointer(rebasing: $0[Int(s.offset)..<Int(s.offset) + Int(s.length)]))
        }
    }

    func length(_ id: Int) -> Int { Int(spans[id].length) }

    /// The first 8 bytes of a key, big-endian, zero-padded: integer order = byte order, for sorting.
    func prefix(_ id: Int) -> UInt64 {
        withKey(id) { key in
            var v: UInt64 = 0
            for i in 0..<8 { v = v << 8 | UInt64(i < key.count ? key[i] : 0) }
            return v
        }
    }

    /// Byte order of two keys.
    func precedes(_ a: Int, _ b: Int) -> Bool {
        withKey(a) { ka in withKey(b) { kb in ka.lexicographicallyPrecedes(kb) } }
    }

    private func equals(_ id: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let s = spans[id]
        guard Int(s.length) == key.count else { return false }
        if key.count == 0 { return true }
        return bytes.withUnsafeBytes { memcmp($0.baseAddress! + Int(s.offset), key.baseAddress!, key.count) == 0 }
    }

    /// The index again after `dropIndex`, from the keys.
    private mutating func rebuildIndex() {
        bits = 4
        while (1 << bits) < 2 * spans.count + 2 { bits += 1 }
        var fresh = [UInt64](repeating: 0, count: 1 << bits)
        let mask = (1 << bits) - 1
        for id in spans.indices {
            let tag = withKey(id) { key -> UInt64 in
                var hasher = Hasher()
                hasher.combine(bytes: key)
                return UInt64(UInt32(truncatingIfNeeded: hasher.finalize()))
            }
            var i = Int(tag >> (32 - UInt64(bits)))
            while fresh[i] != 0 { i = (i + 1) & mask }
            fresh[i] = tag << 32 | UInt64(id + 1)
        }
        slots = fresh
    }

    /// Rebuilds the slots for `1 << bits` entries from the stored tags.
    private mutating func rehash() {
        var fresh = [UInt64](repeating: 0, count: 1 << bits)
        let mask = (1 << bits) - 1
        for slot in slots where slot != 0 {
            var i = Int((slot >> 32) >> (32 - UInt64(bits)))
            while fresh[i] != 0 { i = (i + 1) & mask }
            fresh[i] = slot
        }
        slots = fresh
    }
}

extension Day {
    /// Days since the epoch as stored in records; `none32` stands for nil.
    static let none32 = Int32.min

    init?(days: Int32) {
        guard days != Day.none32 else { return nil }
        self.init(daysSinceEpoch: Int(days))
    }

    var days32: Int32 { Int32(daysSinceEpoch) }
}
