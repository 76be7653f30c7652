/// An ISO 4217 currency: the file's amounts are integers in its smallest unit, and the file does
/// not name the currency, so the merchant says which (globally or per shop).
public struct Currency: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let code: String
    /// Digits after the decimal point (EUR 2, JPY 0, TND 3).
    public let minorDigits: Int

    public init?(code: String) {
        let upper = code.uppercased()
        guard let digits = Currency.minorUnits[upper] else { return nil }
        self.code = upper
        self.minorDigits = digits
    }

    public static let euro = Currency(code: "EUR")!

    /// ISO 4217 minor units of the currencies the platform's brands settle in, and the usual others.
    /// A short table beats a dependency: it changes once in years.
    static let minorUnits: [String: Int] = {
        var t: [String: Int] = [:]
        for c in [
            "AED", "ARS", "AUD", "BGN", "BRL", "CAD", "CHF", "CNY", "COP", "CZK", "DKK", "DZD", "EGP", "EUR", "GBP",
            "HKD", "HUF", "IDR", "ILS", "INR", "MAD", "MUR", "MXN", "MYR", "NOK", "NZD", "PEN", "PHP", "PLN", "QAR",
            "RON", "RUB", "SAR", "SEK", "SGD", "THB", "TRY", "TWD", "UAH", "USD", "XCD", "ZAR", "MGA", "SCR", "NGN",
            "KES", "GHS", "CRC", "DOP", "GTQ", "HNL", "NIO", "PAB", "BOB", "UYU", "RSD", "MKD", "ALL", "GEL", "AMD",
            "AZN", "KZT", "PKR", "BDT", "LKR", "NPR", "MNT", "BWP", "NAD", "MZN", "ZMW", "AOA", "CDF", "ETB", "TZS",
        ] { t[c] = 2 }
        for c in [
            "JPY", "KRW", "XPF", "XOF", "XAF", "CLP", "ISK", "VND", "PYG", "UGX", "RWF", "DJF", "GNF", "KMF", "VUV",
            "BIF",
        ] {
            t[c] = 0
        }
        for c in ["TND", "KWD", "BHD", "JOD", "OMR", "IQD", "LYD"] { t[c] = 3 }
        return t
    }()

    /// `1234.56` for 123456 minor units of a 2-digit currency (no grouping: it is for machines and
    /// for the text report, which adds the code).
    public func format(_ minor: Int64) -> String {
        let negative = minor < 0
        let magnitude = minor.magnitude
        guard minorDigits > 0 else { return (negative ? "-" : "") + String(magnitude) }
        var divisor: UInt64 = 1
        for _ in 0..<minorDigits { divisor *= 10 }
        let units = String(magnitude / divisor)
        let cents = String(magnitude % divisor)
        return (negative ? "-" : "") + units + "." + String(repeating: "0", count: minorDigits - cents.count) + cents
    }

    public var description: String { code }

    public static func < (a: Currency, b: Currency) -> Bool { a.code < b.code }
}
