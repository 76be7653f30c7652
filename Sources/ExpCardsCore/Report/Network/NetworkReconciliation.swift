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
    /// The alias ids whose alias the network cancelled while subscriptions or recurrences remain.
    let cancelledWhileCharged: Set<Int>
    /// Aliases not in the month's files whose token was suspended or deleted since `since`:
    /// deleted first, then suspended, latest first.
    public var absent: [NotificationRecord]
    /// The start of the window `absent` covers: the first day of the month before the report's.
    public var since: Day
    /// Whether `absent` was left empty because the report is restricted to shops: a notification
    /// names no shop, so an alias of no file cannot be given to one (the company's report lists it).
    public var absentOmitted: Bool
    /// Per status, the aliases of each action.
    public var counts: [ExpiryStatus: [Action: Int]] = [:]
    /// Per status, the money at risk of the renewed aliases: what the renewals remove.
    public var amountRemoved: [ExpiryStatus: [String: Int64]] = [:]
    /// Lines of the store that could not be read (they are left out).
    public var problems: [NotificationStore.Problem]
    /// When the store's last notification (of any environment) was received; nil when it holds none.
    public var lastReceived: Timestamp?

    /// Days without a notification after which the report warns: the platform neither retries
    /// nor alerts, so an endpoint that stopped receiving is seen only here.
    public static let silenceDays = 35

    /// The warning for a store that received nothing for `silenceDays` before `asOf`, or nothing
    /// at all; nil otherwise.
    public func silenceWarning(asOf: Day) -> String? {
        guard let lastReceived else {
            return "the network's notification store (\(source)) holds no notification: check that the "
                + "platform's ITN points at 'expcards itn serve' (or import them with 'expcards itn import')"
        }
        let days = asOf.daysSinceEpoch - lastReceived.day.daysSinceEpoch
        guard days > Self.silenceDays else { return nil }
        return "no network notification received for \(days) days (the last on \(lastReceived.day), in \(source)): "
            + "the platform does not retry a failed one; check that 'expcards itn serve' is up and reachable"
    }

    /// The rule, for one alias. `subscriptions` counts the shop files' subscriptions and the
    /// company file's active recurrences, whichever is larger.
    public static func action(
        status: ExpiryStatus, expiry: Day, subscriptions: Int, latest n: TokenNotification?
    ) -> Action {
        if let n {
            if n.tokenStatus == .suspended || n.tokenStatus == .deleted { return .contact }
            // A cancelled alias with nothing left to charge falls to the other rules: expired
            // or expiring and not renewed is still a call, as the rule reads.
            if n.aliasStatus == .cancelled && subscriptions > 0 { return .contact }
            if let renewed = n.cardExpiry, renewed > YearMonth(expiry) { return .renewed }
        }
        return status == .later ? .none : .contact
    }

    /// Reconciles `report` with the latest notification of each alias (`latest`, by alias, of
    /// the report's environment).
    public init(
        report: ExpiryReport, latest: [String: NotificationRecord], source: String,
        problems: [NotificationStore.Problem] = [], lastReceived: Timestamp? = nil, shopsOnly: Bool = false
    ) {
        let store = report.store
        self.source = source
        self.problems = problems
        self.lastReceived = lastReceived ?? latest.values.map(\.receivedAt).max()
        var records: [NotificationRecord?] = []
        var actions: [Action] = []
        records.reserveCapacity(store.aliases.count)
        actions.reserveCapacity(store.aliases.count)
        var seen = Set<String>()
        var cancelledWhileCharged = Set<Int>()
        for id in store.aliases.indices {
            let a = store.alias(id)
            let record = latest[a.alias]
            if record != nil { seen.insert(a.alias) }
            let subscriptions = max(a.subscriptions, a.recurrences ?? 0)
            if record?.notification.aliasStatus == .cancelled && subscriptions > 0 { cancelledWhileCharged.insert(id) }
            records.append(record)
            actions.append(
                Self.action(
                    status: a.status, expiry: a.expiry, subscriptions: subscriptions, latest: record?.notification))
        }
        self.cancelledWhileCharged = cancelledWhileCharged
        // Counted over the aliases the report shows (`--shop` leaves the others out).
        for idU in store.aliasOrder {
            let id = Int(idU)
            let status = store.status(id)
            counts[status, default: [:]][actions[id], default: 0] += 1
            if actions[id] == .renewed {
                for (code, amount) in store.alias(id).amountAtRisk {
                    amountRemoved[status, default: [:]][code, default: 0].addSaturating(amount)
                }
            }
        }
        self.records = records
        self.actions = actions
        absentOmitted = shopsOnly
        let month = report.month ?? YearMonth(report.options.asOf)
        since = month.adding(months: -1).firstDay
        let sinceTime = Timestamp(milliseconds: Int64(since.daysSinceEpoch) * 86_400_000)
        absent = latest.values.filter {
            !shopsOnly && !seen.contains($0.notification.alias) && $0.notifiedAt >= sinceTime
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

    /// Where an alias goes in the lists customer care works through: the accounts the network
    /// closed, then the cards it suspended, then the rest, the cards it renewed last.
    enum Group: Int, Comparable {
        case closed, suspended, other, renewed
        static func < (a: Group, b: Group) -> Bool { a.rawValue < b.rawValue }
    }

    func group(alias id: Int) -> Group {
        if actions[id] == .renewed { return .renewed }
        switch records[id]?.notification.tokenStatus {
        case .deleted: return .closed
        case .suspended: return .suspended
        default: return .other
        }
    }

    /// The report's aliases (store ids, in `order`) the network's notifications speak of, in the
    /// lists the formats show: closed accounts then suspended cards (contact first), aliases
    /// cancelled while subscriptions remain, and the cards renewed (no action).
    struct Lists {
        var first: [(id: Int, record: NotificationRecord)] = []
        var cancelled: [(id: Int, record: NotificationRecord)] = []
        var renewed: [(id: Int, record: NotificationRecord)] = []
    }

    func lists(_ order: [UInt32]) -> Lists {
        var lists = Lists()
        var suspended: [(id: Int, record: NotificationRecord)] = []
        for idU in order {
            let id = Int(idU)
            guard let record = records[id] else { continue }
            switch group(alias: id) {
            case .closed: lists.first.append((id, record))
            case .suspended: suspended.append((id, record))
            case .renewed: lists.renewed.append((id, record))
            case .other:
                if cancelledWhileCharged.contains(id) {
                    lists.cancelled.append((id, record))
                }
            }
        }
        lists.first += suspended
        return lists
    }

    /// What the formats say when `absentOmitted`.
    static let absentOmittedNote =
        "Aliases in no file of the month that the network suspended or closed are not listed in a report "
        + "restricted to shops: a notification names no shop (the company's report lists them)."

    /// All the aliases to contact, of every status.
    public var contactCount: Int { counts.values.reduce(0) { $0 + ($1[.contact] ?? 0) } }
    /// Everyone customer care must call: the report's aliases to contact and the aliases of no
    /// file that the network suspended or closed. What the verdict and the mail's subject count.
    public var callCount: Int { contactCount + absent.count }
    /// All the aliases the network renewed, of every status.
    public var renewedCount: Int { counts.values.reduce(0) { $0 + ($1[.renewed] ?? 0) } }
    /// The money at risk the renewals remove, of every status, by currency.
    public var totalAmountRemoved: [String: Int64] {
        var removed: [String: Int64] = [:]
        for amounts in amountRemoved.values { for (c, v) in amounts { removed[c, default: 0].addSaturating(v) } }
        return removed
    }

    /// `order` (store ids in the report's order) regrouped by `group`, each group in the report's
    /// order (a stable partition, linear in the aliases), and how many closed or suspended lead.
    func contactOrder(_ order: [UInt32]) -> (order: [UInt32], closedOrSuspended: Int) {
        var groups: [[UInt32]] = [[], [], [], []]
        for id in order { groups[group(alias: Int(id)).rawValue].append(id) }
        return (groups.flatMap { $0 }, groups[0].count + groups[1].count)
    }
}

extension ExpiryReport {
    /// The latest notification and the action of the store's alias `id`: without a
    /// reconciliation, the action the files alone give.
    func networkEntry(alias id: Int) -> (record: NotificationRecord?, action: NetworkReconciliation.Action) {
        if let network { return network.entry(alias: id) }
        let a = store.aliases[id]
        return (
            nil,
            NetworkReconciliation.action(
                status: store.status(id), expiry: .init(daysSinceEpoch: Int(a.expiry)),
                subscriptions: max(Int(a.subscriptions), Int(a.recurrences)), latest: nil)
        )
    }

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

/// The words the text report and the mail both use for what the network said.
extension TokenNotification {
    /// `, VISA …0114`: the card's network and last four digits, when given.
    var cardWords: String {
        let parts = [method?.rawValue, lastFour.map { "…" + $0 }].compactMap { $0 }
        return parts.isEmpty ? "" : ", " + parts.joined(separator: " ")
    }
}

extension NotificationRecord {
    /// `card SUSPENDED on 2026-10-25, VISA …0114`, `account CLOSED (token DELETED) on …`.
    var tokenPhrase: String {
        let word = notification.tokenStatus == .deleted ? "account CLOSED (token DELETED)" : "card SUSPENDED"
        return word + " on \(notifiedAt.day)" + notification.cardWords
    }
}
