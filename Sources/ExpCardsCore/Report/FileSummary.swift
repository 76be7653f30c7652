/// One file as `check --format json` and the report's `files` show it: a contract for scripts.
public struct FileSummary: Encodable, Sendable {
    public var path: String
    public var kind: FileKind?
    public var environment: Environment?
    public var month: YearMonth?
    public var shopId: String?
    public var details: Int
    public var problems: [Problem]
    public var warnings: [String]

    public init(_ file: ParsedFile) {
        path = file.path
        kind = file.kind
        environment = file.environment
        month = file.month
        shopId = file.shopId
        details = file.detailRecords
        problems = file.problems
        if let unreadable = file.unreadable {
            problems.insert(Problem(file: file.path, line: 0, expected: "a readable file", found: unreadable), at: 0)
        }
        warnings = file.warnings
    }

    private enum Keys: String, CodingKey {
        case path, kind, environment, month, shopId, details, problems, warnings
        case line, field, message
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(path, forKey: .path)
        // Unknown values are explicit nulls, not missing keys.
        try c.encode(kind?.rawValue, forKey: .kind)
        try c.encode(environment?.rawValue, forKey: .environment)
        try c.encode(month?.description, forKey: .month)
        try c.encode(shopId, forKey: .shopId)
        try c.encode(details, forKey: .details)
        var list = c.nestedUnkeyedContainer(forKey: .problems)
        for p in problems {
            var o = list.nestedContainer(keyedBy: Keys.self)
            try o.encode(p.line, forKey: .line)
            try o.encode(p.field, forKey: .field)
            try o.encode(p.message, forKey: .message)
        }
        try c.encode(warnings, forKey: .warnings)
    }
}
