/// The text of `expcards check`: one line per file, then its problems and warnings indented.
public enum CheckText {
    public static func render(_ file: ParsedFile) -> String {
        if let unreadable = file.unreadable, file.problems.isEmpty {
            return "UNREADABLE \(file.path): \(unreadable)\n"
        }
        var facts: [String] = []
        if let kind = file.kind { facts.append(kind.rawValue) }
        if let env = file.environment { facts.append(env.rawValue) }
        if let month = file.month { facts.append(month.description) }
        if let shop = file.shopId { facts.append("shop \(shop)") }
        if file.name != nil {
            facts.append("\(file.detailRecords) detail\(file.detailRecords == 1 ? "" : "s")")
        }
        if file.compressed { facts.append("gzip") }
        var out = file.isClean ? "OK" : "FAIL"
        out += " \(file.path)"
        if !facts.isEmpty { out += " (\(facts.joined(separator: ", ")))" }
        if !file.problems.isEmpty {
            out += ": \(file.problems.count) problem\(file.problems.count == 1 ? "" : "s")"
        }
        out += "\n"
        if let unreadable = file.unreadable { out += "  \(unreadable)\n" }
        for p in file.problems { out += "  \(p)\n" }
        for w in file.warnings { out += "  warning: \(w)\n" }
        return out
    }
}
