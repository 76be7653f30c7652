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
        var shops: Set<String> = []
        var subscriptions = 0
        var where_: String
    }

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
            var details: [Detail] = []
            let file = ExpCardsParser.parse(path: path, limits: limits) { details.append($0) }
            builder.add(file: file, details: details)
            _ = name
        }
        builder.report.environment = selection.environment
        builder.report.month = selection.month
        builder.report.excluded = selection.excluded
        return builder.finish()
    }

    /// Adds one parsed file and its valid details.
    public mutating func add(file: ParsedFile, details: [Detail]) {
        report.files.append(file)
        if let name = file.name {
            if name.kind == .company { report.companyLabel = name.label }
            if let shop = name.shopId { report.shopLabels[shop] = name.label }
        }
        let shopId = file.shopId
        for detail in details {
            switch detail {
            case .company(let d):
                addAlias(d.alias, name: d.name, email: d.email, expiry: d.expiry, company: true, recurrences: d.recurrences, shop: nil, at: "\(file.path):\(d.line)")
            case .shop(let d):
                guard let shopId else { continue }
                addAlias(d.alias, name: d.name, email: d.email, expiry: d.expiry, company: false, recurrences: nil, shop: shopId, at: "\(file.path):\(d.line)")
                let currency = report.options.currency(forShop: shopId)
                let parsed: Result<RecurrenceRule, RecurrenceRuleError>
                if let cached = rules[d.rule] {
                    parsed = cached
                } else {
                    parsed = RecurrenceRule.parse(d.rule)
                    rules[d.rule] = parsed
                }
                pending.append(
                    ExpiryReport.Subscription(
                        shopId: shopId, alias: d.alias, subscriptionId: d.subscriptionId, name: d.name, email: d.email,
                        expiry: d.expiry, status: .later, rule: d.rule, effectDate: d.effectDate,
                        recurrenceCounter: d.recurrenceCounter, amount: d.amount, initialAmount: d.initialAmount,
                        initialCount: d.initialCount, currency: currency,
                        risk: parsed.failure.map { ChargeRisk.unknown($0) }
                            ?? ChargeRisk(nextCharge: nil, firstChargeAfterExpiry: nil, chargesAtRisk: nil, amountAtRisk: nil, unknownReason: nil)))
                if case .failure(let reason) = parsed {
                    warn("\(file.path):\(d.line): subscription \(d.subscriptionId): schedule unknown (\(reason)); its charges are not counted")
                }
            }
        }
    }

    private mutating func addAlias(
        _ alias: String, name: String, email: String, expiry: Day, company: Bool, recurrences: Int?, shop: String?, at place: String
    ) {
        guard var state = aliases[alias] else {
            var s = AliasState(name: name, email: email, expiry: expiry, fromCompany: company, recurrences: recurrences, where_: place)
            if let shop { s.shops.insert(shop); s.subscriptions = 1 }
            aliases[alias] = s
            return
        }
        if company && state.fromCompany {
            warn("\(place): alias \(alias) is listed again in the company file (first at \(state.where_))")
        }
        if name != state.name || email != state.email {
            warn(
                "\(place): alias \(alias): name/e-mail \(quoted(name)) <\(quoted(email))> differ from \(quoted(state.name)) <\(quoted(state.email))> at \(state.where_); "
                    + (state.fromCompany ? "the company file's are kept" : (company ? "the company file's are used" : "the first are kept")))
            if company && !state.fromCompany {
                state.name = name
                state.email = email
            }
        }
        if expiry != state.expiry {
            warn("\(place): alias \(alias): expiry \(expiry) differs from \(state.expiry) at \(state.where_); the earliest counts")
            state.expiry = min(state.expiry, expiry)
        }
        if company {
            state.fromCompany = true
            state.recurrences = recurrences
            state.where_ = place
        }
        if let shop {
            state.shops.insert(shop)
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
        var perAlias: [String: [String: Int64]] = [:]
        var subscriptions: [ExpiryReport.Subscription] = []
        subscriptions.reserveCapacity(pending.count)
        for var sub in pending {
            guard let state = aliases[sub.alias] else { continue }
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
                perAlias[sub.alias, default: [:]][sub.currency.code, default: 0] &+= amount
            }
            subscriptions.append(sub)
        }
        var list: [ExpiryReport.Alias] = []
        list.reserveCapacity(aliases.count)
        for (alias, state) in aliases.sorted(by: { $0.key < $1.key }) {  // sorted: warnings in a stable order
            if onlyShopAliases && state.shops.isEmpty { continue }
            if let count = state.recurrences, !onlyShopAliases, !state.shops.isEmpty || count > 0,
                report.files.contains(where: { $0.kind == .shop }), count != state.subscriptions
            {
                warn("alias \(alias): the company file counts \(count) active recurrence\(count == 1 ? "" : "s"), the shop files list \(state.subscriptions)")
            }
            let status = ExpiryStatus(expiry: state.expiry, asOf: o.asOf, thresholdMonths: o.thresholdMonths)
            summary[status]!.aliases += 1
            list.append(
                ExpiryReport.Alias(
                    alias: alias, name: state.name, email: state.email, expiry: state.expiry, status: status,
                    recurrences: state.recurrences, shops: state.shops.sorted(), subscriptions: state.subscriptions,
                    amountAtRisk: perAlias[alias] ?? [:]))
        }
        list.sort { ($0.status, $0.expiry, $0.alias) < ($1.status, $1.expiry, $1.alias) }
        subscriptions.sort { a, b in
            let fa = a.risk.firstChargeAfterExpiry ?? Day(year: 9999, month: 12, day: 31)!
            let fb = b.risk.firstChargeAfterExpiry ?? Day(year: 9999, month: 12, day: 31)!
            return (a.shopId, fa, a.alias, a.subscriptionId) < (b.shopId, fb, b.alias, b.subscriptionId)
        }
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
