import Glibc

/// Merges the details of one month's files into an `ExpiryReport`, as they are parsed.
///
/// The company file and the shop files are merged by alias: the company file's name and e-mail
/// win, the earliest expiry counts, and every disagreement is a warning. Subscriptions are kept
/// with their schedule's risk, each distinct rule text parsed once.
///
/// Everything is kept as bytes and fixed-size records (`ReportStore`): a detail costs no String,
/// an alias is found by hashing its bytes once, and the risks come from a `RiskTable`.
public struct ReportBuilder {
    private var report: ExpiryReport
    /// With `--shop`: only aliases the selected shops' files list are reported.
    private let onlyShopAliases: Bool

    private var aliasKeys = ByteInterner()
    private var aliases: [AliasRecord] = []
    private var text: [UInt8] = []
    private var subscriptions: [SubscriptionRecord] = []
    private var subscriptionText: [UInt8] = []
    private var rules = ByteInterner()
    private var ruleResults: [Result<RecurrenceRule, RecurrenceRuleError>] = []
    private var ruleCache = [Int](repeating: -1, count: 64)
    private var shops: [String] = []
    private var shopIndex: [String: Int] = [:]
    private var shopCurrencyIds: [Int] = []
    private var currencies: [Currency] = []
    private var shopSets = ShopSets()

    private var paths: [String] = []
    private var warnings: [ReportWarning] = []
    private var suppressedWarnings = 0
    public static let maxWarnings = 200

    public init(options: ExpiryReport.Options, onlyShopAliases: Bool = false) {
        report = ExpiryReport(options: options)
        self.onlyShopAliases = onlyShopAliases
    }

    /// Whether a warning would still be listed (building its text is then worth it).
    private var warningsOpen: Bool { warnings.count < ReportBuilder.maxWarnings }

    private mutating func warn(_ text: String) { warn(.other(text)) }

    private mutating func warn(_ warning: ReportWarning) {
        if warnings.count < ReportBuilder.maxWarnings { warnings.append(warning) } else { suppressedWarnings += 1 }
    }

    /// Parses the selected files and adds everything they hold. `open` opens a selected path;
    /// `size` gives its size in bytes, to reserve room (default: `fileSize(atPath:)`).
    public static func build(
        selection: ReportSelection, options: ExpiryReport.Options, onlyShopAliases: Bool = false,
        limits: ExpCardsParser.Limits = .init(), open: FileSource.Opener = FileSource.openPath,
        size: ((String) -> Int)? = nil
    ) -> ExpiryReport {
        let size = size ?? fileSize(atPath:)
        var builder = ReportBuilder(options: options, onlyShopAliases: onlyShopAliases)
        let ordered = readingOrder(selection.selected)
        builder.reserve(inputBytes: ordered.reduce(0) { $0 + size($1.path) })
        for (path, name) in ordered {
            builder.add(path: path, shopId: name.shopId) {
                ExpCardsParser.parse(path: path, limits: limits, onDetailView: $0, open: open)
            }
        }
        builder.report.environment = selection.environment
        builder.report.month = selection.month
        builder.report.excluded = selection.excluded
        return builder.finish()
    }

    /// The order files are added in: the company file first, so its names win without a second
    /// pass; then by path.
    static func readingOrder(
        _ files: [(path: String, name: ExpCardsFileName)]
    ) -> [(path: String, name: ExpCardsFileName)] {
        files.sorted { ($0.name.kind == .company ? 0 : 1, $0.path) < ($1.name.kind == .company ? 0 : 1, $1.path) }
    }

    /// The size of the file at `path` (a link followed: only a hint for `reserve`); 0 when unknown.
    public static func fileSize(atPath path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }

    /// Reserves room from the input's size, so the big arrays do not regrow (a regrowth copies,
    /// and holds old and new at once). Reserved pages that are never written cost no memory.
    mutating func reserve(inputBytes: Int) {
        guard inputBytes > 0 else { return }
        // Generous (alias bytes are a third of a company file): a regrowth near the end would hold
        // the old and the new array at once, at the report's peak.
        aliasKeys.reserve(entries: 0, bytes: inputBytes / 2)
        aliases.reserveCapacity(inputBytes / 40)
        text.reserveCapacity(inputBytes / 2)
        subscriptions.reserveCapacity(inputBytes / 60)
        subscriptionText.reserveCapacity(inputBytes / 4)
    }

    /// Adds one file as it is parsed: `parse` runs the parser with the callback it is given,
    /// whose details go straight into the merge (no copy of the file in memory), and returns
    /// the parsed file. Add them in `readingOrder`.
    public mutating func add(
        path: String, shopId: String?, parse: (_ onDetailView: (borrowing DetailView) -> Void) -> ParsedFile
    ) {
        let file = parse { add(view: $0, shopId: shopId, path: path) }
        report.files.append(file)
        if let name = file.name {
            if name.kind == .company { report.companyLabel = name.label }
            if let shop = name.shopId { report.shopLabels[shop] = name.label }
        }
    }

    private mutating func fileIndex(_ path: String) -> Int {
        if paths.last != path { paths.append(path) }
        return paths.count - 1
    }

    /// Adds one valid detail lent by the parser (`onDetailView`): its bytes are copied into the
    /// report's arrays during the call and never kept, and no String is built.
    private mutating func add(view d: borrowing DetailView, shopId: String?, path: String) {
        let file = fileIndex(path)
        let alias = UnsafeRawBufferPointer(d.alias)
        let line = d.line
        let expiry = d.expiry
        let name = d.name
        let nameLatin1 = d.nameIsLatin1
        let email = d.email
        let emailLatin1 = d.emailIsLatin1
        guard d.kind == .shop, let effect = d.effectDate else {
            let recurrences = d.recurrences
            ReportBuilder.withUTF8(name, latin1: nameLatin1) { n in
                ReportBuilder.withUTF8(email, latin1: emailLatin1) { e in
                    _ = addAlias(
                        alias, name: n, email: e, expiry: expiry, company: true, recurrences: recurrences, shop: nil,
                        line: line, file: file)
                }
            }
            return
        }
        guard let shopId else { return }
        let shop = shopNumber(shopId)
        let aliasId = ReportBuilder.withUTF8(name, latin1: nameLatin1) { n in
            ReportBuilder.withUTF8(email, latin1: emailLatin1) { e in
                addAlias(
                    alias, name: n, email: e, expiry: expiry, company: false, recurrences: nil, shop: shop, line: line,
                    file: file)
            }
        }
        addSubscription(
            alias: aliasId, shop: shop, id: UnsafeRawBufferPointer(d.subscriptionId),
            counter: UnsafeRawBufferPointer(d.recurrenceCounter),
            rule: UnsafeRawBufferPointer(d.rule), effect: effect, amount: d.amount, initialAmount: d.initialAmount,
            initialCount: d.initialCount, line: line, path: path)
    }

    /// Text bytes as the UTF-8 of the String they stand for: Latin-1 re-encoded (every byte the
    /// scalar of the same value), as `DetailView.string` reads it.
    private static func withUTF8<R>(
        _ bytes: UnsafeBufferPointer<UInt8>, latin1: Bool, _ body: (UnsafeRawBufferPointer) -> R
    ) -> R {
        guard latin1 else { return body(UnsafeRawBufferPointer(bytes)) }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(bytes.count * 2)
        for b in bytes {
            if b < 0x80 {
                utf8.append(b)
            } else {
                utf8.append(0xC0 | b >> 6)
                utf8.append(0x80 | b & 0x3F)
            }
        }
        return utf8.withUnsafeBytes(body)
    }

    private mutating func shopNumber(_ shopId: String) -> Int {
        if let n = shopIndex[shopId] { return n }
        let n = shops.count
        shops.append(shopId)
        shopIndex[shopId] = n
        let currency = report.options.currency(forShop: shopId)
        if let c = currencies.firstIndex(of: currency) {
            shopCurrencyIds.append(c)
        } else {
            currencies.append(currency)
            shopCurrencyIds.append(currencies.count - 1)
        }
        return n
    }

    /// Appends name and e-mail to `text`; returns the offset.
    private mutating func appendText(_ name: UnsafeRawBufferPointer, _ email: UnsafeRawBufferPointer) -> UInt32 {
        let offset = text.count
        precondition(
            offset + name.count + email.count <= Int(UInt32.max) && name.count <= Int(UInt16.max)
                && email.count <= Int(UInt16.max),
            "report text too large")
        text.append(contentsOf: name)
        text.append(contentsOf: email)
        return UInt32(offset)
    }

    /// The same text as Strings compare it (canonical equivalence): bytes first, Strings only
    /// when they differ and are not plain ASCII.
    private static func sameText(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        if a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0) { return true }
        if !a.contains(where: { $0 >= 0x80 }) && !b.contains(where: { $0 >= 0x80 }) { return false }
        return String(decoding: a, as: UTF8.self) == String(decoding: b, as: UTF8.self)
    }

    private mutating func addAlias(
        _ alias: UnsafeRawBufferPointer, name: UnsafeRawBufferPointer, email: UnsafeRawBufferPointer, expiry: Day,
        company: Bool, recurrences: Int?, shop: Int?, line: Int, file: Int
    ) -> Int {
        let (id, inserted) = aliasKeys.intern(alias)
        if inserted {
            precondition(recurrences.map { $0 >= 0 && $0 <= Int(Int32.max) } ?? true, "recurrences out of range")
            aliases.append(
                AliasRecord(
                    textOffset: appendText(name, email), nameLength: UInt16(name.count),
                    emailLength: UInt16(email.count),
                    status: 0, fromCompany: company, expiry: expiry.days32,
                    recurrences: recurrences.map { Int32($0) } ?? -1,
                    subscriptions: shop == nil ? 0 : 1, shopSet: shop.map { UInt32(shopSets.singleton($0)) } ?? 0,
                    originFile: UInt32(file), originLine: UInt32(truncatingIfNeeded: line)))
            return id
        }
        var state = aliases[id]
        // Only a warning needs the places and texts spelt out.
        let paths = self.paths
        func place() -> String { "\(paths[file]):\(line)" }
        func aliasText() -> String { String(decoding: alias, as: UTF8.self) }
        let originFile = Int(state.originFile)
        let originLine = state.originLine
        func origin() -> String { "\(paths[originFile]):\(originLine)" }
        if company && state.fromCompany {
            if warningsOpen {
                warn("\(place()): alias \(aliasText()) is listed again in the company file (first at \(origin()))")
            } else {
                suppressedWarnings += 1
            }
        }
        let start = Int(state.textOffset)
        let middle = start + Int(state.nameLength)
        let end = middle + Int(state.emailLength)
        let differs = text.withUnsafeBytes { t in
            !ReportBuilder.sameText(name, UnsafeRawBufferPointer(rebasing: t[start..<middle]))
                || !ReportBuilder.sameText(email, UnsafeRawBufferPointer(rebasing: t[middle..<end]))
        }
        let lostCharacters =
            differs
            ? text.withUnsafeBytes { t in
                ReportBuilder.sameText(email, UnsafeRawBufferPointer(rebasing: t[middle..<end]))
                    ? NameWithQuestionMarks.pick(old: UnsafeRawBufferPointer(rebasing: t[start..<middle]), new: name)
                    : nil
            } : nil
        if let lostCharacters {
            // The platform writes `?` for what Latin-1 lacks: the same name, not a disagreement.
            if lostCharacters == .new {
                state.textOffset = appendText(name, email)
                state.nameLength = UInt16(name.count)
                state.emailLength = UInt16(email.count)
            }
        } else if differs {
            if warningsOpen {
                func string(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }
                let known = text.withUnsafeBytes { t in
                    ReportWarning.Contact(
                        name: string(UnsafeRawBufferPointer(rebasing: t[start..<middle])),
                        email: string(UnsafeRawBufferPointer(rebasing: t[middle..<end])))
                }
                warn(
                    .contactsDiffer(
                        place: place(), alias: aliasText(), found: .init(name: string(name), email: string(email)),
                        known: known,
                        origin: origin(),
                        outcome: state.fromCompany
                            ? "the company file's are kept"
                            : (company ? "the company file's are used" : "the first are kept")))
            } else {
                suppressedWarnings += 1
            }
            if company && !state.fromCompany {
                state.textOffset = appendText(name, email)
                state.nameLength = UInt16(name.count)
                state.emailLength = UInt16(email.count)
            }
        }
        let days = expiry.days32
        if days != state.expiry {
            if warningsOpen {
                let old = Day(daysSinceEpoch: Int(state.expiry))
                warn(
                    "\(place()): alias \(aliasText()): expiry \(expiry) differs from \(old) at \(origin()); the earliest counts"
                )
            } else {
                suppressedWarnings += 1
            }
            state.expiry = min(state.expiry, days)
        }
        if company {
            precondition(recurrences.map { $0 >= 0 && $0 <= Int(Int32.max) } ?? true, "recurrences out of range")
            state.fromCompany = true
            state.recurrences = recurrences.map { Int32($0) } ?? -1
            state.originFile = UInt32(file)
            state.originLine = UInt32(truncatingIfNeeded: line)
        }
        if let shop {
            state.shopSet = UInt32(shopSets.adding(shop, to: Int(state.shopSet)))
            state.subscriptions += 1
        }
        aliases[id] = state
        return id
    }

    private mutating func addSubscription(
        alias: Int, shop: Int, id: UnsafeRawBufferPointer, counter: UnsafeRawBufferPointer,
        rule: UnsafeRawBufferPointer,
        effect: Day, amount: Int64, initialAmount: Int64?, initialCount: Int, line: Int, path: String
    ) {
        let ruleId = ruleNumber(rule)
        let offset = subscriptionText.count
        precondition(
            offset + id.count + counter.count <= Int(UInt32.max) && id.count <= Int(UInt8.max)
                && counter.count <= Int(UInt8.max),
            "subscription text too large")
        subscriptionText.append(contentsOf: id)
        subscriptionText.append(contentsOf: counter)
        subscriptions.append(
            SubscriptionRecord(
                amount: amount, initialAmount: initialAmount ?? 0, amountAtRisk: 0, alias: UInt32(alias),
                shop: UInt32(shop),
                textOffset: UInt32(offset), rule: UInt32(ruleId), effect: effect.days32,
                initialCount: Int32(initialCount),
                nextCharge: Day.none32, firstChargeAfterExpiry: Day.none32, chargesAtRisk: 0, idLength: UInt8(id.count),
                counterLength: UInt8(counter.count), hasInitialAmount: initialAmount != nil))
        if case .failure(let reason) = ruleResults[ruleId] {
            guard warningsOpen else {
                suppressedWarnings += 1
                return
            }
            warn(
                "\(path):\(line): subscription \(String(decoding: id, as: UTF8.self)): schedule unknown (\(reason)); its charges are not counted"
            )
        }
    }

    /// The id of a rule text. A month's files repeat a few rule texts a million times: a small
    /// direct-mapped cache (keyed by length and end bytes, confirmed by comparing the bytes)
    /// answers before the interner has to hash them.
    private mutating func ruleNumber(_ rule: UnsafeRawBufferPointer) -> Int {
        var key = UInt64(rule.count)
        if let p = rule.baseAddress, rule.count >= 8 {
            key =
                key &* 0x9E37_79B9_7F4A_7C15 ^ p.loadUnaligned(as: UInt64.self) ^ p.loadUnaligned(
                    fromByteOffset: rule.count - 8, as: UInt64.self) &* 31
        }
        let slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 58)
        let cached = ruleCache[slot]
        if cached >= 0, rules.length(cached) == rule.count,
            rules.withKey(cached, { rule.count == 0 || memcmp($0.baseAddress!, rule.baseAddress!, rule.count) == 0 })
        {
            return cached
        }
        let (id, inserted) = rules.intern(rule)
        if inserted { ruleResults.append(RecurrenceRule.parse(String(decoding: rule, as: UTF8.self))) }
        ruleCache[slot] = id
        return id
    }

    /// Statuses, schedules' risk, summary and order.
    public mutating func finish() -> ExpiryReport {
        let o = report.options
        let asOf = o.asOf.days32
        let thresholdEnd = report.thresholdEnd.days32
        for i in aliases.indices {
            let e = aliases[i].expiry
            aliases[i].status = e < asOf ? 0 : (e <= thresholdEnd ? 1 : 2)
        }
        var summaryAliases = [0, 0, 0]
        var summarySubscriptions = [0, 0, 0]
        var summaryAmounts = [[Int64]](repeating: [Int64](repeating: 0, count: currencies.count), count: 3)
        var summaryHas = [[Bool]](repeating: [Bool](repeating: false, count: currencies.count), count: 3)
        var amounts = AliasAmounts(aliases: subscriptions.isEmpty ? 0 : aliases.count)
        var table = RiskTable(asOf: o.asOf, horizonMonths: o.horizonMonths)
        for i in subscriptions.indices {
            var s = subscriptions[i]
            let a = aliases[Int(s.alias)]
            let status = Int(a.status)
            summarySubscriptions[status] += 1
            guard case .success(let rule) = ruleResults[Int(s.rule)] else { continue }
            let r = table.risk(
                ruleId: s.rule, rule: rule, effect: s.effect, expiry: a.expiry, amount: s.amount,
                initialAmount: s.hasInitialAmount ? s.initialAmount : nil, initialCount: Int(s.initialCount))
            s.nextCharge = r.nextCharge
            s.firstChargeAfterExpiry = r.firstChargeAfterExpiry
            s.chargesAtRisk = r.chargesAtRisk
            s.amountAtRisk = r.amountAtRisk
            subscriptions[i] = s
            let currency = shopCurrencyIds[Int(s.shop)]
            summaryAmounts[status][currency].addSaturating(r.amountAtRisk)
            summaryHas[status][currency] = true
            amounts.add(alias: Int(s.alias), currency: currency, amount: r.amountAtRisk)
        }

        // Nothing more is looked up by alias: the index's memory goes before the sorts need theirs.
        aliasKeys.dropIndex()
        let haveShopFiles = report.files.contains(where: { $0.kind == .shop })
        var kept: [AliasSortKey] = []
        kept.reserveCapacity(aliases.count)
        var mismatches: [Int] = []
        for id in aliases.indices {
            let a = aliases[id]
            if onlyShopAliases && a.shopSet == 0 { continue }
            if a.recurrences >= 0, !onlyShopAliases, a.shopSet != 0 || a.recurrences > 0, haveShopFiles,
                Int(a.recurrences) != Int(a.subscriptions)
            {
                mismatches.append(id)
            }
            summaryAliases[Int(a.status)] += 1
            kept.append(AliasSortKey(id: id, record: a, keys: aliasKeys))
        }
        // Warnings in alias order, whatever the hashing.
        mismatches.sort { aliasKeys.precedes($0, $1) }
        for id in mismatches {
            let a = aliases[id]
            let count = Int(a.recurrences)
            warn(
                "alias \(aliasKeys.withKey(id) { String(decoding: $0, as: UTF8.self) }): the company file counts \(count) active recurrence\(count == 1 ? "" : "s"), the shop files list \(a.subscriptions)"
            )
        }
        // Integer keys (status, expiry, the alias's first 9 bytes); the whole alias only on a tie.
        let keys = aliasKeys
        kept.sort { x, y in
            if x.high != y.high { return x.high < y.high }
            if x.low >> 32 != y.low >> 32 { return x.low >> 32 < y.low >> 32 }
            return keys.precedes(
                Int(truncatingIfNeeded: x.low & 0xFFFF_FFFF), Int(truncatingIfNeeded: y.low & 0xFFFF_FFFF))
        }
        let aliasOrder = kept.map { UInt32(truncatingIfNeeded: $0.low & 0xFFFF_FFFF) }
        kept = []

        // Subscriptions: shop, first charge after expiry (unknown last), alias, subscription id.
        let never = Day(year: 9999, month: 12, day: 31)!.days32
        var shopRank = [Int](repeating: 0, count: shops.count)
        for (rank, index) in shops.indices.sorted(by: { shops[$0].utf8.lexicographicallyPrecedes(shops[$1].utf8) })
            .enumerated()
        {
            shopRank[index] = rank
        }
        var subscriptionKeys: [SubscriptionSortKey] = []
        subscriptionKeys.reserveCapacity(subscriptions.count)
        for (i, s) in subscriptions.enumerated() {
            let first = s.firstChargeAfterExpiry == Day.none32 ? never : s.firstChargeAfterExpiry
            subscriptionKeys.append(
                SubscriptionSortKey(
                    high: UInt64(shopRank[Int(s.shop)]) << 32 | UInt64(UInt32(bitPattern: first) ^ 0x8000_0000),
                    low: keys.prefix(Int(s.alias)), index: UInt32(i)))
        }
        let subs = subscriptions
        let subText = subscriptionText
        subscriptionKeys.sort { x, y in
            if x.high != y.high { return x.high < y.high }
            if x.low != y.low { return x.low < y.low }
            let a = subs[Int(x.index)]
            let b = subs[Int(y.index)]
            if a.alias != b.alias { return keys.precedes(Int(a.alias), Int(b.alias)) }
            let byId = subText.withUnsafeBytes { t in
                let ia = UnsafeRawBufferPointer(rebasing: t[Int(a.textOffset)..<Int(a.textOffset) + Int(a.idLength)])
                let ib = UnsafeRawBufferPointer(rebasing: t[Int(b.textOffset)..<Int(b.textOffset) + Int(b.idLength)])
                return ia.lexicographicallyPrecedes(ib) ? -1 : (ib.lexicographicallyPrecedes(ia) ? 1 : 0)
            }
            if byId != 0 { return byId < 0 }
            return x.index < y.index
        }
        let subscriptionOrder = subscriptionKeys.map(\.index)
        subscriptionKeys = []

        var summary: [ExpiryStatus: ExpiryReport.StatusSummary] = [:]
        for (rank, status) in ExpiryStatus.allCases.enumerated() {
            var s = ExpiryReport.StatusSummary()
            s.aliases = summaryAliases[rank]
            s.subscriptions = summarySubscriptions[rank]
            for (c, currency) in currencies.enumerated() where summaryHas[rank][c] {
                s.amountAtRisk[currency.code, default: 0].addSaturating(summaryAmounts[rank][c])
            }
            summary[status] = s
        }
        let sets = shopSets.sets.map { set in
            set.map { shops[$0] }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        report.store = ReportStore(
            aliasKeys: aliasKeys, aliases: aliases, text: text, subscriptions: subscriptions,
            subscriptionText: subscriptionText,
            rules: rules, ruleResults: ruleResults, shops: shops,
            shopCurrencies: shopCurrencyIds.map { currencies[$0] },
            shopSets: sets, aliasOrder: aliasOrder, subscriptionOrder: subscriptionOrder, aliasAmounts: amounts,
            currencies: currencies)
        report.summary = summary
        report.files.sort { $0.path < $1.path }
        var warnings = self.warnings
        if suppressedWarnings > 0 { warnings.append(.other("… and \(suppressedWarnings) more warnings not listed")) }
        report.warnings = warnings
        return report
    }
}

/// Sort key of an alias: status (2 bits), expiry (22 bits) and the alias's first 5 bytes in
/// `high`; its next 4 bytes and its id in `low`. 16 bytes, so a million of them sort in cache.
private struct AliasSortKey {
    var high: UInt64
    var low: UInt64

    init(id: Int, record: AliasRecord, keys: ByteInterner) {
        // Days since the epoch of years 1...9999, made non-negative: 22 bits.
        let expiry = UInt64(Int(record.expiry) + 719_162)
        let (first, next) = keys.withKey(id) { key -> (UInt64, UInt64) in
            var first: UInt64 = 0
            var next: UInt64 = 0
            for i in 0..<5 { first = first << 8 | UInt64(i < key.count ? key[i] : 0) }
            for i in 5..<9 { next = next << 8 | UInt64(i < key.count ? key[i] : 0) }
            return (first, next)
        }
        high = UInt64(record.status) << 62 | expiry << 40 | first
        low = next << 32 | UInt64(id)
    }
}

/// Sort key of a subscription: shop rank and first charge after expiry, the alias's first 8 bytes.
private struct SubscriptionSortKey {
    var high: UInt64
    var low: UInt64
    var index: UInt32
}

/// The sets of shops aliases are listed in, numbered (0: no shop): an alias holds a set's number,
/// not an array of its own.
struct ShopSets {
    /// Shop numbers of each set, ascending.
    private(set) var sets: [[Int]] = [[]]
    private var ids: [[Int]: Int] = [[]: 0]
    private var singletons: [Int] = []
    private var added: [UInt64: Int] = [:]

    mutating func singleton(_ shop: Int) -> Int {
        while singletons.count <= shop { singletons.append(-1) }
        if singletons[shop] < 0 { singletons[shop] = id(of: [shop]) }
        return singletons[shop]
    }

    /// The set `set` ∪ {shop}.
    mutating func adding(_ shop: Int, to set: Int) -> Int {
        if set == 0 { return singleton(shop) }
        if shop < singletons.count, singletons[shop] == set { return set }
        let key = UInt64(set) << 32 | UInt64(shop)
        if let known = added[key] { return known }
        var members = sets[set]
        if !members.contains(shop) {
            members.append(shop)
            members.sort()
        }
        let result = id(of: members)
        added[key] = result
        return result
    }

    private mutating func id(of members: [Int]) -> Int {
        if let known = ids[members] { return known }
        sets.append(members)
        ids[members] = sets.count - 1
        return sets.count - 1
    }
}
