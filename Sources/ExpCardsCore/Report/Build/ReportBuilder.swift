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
    var report: ExpiryReport
    /// With `--shop`: only aliases the selected shops' files list are reported.
    let onlyShopAliases: Bool

    var aliasKeys = ByteInterner()
    var aliases: [AliasRecord] = []
    var text: [UInt8] = []
    var subscriptions: [SubscriptionRecord] = []
    var subscriptionText: [UInt8] = []
    var rules = ByteInterner()
    var ruleResults: [Result<RecurrenceRule, RecurrenceRuleError>] = []
    var ruleCache = [Int](repeating: -1, count: 64)
    var shops: [String] = []
    var shopIndex: [String: Int] = [:]
    var shopCurrencyIds: [Int] = []
    var currencies: [Currency] = []
    var shopSets = ShopSets()

    var paths: [String] = []
    var warnings: [ReportWarning] = []
    var suppressedWarnings = 0
    public static let maxWarnings = 200

    public init(options: ExpiryReport.Options, onlyShopAliases: Bool = false) {
        report = ExpiryReport(options: options)
        self.onlyShopAliases = onlyShopAliases
    }

    /// Whether a warning would still be listed (building its text is then worth it).
    var warningsOpen: Bool { warnings.count < ReportBuilder.maxWarnings }

    mutating func warn(_ text: String) { warn(.other(text)) }

    mutating func warn(_ warning: ReportWarning) {
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

    mutating func fileIndex(_ path: String) -> Int {
        if paths.last != path { paths.append(path) }
        return paths.count - 1
    }

    /// Adds one valid detail lent by the parser (`onDetailView`): its bytes are copied into the
    /// report's arrays during the call and never kept, and no String is built.
    mutating func add(view d: borrowing DetailView, shopId: String?, path: String) {
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
    static func withUTF8<R>(
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

    mutating func shopNumber(_ shopId: String) -> Int {
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
    mutating func appendText(_ name: UnsafeRawBufferPointer, _ email: UnsafeRawBufferPointer) -> UInt32 {
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
    static func sameText(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        if a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0) { return true }
        if !a.contains(where: { $0 >= 0x80 }) && !b.contains(where: { $0 >= 0x80 }) { return false }
        return String(decoding: a, as: UTF8.self) == String(decoding: b, as: UTF8.self)
    }
}
