/// Merges the details of one month's files into an `ExpiryReport`, as they are parsed.
///
/// The company file and the shop files are merged by alias: the company file's name and e-mail
/// win, the earliest expiry counts, and every disagreement is a warning. Subscriptions are kept
/// with their schedule's risk, each distinct rule text parsed once.
public struct ReportBuilder {
    private var report: ExpiryReport
    /// With `--shop`: only aliases the selected shops' files list are reported.
    private let onlyShopAliases: Bool

    private struct AliasState {
        var name: String
        var email: String
        var expiry: Day
        var fromCompany: Bool
        var recurrences: Int?
        /// Sorted, distinct; an alias is in one to a few shops, so an array beats a Set.
        var shops: [String] = []
        var subscriptions = 0
        var where_: Origin
        /// Money at risk over its subscriptions, per currency code.
        var amountAtRisk: [String: Int64] = [:]
    }

    /// Where a detail was read: an index into `paths` and a line, spelt out only for warnings.
    private struct Origin {
        var file: Int
        var line: Int
    }

    private var paths: [String] = []

    private func describe(_ o: Origin) -> String { "\(paths[o.file]):\(o.line)" }

    private var aliases: [String: AliasState] = [:]
    private var pending: [ExpiryReport.Subscription] = []
    private var rules: [String: Result<RecurrenceRule, RecurrenceRuleError>] = [:]
    private var warnings: [String] = []
    private var suppressedWarnings = 0
    public static let maxWarnings = 200

    public init(options: ExpiryReport.Options, onlyShopAliases: Bool = false) {
        report = ExpiryReport(options: options)
        self.onlyShopAliases = onlyShopAliases
    }

    private mutating func warn(_ text: String) {
        if warnings.count < ReportBuilder.maxWarnings { warnings.append(text) } else { suppressedWarnings += 1 }
    }

    /// Parses the selected files and adds everything they hold.
    public static func build(
        selection: ReportSelection, options: ExpiryReport.Options, onlyShopAliases: Bool = false,
        limits: ExpCardsParser.Limits = .init()
    ) -> ExpiryReport {
        var builder = ReportBuilder(options: options, onlyShopAliases: onlyShopAliases)
        // The company file first, so its names win without a second pass.
        let ordered = selection.selected.sorted { ($0.name.kind == .company ? 0 : 1, $0.path) < ($1.name.kind == .company ? 0 : 1, $1.path) }
        for (path, name) in ordered {
            // Details go straight into the merge as they are read: no copy of the file in memory.
            let file = ExpCardsParser.parse(path: path, limits: limits) {
                builder.add(detail: $0, shopId: name.shopId, path: path)
            }
            builder.add(file: file)
        }
        builder.report.environment = selection.environment
        builder.report.month = selection.month
        builder.report.excluded = selection.excluded
        return builder.finish()
    }

    /// Adds one parsed file and its valid details.
    public mutating func add(file: ParsedFile, details: [Detail]) {
        for detail in details { add(detail: detail, shopId: file.shopId, path: file.path) }
        add(file: file)
    }

    /// Adds a parsed file (its details already added with `add(detail:shopId:path:)`).
    public mutating func add(file: ParsedFile) {
        report.files.append(file)
        if let name = file.name {
            if name.kind == .company { report.companyLabel = name.label }
            if let shop = name.shopId { report.shopLabels[shop] = name.label }
        }
    }

    /// Adds one valid detail of the file at `path` (a shop file's when `shopId` is set).
    public mutating func add(detail: Detail, shopId: String?, path: String) {
        if paths.last != path { paths.append(path) }
        let fileIndex = paths.count - 1
        do {
            switch detail {
            case .company(let d):
                addAlias(d.alias, name: d.name, email: d.email, expiry: d.expiry, company: true, recurrences: d.recurrences, shop: nil, at: Origin(file: fileIndex, line: d.line))
            case .shop(let d):
                guard let shopId else { return }
                addAlias(d.alias, name: d.name, email: d.email, expiry: d.expiry, company: false, recurrences: nil, shop: shopId, at: Origin(file: fileIndex, line: d.line))
                let currency = report.options.currency(forShop: shopId)
                let parsed: Result<RecurrenceRule, RecurrenceRuleError>
                var rule = d.rule
                if let index = rules.index(forKey: d.rule) {
                    // One String per distinct rule text, shared by every subscription using it.
                    (rule, parsed) = rules[index]
                } else {
                    parsed = RecurrenceRule.parse(d.rule)
                    rules[d.rule] = parsed
                }
                pending.append(
                    ExpiryReport.Subscription(
                        shopId: shopId, alias: d.alias, subscriptionId: d.subscriptionId, name: d.name, email: d.email,
                        expiry: d.expiry, status: .later, rule: rule, effectDate: d.effectDate,
                        recurrenceCounter: d.recurrenceCounter, amount: d.amount, initialAmount: d.initialAmount,
                        initialCount: d.initialCount, currency: currency,
                        risk: parsed.failure.map { ChargeRisk.unknown($0) }
                            ?? ChargeRisk(nextCharge: nil, firstChargeAfterExpiry: nil, chargesAtRisk: nil, amountAtRisk: nil, unknownReason: nil)))
                if case .failure(let reason) = parsed {
                    warn("\(path):\(d.line): subscription \(d.subscriptionId): schedule unknown (\(reason)); its charges are not counted")
                }
            }
        }
    }

    private mutating func addAlias(
        _ alias: String, name: String, email: String, expiry: Day, company: Bool, recurrences: Int?, shop: String?, at origin: Origin
    ) {
        guard var state = aliases[alias] else {
            var s = AliasState(name: name, email: email, expiry: expiry, fromCompany: company, recurrences: recurrences, where_: origin)
            if let shop { s.shops = [shop]; s.subscriptions = 1 }
            aliases[alias] = s
            return
        }
        // Only a warning needs the places spelt out.
        var place: String { describe(origin) }
        if company && state.fromCompany {
            warn("\(place): alias \(alias) is listed again in the company file (first at \(describe(state.where_)))")
        }
        if name != state.name || email != state.email {
            warn(
                "\(place): alias \(alias): name/e-mail \(quoted(name)) <\(quoted(email))> differ from \(quoted(state.name)) <\(quoted(state.email))> at \(describe(state.where_)); "
                    + (state.fromCompany ? "the company file's are kept" : (company ? "the company file's are used" : "the first are kept")))
            if company && !state.fromCompany {
                state.name = name
                state.email = email
            }
        }
        if expiry != state.expiry {
            warn("\(place): alias \(alias): expiry \(expiry) differs from \(state.expiry) at \(describe(state.where_)); the earliest counts")
            state.expiry = min(state.expiry, expiry)
        }
        if company {
            state.fromCompany = true
            state.recurrences = recurrences
            state.where_ = origin
        }
        if let shop {
            if !state.shops.contains(shop) {
                state.shops.append(shop)
                if state.shops.count > 1 { state.shops.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
            }
            state.subscriptions += 1
        }
        aliases[alias] = state
    }

    private func quoted(_ s: String) -> String { abbreviated(Array(s.utf8), limit: 60) }

    /// Statuses, schedules' risk, summary and order.
    public mutating func finish() -> ExpiryReport {
        let o = report.options
        var summary: [ExpiryStatus: ExpiryReport.StatusSummary] = [:]
        for s in ExpiryStatus.allCases { summary[s] = .init() }
        // In place: the subscriptions are not copied (a million of them weigh hundreds of MB).
        var kept = 0
        for index in pending.indices {
            guard let state = aliases[pending[index].alias] else { continue }
            var sub = pending[index]
            sub.expiry = state.expiry
            sub.name = state.name
            sub.email = state.email
            sub.status = ExpiryStatus(expiry: state.expiry, asOf: o.asOf, thresholdMonths: o.thresholdMonths)
            if sub.risk.unknownReason == nil, case .success(let rule)? = rules[sub.rule] {
                sub.risk = ChargeRisk.compute(
                    schedule: Schedule(rule: rule, start: sub.effectDate), expiry: state.expiry, asOf: o.asOf,
                    horizonMonths: o.horizonMonths, amount: sub.amount, initialAmount: sub.initialAmount,
                    initialCount: sub.initialCount)
            }
            summary[sub.status]!.subscriptions += 1
            if let amount = sub.risk.amountAtRisk {
                summary[sub.status]!.amountAtRisk[sub.currency.code, default: 0] &+= amount
                aliases[sub.alias]?.amountAtRisk[sub.currency.code, default: 0] &+= amount
            }
            pending[kept] = sub
            kept += 1
        }
        pending.removeLast(pending.count - kept)
        var subscriptions = pending
        pending = []
        var list: [ExpiryReport.Alias] = []
        list.reserveCapacity(aliases.count)
        let haveShopFiles = report.files.contains(where: { $0.kind == .shop })
        var recurrenceMismatches: [(alias: String, company: Int, shops: Int)] = []
        for (alias, state) in aliases {
            if onlyShopAliases && state.shops.isEmpty { continue }
            if let count = state.recurrences, !onlyShopAliases, !state.shops.isEmpty || count > 0, haveShopFiles,
                count != state.subscriptions
            {
                recurrenceMismatches.append((alias, count, state.subscriptions))
            }
            let status = ExpiryStatus(expiry: state.expiry, asOf: o.asOf, thresholdMonths: o.thresholdMonths)
            summary[status]!.aliases += 1
            list.append(
                ExpiryReport.Alias(
                    alias: alias, name: state.name, email: state.email, expiry: state.expiry, status: status,
                    recurrences: state.recurrences, shops: state.shops, subscriptions: state.subscriptions,
                    amountAtRisk: state.amountAtRisk))
        }
        // Byte order for the identifiers (ASCII by the format): String's `<` compares Unicode
        // canonical forms, which costs seconds on a million rows.
        func before(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
        // The dictionary's order varies from run to run: warnings in alias order.
        recurrenceMismatches.sort { before($0.alias, $1.alias) }
        for m in recurrenceMismatches {
            warn("alias \(m.alias): the company file counts \(m.company) active recurrence\(m.company == 1 ? "" : "s"), the shop files list \(m.shops)")
        }
        // Sort indices, not the large structs (moving those copies and retains every field).
        // Integer keys first (status, expiry), computed once; the alias's bytes only on a tie.
        let aliasKeys = list.map { $0.status.rank << 32 | ($0.expiry.daysSinceEpoch + 1_000_000) }
        let aliasOrder = list.indices.sorted { i, j in
            if aliasKeys[i] != aliasKeys[j] { return aliasKeys[i] < aliasKeys[j] }
            return before(list[i].alias, list[j].alias)
        }
        list = aliasOrder.map { list[$0] }
        let never = Day(year: 9999, month: 12, day: 31)!.daysSinceEpoch
        let shopRank = Dictionary(
            uniqueKeysWithValues: Set(subscriptions.map(\.shopId)).sorted(by: before).enumerated().map { ($1, $0) })
        let subscriptionKeys = subscriptions.map {
            shopRank[$0.shopId]! << 32 | (($0.risk.firstChargeAfterExpiry?.daysSinceEpoch ?? never) + 1_000_000)
        }
        let subscriptionOrder = subscriptions.indices.sorted { i, j in
            if subscriptionKeys[i] != subscriptionKeys[j] { return subscriptionKeys[i] < subscriptionKeys[j] }
            if subscriptions[i].alias != subscriptions[j].alias { return before(subscriptions[i].alias, subscriptions[j].alias) }
            return before(subscriptions[i].subscriptionId, subscriptions[j].subscriptionId)
        }
        subscriptions = subscriptionOrder.map { subscriptions[$0] }
        report.aliases = list
        report.subscriptions = subscriptions
        report.summary = summary
        report.files.sort { $0.path < $1.path }
        if suppressedWarnings > 0 { warnings.append("… and \(suppressedWarnings) more warnings not listed") }
        report.warnings = warnings
        return report
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
