/// The month's file seen through the network's notifications (ITN): for each alias of the
/// report, its latest notification in the report's environment and what customer care should do.
public struct NetworkReconciliation: Sendable {
    /// What an alias asks of customer care.
    public enum Action: String, Sendable, CaseIterable, Comparable {
        /// An active network token whose card now expires later than the file says: no contact.
        case renewed
        /// Expired or expiring and not renewed; or the token suspended or deleted; or the alias
        /// cancelled while subscriptions remain.
        case contact
        case none

        public static func < (a: Action, b: Action) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// Where the notifications came from (the store's path), for the report's header.
    public var source: String
    /// By alias id of the report's store: the latest notification, if any.
    let records: [NotificationRecord?]
    /// By alias id: the action.
    let actions: [Action]
    /// Aliases not in the month's files whose token was suspended or deleted since `since`:
    /// deleted first, then suspended, latest first.
    public var absent: [NotificationRecord]
    /// The start of the window `absent` covers: the first day of the month before the report's.
    public var since: Day
    /// Per status, the aliases of each action.
    public var counts: [ExpiryStatus: [Action: Int]] = [:]
    /// Per status, the money at risk of the renewed aliases: what the renewals remove.
    public var amountRemoved: [ExpiryStatus: [String: Int64]] = [:]
    /// Lines of the store that could not be read (they are left out).
    public var problems: [NotificationStore.Problem]

    /// The rule, for one alias. `subscriptions` counts the shop files' subscriptions and the
    /// company file's active recurrences, whichever is larger.
    public static func action(
        status: ExpiryStatus, expiry: Day, subscriptions: Int, latest n: TokenNotification?
    ) -> Action {
        if let n {
            if n.tokenStatus == .suspended || n.tokenStatus == .deleted { return .contact }
            if n.aliasStatus == .cancelled { return subscriptions > 0 ? .contact : .none }
            if let renewed = n.cardExpiry, renewed > YearMonth(expiry) { return .renewed }
        }
        return status == .later ? .none : .contact
    }

    /// Reconciles `report` with the latest notification of each alias (`latest`, by alias, of
    /// the report's environment).
    public init(
        report: ExpiryReport, latest: [String: NotificationRecord], source: String,
        problems: [NotificationStore.Problem] = []
    ) {
        let store = report.store
        self.source = source
        self.problems = problems
        var records: [NotificationRecord?] = []
        var actions: [Action] = []
        records.reserveCapacity(store.aliases.count)
        actions.reserveCapacity(store.aliases.count)
        var seen = Set<String>()
        for id in store.aliases.indices {
            let a = store.alias(id)
            let record = latest[a.alias]
            if record != nil { seen.insert(a.alias) }
            let action = Self.action(
                status: a.status, expiry: a.expiry, subscriptions: max(a.subscriptions, a.recurrences ?? 0),
                latest: record?.notification)
            records.append(record)
            actions.append(action)
            counts[a.status, default: [:]][action, default: 0] += 1
            if action == .renewed {
                for (code, amount) in a.amountAtRisk {
                    amountRemoved[a.status, default: [:]][code, default: 0] += amount
                }
            }
        }
        self.records = records
        self.actions = actions
        let month = report.month ?? YearMonth(report.options.asOf)
        since = month.adding(months: -1).firstDay
        let sinceTime = Timestamp(milliseconds: Int64(since.daysSinceEpoch) * 86_400_000)
        absent = latest.values.filter {
            !seen.contains($0.notification.alias) && $0.notifiedAt >= sinceTime
                && ($0.notification.tokenStatus == .suspended || $0.notification.tokenStatus == .deleted)
        }.sorted {
            let (a, b) = ($0.notification, $1.notification)
            if a.tokenStatus != b.tokenStatus { return a.tokenStatus == .deleted }
            if $0.notifiedAt != $1.notifiedAt { return $0.notifiedAt > $1.notifiedAt }
            return a.alias < b.alias
        }
    }

    /// The latest notification and the action of the report's alias `id` (a store id).
    func entry(alias id: Int) -> (record: NotificationRecord?, action: Action) { (records[id], actions[id]) }

    public func count(_ status: ExpiryStatus, _ action: Action) -> Int { counts[status]?[action] ?? 0 }
}

extension ExpiryReport {
    /// The latest notification and the action for `alias`; nil when no reconciliation was done
    /// or the alias is not in the report.
    public func network(of alias: String) -> (record: NotificationRecord?, action: NetworkReconciliation.Action)? {
        // A scan: for tests and single lookups; the formats walk the ids.
        guard let network, let id = store.aliases.indices.first(where: { store.aliasString($0) == alias }) else {
            return nil
        }
        return network.entry(alias: id)
    }
}
