import Foundation

/// The known fields of a notification's JSON, flattened to the guide's dotted names, and the
/// rules that turn them into a `TokenNotification`.
struct NotificationFields {
    /// A scalar as JSON gave it: text or a number (numbers are accepted where the guide writes
    /// digits in a string, such as `"09"`).
    enum Value: Equatable {
        case text(String)
        case number(Int64)
    }

    static let known: Set<String> = [
        "merchantLegalId", "paymentMethodToken", "mode", "paymentMethodTokenStatus", "cancellationDate",
        "meansOfPayment.status", "meansOfPayment.method", "card.lastFour", "card.expiryMonth", "card.expiryYear",
        "source", "serverDate",
    ]
    /// The fields the guide writes as digits in a string, where a JSON number is taken too. An
    /// alias or a status given as a number is refused: a large one would not survive the trip.
    static let numeric: Set<String> = ["merchantLegalId", "card.lastFour", "card.expiryMonth", "card.expiryYear"]
    /// Objects that hold known fields; anything else nested is ignored unread.
    static let containers: Set<String> = ["meansOfPayment", "card"]

    private(set) var values: [String: Value] = [:]

    mutating func flatten(_ object: [String: Any], prefix: String) throws(ITNError) {
        for (key, raw) in object {
            let name = prefix.isEmpty ? key : prefix + key
            // Text first: nearly every value is, and each failed cast costs.
            if let s = raw as? String {
                guard Self.known.contains(name) else { continue }
                try set(name, .text(s))
                continue
            }
            if let nested = raw as? [String: Any] {
                if Self.containers.contains(name) { try flatten(nested, prefix: name + ".") }
                continue
            }
            guard Self.known.contains(name) else { continue }
            let value: Value?
            switch raw {
            case is NSNull: value = nil
            case let n as NSNumber:
                // Not `is Bool`: on Linux, the NSNumber of 0 and 1 casts to Bool too. JSON's
                // true and false come as `c`, whole numbers as `i`, `q` or `Q`, anything written
                // with a point or an exponent as `d`.
                switch String(cString: n.objCType) {
                case "c", "B": throw ITNError(field: name, "expected text, got true or false")
                case "d", "f": throw ITNError(field: name, "expected text (or a whole number), got a fraction")
                case "Q" where n.uint64Value > UInt64(Int64.max):
                    throw ITNError(field: name, "expected text (or a whole number), got a number too large")
                default: break
                }
                guard Self.numeric.contains(name) else {
                    throw ITNError(field: name, "expected text, got a number")
                }
                value = .number(n.int64Value)
            default: throw ITNError(field: name, "expected text, got an array or another kind of value")
            }
            guard let value else { continue }
            try set(name, value)
        }
    }

    private mutating func set(_ name: String, _ value: Value) throws(ITNError) {
        if let earlier = values.updateValue(value, forKey: name), earlier != value {
            throw ITNError(field: name, "given twice, as a nested and as a dotted key, with different values")
        }
    }

    private func text(_ name: String) -> String? {
        switch values[name] {
        case .text(let s)?: return s
        case .number(let n)?: return String(n)
        case nil: return nil
        }
    }

    private func required(_ name: String) throws(ITNError) -> String {
        guard let s = text(name), !s.isEmpty else { throw ITNError(field: name, "missing") }
        return s
    }

    private func word<E: RawRepresentable & CaseIterable>(
        _ name: String, _: E.Type, required: Bool
    )
        throws(ITNError) -> E? where E.RawValue == String
    {
        guard let s = text(name), !s.isEmpty else {
            if required { throw ITNError(field: name, "missing") }
            return nil
        }
        guard let e = E(rawValue: s) else {
            throw ITNError(field: name, "expected one of " + E.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return e
    }

    private static func isDigits(_ s: String, count: ClosedRange<Int>) -> Bool {
        count.contains(s.utf8.count) && s.utf8.allSatisfy { $0 &- 48 < 10 }
    }

    func notification() throws(ITNError) -> TokenNotification {
        let alias = try required("paymentMethodToken")
        // As the EXP_CARDS files write an alias (`vads_identifier`, ans..50), so the two match.
        guard (1...50).contains(alias.utf8.count), alias.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw ITNError(field: "paymentMethodToken", "expected 1 to 50 printable ASCII characters without spaces")
        }
        let modeText = try required("mode")
        guard let mode = Environment(itnMode: modeText) else {
            throw ITNError(field: "mode", "expected TEST or PRODUCTION")
        }
        var n = TokenNotification(
            alias: alias, mode: mode,
            aliasStatus: try word("paymentMethodTokenStatus", TokenNotification.AliasStatus.self, required: true)!,
            tokenStatus: try word("meansOfPayment.status", TokenNotification.TokenStatus.self, required: true)!)
        n.method = try word("meansOfPayment.method", TokenNotification.Method.self, required: false)
        n.source = try word("source", TokenNotification.Source.self, required: false)
        if let siret = text("merchantLegalId"), !siret.isEmpty {
            guard Self.isDigits(siret, count: 14...14) else {
                throw ITNError(field: "merchantLegalId", "expected a SIRET, 14 digits")
            }
            n.merchantLegalId = siret
        }
        if let four = text("card.lastFour"), !four.isEmpty {
            guard Self.isDigits(four, count: 4...4) else { throw ITNError(field: "card.lastFour", "expected 4 digits") }
            n.lastFour = four
        }
        let month = text("card.expiryMonth").flatMap { $0.isEmpty ? nil : $0 }
        let year = text("card.expiryYear").flatMap { $0.isEmpty ? nil : $0 }
        switch (month, year) {
        case (nil, nil): break
        case (let m?, let y?):
            guard Self.isDigits(m, count: 1...2), let mv = Int(m), (1...12).contains(mv) else {
                throw ITNError(field: "card.expiryMonth", "expected a month, 01 to 12")
            }
            guard Self.isDigits(y, count: 4...4), let yv = Int(y), yv >= 2000 else {
                throw ITNError(field: "card.expiryYear", "expected a year of 4 digits, 2000 or later")
            }
            n.cardExpiry = YearMonth(year: yv, month: mv)
        case (nil, _): throw ITNError(field: "card.expiryMonth", "missing while card.expiryYear is given")
        case (_, nil): throw ITNError(field: "card.expiryYear", "missing while card.expiryMonth is given")
        }
        if let date = text("cancellationDate"), !date.isEmpty {
            guard let t = Timestamp(rfc3339: date) ?? Timestamp(dayFirst: date) else {
                throw ITNError(
                    field: "cancellationDate",
                    "expected yyyy-MM-dd'T'HH:mm:ssXXX (2023-10-16T11:12:08+02:00) or dd/MM/yyyy HH:mm:ss")
            }
            try Self.checkYears(t, "cancellationDate")
            n.cancellationDate = t
        }
        return n
    }

    func serverDate() throws(ITNError) -> Timestamp? {
        guard let s = text("serverDate"), !s.isEmpty else { return nil }
        guard let t = Timestamp(rfc3339: s) else {
            throw ITNError(field: "serverDate", "expected an RFC 3339 time with its offset (2026-11-03T10:15:00+00:00)")
        }
        try Self.checkYears(t, "serverDate")
        return t
    }

    /// The years a notification's time may fall in, in UTC: the store writes them back in four
    /// digits, and a date outside is no date the platform sends.
    static let years = 2000...2099

    private static func checkYears(_ t: Timestamp, _ name: String) throws(ITNError) {
        guard years.contains(t.day.year) else {
            throw ITNError(field: name, "expected a time from \(years.lowerBound) to \(years.upperBound) (UTC)")
        }
    }
}
