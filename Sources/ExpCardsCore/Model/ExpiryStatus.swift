/// Where a card stands against the alert threshold, as the platform's back office colours it.
public enum ExpiryStatus: String, Hashable, Sendable, CaseIterable, Comparable {
    /// Red: the card has expired (E < D); the alert period is over.
    case expired
    /// Orange: D <= E <= D + N months; the alert period has started.
    case expiring
    /// E > D + N months: beyond this tool's threshold (smaller than the back office's, or an old file).
    case later

    /// The status of a card expiring on `expiry` (valid through that day) seen on `asOf`, with an
    /// alert threshold of `thresholdMonths` calendar months (the day clamped to the month's end).
    public init(expiry: Day, asOf: Day, thresholdMonths: Int) {
        if expiry < asOf {
            self = .expired
        } else if expiry <= asOf.adding(months: thresholdMonths) {
            self = .expiring
        } else {
            self = .later
        }
    }

    /// Report order: expired, expiring, later.
    public var rank: Int {
        switch self {
        case .expired: 0
        case .expiring: 1
        case .later: 2
        }
    }

    public static func < (a: ExpiryStatus, b: ExpiryStatus) -> Bool { a.rank < b.rank }
}
