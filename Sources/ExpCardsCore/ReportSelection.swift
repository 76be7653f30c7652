/// Chooses the files of one report from their names alone, before any is read: one environment
/// (production when any production file is there, else test), one month (the newest of that
/// environment unless given), optionally some shops. Every file left out is named with its reason.
public struct ReportSelection: Sendable {
    public var environment: Environment?
    public var month: YearMonth?
    public var selected: [(path: String, name: ExpCardsFileName)] = []
    public var excluded: [ExpiryReport.Excluded] = []

    public init(
        paths: [String], mode: Environment? = nil, month wanted: YearMonth? = nil, shops: Set<String> = []
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
        let env = mode ?? (named.contains { $0.1.environment == .production } ? .production : (named.isEmpty ? nil : .test))
        environment = env
        let months = named.filter { $0.1.environment == env }.map(\.1.month)
        month = wanted ?? months.max()
        for (path, name) in named {
            if name.environment != env {
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
