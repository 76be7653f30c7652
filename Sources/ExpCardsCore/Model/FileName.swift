/// The platform's file-name grammar.
///
/// - company: `AAAAMM.EXP_CARDS.ENS.z.csv`, e.g. `201810.EXP_CARDS.MA-ENS.T.csv`
/// - shop: `AAAAMM.SHOP_KEY.EXP_CARDS.PDV.z.csv`, e.g. `201810.87654321.EXP_CARDS.PDV.T.csv`
///
/// Labels (ENS, PDV) may hold dots and dashes, so the name is read from both ends. Either kind may
/// end in `.csv.gz`: the platform gzips its files 7 days after upload, and it is the same file.
public struct ExpCardsFileName: Hashable, Sendable, CustomStringConvertible {
    public let kind: FileKind
    /// `AAAAMM`: the month the platform generated the file.
    public let month: YearMonth
    /// `SHOP_KEY`, 8 digits; nil for the company file.
    public let shopId: String?
    /// ENS (company trading name) or PDV (shop label).
    public let label: String
    public let environment: Environment
    /// Ends in `.csv.gz`.
    public let compressed: Bool
    /// The name as given.
    public let name: String

    /// Parses a bare file name (no directory); nil when it is not an EXP_CARDS name.
    public init?(_ name: String) {
        var u = Array(name.utf8)
        guard !u.contains(UInt8(ascii: "/")), !u.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        let gz = Array(".csv.gz".utf8)
        let csv = Array(".csv".utf8)
        if u.count > gz.count, u.suffix(gz.count).elementsEqual(gz) {
            compressed = true
            u.removeLast(gz.count)
        } else if u.count > csv.count, u.suffix(csv.count).elementsEqual(csv) {
            compressed = false
            u.removeLast(csv.count)
        } else {
            return nil
        }
        // `.z` environment letter at the end.
        guard u.count >= 2, u[u.count - 2] == UInt8(ascii: "."), let env = Environment(code: u[u.count - 1])
        else { return nil }
        u.removeLast(2)
        // `AAAAMM.` at the start.
        guard u.count > 7, u[6] == UInt8(ascii: "."), u[0..<6].allSatisfy(isDigit),
            let ym = YearMonth(year: number(u[0..<4]), month: number(u[4..<6]))
        else { return nil }
        var rest = Array(u[7...])
        let marker = Array("EXP_CARDS.".utf8)
        var shop: String?
        if rest.count > 9, rest[8] == UInt8(ascii: "."), rest[0..<8].allSatisfy(isDigit),
            rest[9...].starts(with: marker)
        {
            shop = String(decoding: rest[0..<8], as: UTF8.self)
            rest.removeFirst(9)
        }
        guard rest.starts(with: marker), rest.count > marker.count else { return nil }
        let label = rest[marker.count...]
        guard !label.isEmpty, let labelText = String(validating: label, as: UTF8.self) else { return nil }
        self.kind = shop == nil ? .company : .shop
        self.month = ym
        self.shopId = shop
        self.label = labelText
        self.environment = env
        self.name = name
    }

    /// The file's identity: its name without `.gz`, since `X.csv` and `X.csv.gz` are the same file.
    public var canonicalName: String { compressed ? String(name.dropLast(3)) : name }

    public var description: String { name }
}

@inline(__always) func isDigit(_ c: UInt8) -> Bool { c &- 48 < 10 }

@inline(__always) func number<C: Collection>(_ digits: C) -> Int where C.Element == UInt8 {
    digits.reduce(0) { $0 &* 10 &+ Int($1 &- 48) }
}
