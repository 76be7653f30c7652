/// A valid detail record as the parser's bytes, lent to `onDetailView` for the time of the call.
///
/// The fields point into the parser's read buffer, which the next line overwrites: a handler
/// that keeps anything copies it (`detail` builds the owned form, with Strings). This is what
/// lets a report over millions of lines keep compact bytes instead of seven Strings per detail.
public struct DetailView {
    public let kind: FileKind
    /// The line number, from 1.
    public let line: Int
    /// 1 to 50 printable ASCII bytes.
    public let alias: UnsafeBufferPointer<UInt8>
    /// UTF-8, or ISO-8859-1 when `nameIsLatin1`; no NUL byte; may be empty.
    public let name: UnsafeBufferPointer<UInt8>
    public let nameIsLatin1: Bool
    /// As `name`.
    public let email: UnsafeBufferPointer<UInt8>
    public let emailIsLatin1: Bool
    public let expiry: Day
    /// Company files: the active recurrences of the alias. 0 in shop files.
    public let recurrences: Int
    /// Shop files: printable ASCII. Empty in company files.
    public let subscriptionId: UnsafeBufferPointer<UInt8>
    /// Shop files: `N/M` or `N`, as written. Empty in company files.
    public let recurrenceCounter: UnsafeBufferPointer<UInt8>
    /// Shop files: the RRULE text, printable ASCII. Empty in company files.
    public let rule: UnsafeBufferPointer<UInt8>
    /// Shop files only.
    public let effectDate: Day?
    public let amount: Int64
    public let initialAmount: Int64?
    public let initialCount: Int

    /// Text bytes as a String: UTF-8, or ISO-8859-1 (every byte the scalar of the same value).
    public static func string(_ bytes: UnsafeBufferPointer<UInt8>, latin1: Bool = false) -> String {
        guard latin1 else { return String(decoding: bytes, as: UTF8.self) }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: bytes.lazy.map { Unicode.Scalar($0) })
        return String(s)
    }

    /// The owned form, with Strings.
    public var detail: Detail {
        let alias = DetailView.string(alias)
        let name = DetailView.string(name, latin1: nameIsLatin1)
        let email = DetailView.string(email, latin1: emailIsLatin1)
        guard kind == .shop, let effectDate else {
            return .company(
                CompanyDetail(
                    line: line, alias: alias, name: name, email: email, expiry: expiry, recurrences: recurrences))
        }
        return .shop(
            ShopDetail(
                line: line, alias: alias, name: name, email: email, expiry: expiry,
                subscriptionId: DetailView.string(subscriptionId),
                recurrenceCounter: DetailView.string(recurrenceCounter),
                rule: DetailView.string(rule), effectDate: effectDate, amount: amount, initialAmount: initialAmount,
                initialCount: initialCount))
    }
}
