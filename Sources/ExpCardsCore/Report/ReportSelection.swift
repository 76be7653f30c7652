/// Chooses the files of one report from their names alone, before any is read: one environment
/// (production when any production file is there, else test), one month (the newest of that
/// environment unless given), optionally some shops. Every file left out is named with its reason.
///
/// The newest month is taken among months no later than the month after `asOf`'s (the
/// platform writes a month's file on its 1st, so next month's can exist near a month's end, in
/// some time zone); a later one (`209912.EXP_CARDS.X.P.csv`, planted or mistyped) would
/// otherwise make every report an empty report of that month. Such files are left out with a
/// warning; `month` given explicitly selects them.
public struct ReportSelection: Sendable {
    public var environment: Environment?
    public var month: YearMonth?
    public var selected: [(path: String, name: ExpCardsFileName)] = []
    public var excluded: [ExpiryReport.Excluded] = []
    /// What the caller should say (on stderr): files of future months left out.
    public var warnings: [String] = []

    public init(
        paths: [String], asOf: Day, mode: Environment? = nil, month wanted: YearMonth? = nil, shops: Set<String> = []
    ) {
        var named: [(String, ExpCardsFileName)] = []
        for path in paths.sorted() {
            let base = String(path.split(separator: "/").last ?? Substring(path))
            if let name = ExpCardsFileName(base) {
                named.append((path, name))
            } else {
                excluded.append(.init(path: path, reason: "not an EXP_CARDS file name"))
            }
        }
        // X.csv and X.csv.gz are the same file: keep one (the plain one).
        var seen: [String: String] = [:]
        named = named.filter { path, name in
            let key = String(path.dropLast(name.name.utf8.count)) + name.canonicalName
            if let other = seen[key] {
                excluded.append(.init(path: path, reason: "the same file as \(other)"))
                return false
            }
            seen[key] = path
            return true
        }
        let env =
            mode ?? (named.contains { $0.1.environment == .production } ? .production : (named.isEmpty ? nil : .test))
        environment = env
        let latest = YearMonth(asOf).adding(months: 1)
        let months = named.filter { $0.1.environment == env }.map(\.1.month)
        month = wanted ?? months.filter { $0 <= latest }.max()
        for (path, name) in named {
            if wanted == nil, name.environment == env, name.month > latest {
                let reason =
                    "month \(name.month) is later than next month (\(latest)): left out unless named with --month"
                excluded.append(.init(path: path, reason: reason))
                warnings.append("\(path): \(reason)")
            } else if name.environment != env {
                excluded.append(.init(path: path, reason: "\(name.environment.rawValue) environment"))
            } else if name.month != month {
                excluded.append(.init(path: path, reason: "month \(name.month)"))
            } else if !shops.isEmpty, name.kind == .shop, let shop = name.shopId, !shops.contains(shop) {
                excluded.append(.init(path: path, reason: "shop \(shop) not selected"))
            } else {
                selected.append((path, name))
            }
        }
        excluded.sort { $0.path < $1.path }
    }
}
