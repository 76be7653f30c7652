/// The alias-expiry report of one month's files of one environment: the model every format
/// (text, CSV, JSON) renders. Built by `ReportBuilder`; holds no clock and does no I/O.
public struct ExpiryReport: Sendable {
    public struct Options: Sendable {
        /// The reference date D.
        public var asOf: Day
        /// The alert threshold N in months (0...24).
        public var thresholdMonths = 2
        /// Charges at risk are counted up to D + this many months.
        public var horizonMonths = 12
        public var currency = Currency.euro
        /// Per-shop currencies, overriding `currency`.
        public var shopCurrencies: [String: Currency] = [:]

        public init(asOf: Day) { self.asOf = asOf }

        public func currency(forShop shop: String?) -> Currency {
            shop.flatMap { shopCurrencies[$0] } ?? currency
        }
    }

    /// One alias (card), merged over the company file and the shop files.
    public struct Alias: Sendable, Hashable {
        public var alias: String
        public var name: String
        public var email: String
        /// The earliest expiry any file gave.
        public var expiry: Day
        public var status: ExpiryStatus
        /// The company file's count of active recurrences; nil when the alias is only in shop files.
        public var recurrences: Int?
        /// Shops whose files list the alias, sorted.
        public var shops: [String]
        /// Subscriptions of the alias in the shop files read.
        public var subscriptions: Int
        /// Money at risk over its subscriptions, per currency code.
        public var amountAtRisk: [String: Int64]
    }

    /// One subscription (a shop file's detail) with its schedule's risk.
    public struct Subscription: Sendable, Hashable {
        public var shopId: String
        public var alias: String
        public var subscriptionId: String
        public var name: String
        public var email: String
        /// The alias's (merged) expiry.
        public var expiry: Day
        public var status: ExpiryStatus
        public var rule: String
        public var effectDate: Day
        /// As written: shown, never computed with.
        public var recurrenceCounter: String
        public var amount: Int64
        public var initialAmount: Int64?
        public var initialCount: Int
        public var currency: Currency
        public var risk: ChargeRisk
    }

    /// Per status: aliases, subscriptions and money at risk.
    public struct StatusSummary: Sendable, Hashable {
        public var aliases = 0
        public var subscriptions = 0
        public var amountAtRisk: [String: Int64] = [:]
        public init() {}
    }

    /// A file the report did not use, and why.
    public struct Excluded: Sendable, Hashable {
        public var path: String
        public var reason: String
    }

    public var options: Options
    public var environment: Environment?
    public var month: YearMonth?
    /// The company's trading name (ENS) from the company file's name, when read.
    public var companyLabel: String?
    /// Shop labels (PDV) by shop id, from the shop files' names.
    public var shopLabels: [String: String] = [:]
    /// The files read, in path order.
    public var files: [ParsedFile] = []
    public var excluded: [Excluded] = []
    /// The aliases and subscriptions, as compact records (see `ReportStore`).
    var store = ReportStore.empty
    /// Sorted: status (expired, expiring, later), expiry, alias.
    public var aliases: Aliases { Aliases(store: store) }
    /// Sorted: shop, first charge after expiry (unknown last), alias, subscription id.
    public var subscriptions: Subscriptions { Subscriptions(store: store) }
    public var summary: [ExpiryStatus: StatusSummary] = [:]
    /// Report-level warnings (disagreements between files, unknown schedules), capped.
    public var warnings: [ReportWarning] = []
    /// The network's notifications (ITN) reconciled with the files; nil with `--no-itn` or
    /// when the archive has no notification store.
    public var network: NetworkReconciliation?

    public init(options: Options) { self.options = options }

    public var problemCount: Int { files.reduce(0) { $0 + $1.problems.count + ($1.unreadable == nil ? 0 : 1) } }
    public var filesWithProblems: Int { files.filter { !$0.isClean }.count }
    /// Warnings of the report and of its files.
    public var warningCount: Int { warnings.count + files.reduce(0) { $0 + $1.warnings.count } }
    public var thresholdEnd: Day { options.asOf.adding(months: options.thresholdMonths) }
    public var horizonEnd: Day { options.asOf.adding(months: options.horizonMonths) }
}

extension ExpiryReport {
    /// The report's aliases in order; each element is built when accessed (the formats read the
    /// compact records directly).
    public struct Aliases: RandomAccessCollection, Sendable {
        let store: ReportStore
        public var startIndex: Int { 0 }
        public var endIndex: Int { store.aliasOrder.count }
        public subscript(position: Int) -> Alias { store.alias(Int(store.aliasOrder[position])) }
    }

    /// The report's subscriptions in order, each built when accessed.
    public struct Subscriptions: RandomAccessCollection, Sendable {
        let store: ReportStore
        public var startIndex: Int { 0 }
        public var endIndex: Int { store.subscriptionOrder.count }
        public subscript(position: Int) -> Subscription { store.subscription(Int(store.subscriptionOrder[position])) }
    }
}
