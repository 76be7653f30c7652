/// The typed model of an EXP_CARDS file: what the parser returns, what reports are built from.

/// TEST (`T`) or PRODUCTION (`P`): every file exists in both variants.
public enum Environment: String, Sendable, Hashable, CaseIterable, Comparable {
    case test
    case production

    /// From the one-letter code of names and headers.
    public init?(code: UInt8) {
        switch code {
        case UInt8(ascii: "T"): self = .test
        case UInt8(ascii: "P"): self = .production
        default: return nil
        }
    }

    public var code: Character { self == .test ? "T" : "P" }

    public static func < (a: Environment, b: Environment) -> Bool { a == .test && b == .production }
}

/// One file per company (`/ROOT/expired`) and one per shop (`<shopId>/expired`).
public enum FileKind: String, Sendable, Hashable {
    case company
    case shop
}

/// A time of day `HHMMSS`, kept as written.
public struct TimeOfDay: Hashable, Sendable, CustomStringConvertible {
    public let hour: Int
    public let minute: Int
    public let second: Int

    public init?(hour: Int, minute: Int, second: Int) {
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    public var description: String {
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(two(hour)):\(two(minute)):\(two(second))"
    }
}

/// Record `00`: what the platform's job says of itself.
public struct Header: Hashable, Sendable {
    public var environment: Environment
    /// Shop files only.
    public var shopId: String?
    public var created: Day
    public var createdTime: TimeOfDay
}

/// Record `01`: written last, "to make sure the file is coherent".
public struct Trailer: Hashable, Sendable {
    /// The number of detail records the platform says it wrote.
    public var detailCount: Int
    /// Shop files only: the number of distinct aliases near expiry.
    public var aliasCount: Int?
    public var ended: Day
    public var endedTime: TimeOfDay
}

/// Record `02` of a company file: one alias.
public struct CompanyDetail: Hashable, Sendable {
    public var line: Int
    public var alias: String
    public var name: String
    public var email: String
    public var expiry: Day
    /// Active (not cancelled) recurrences on this alias; their details are in the shop files.
    public var recurrences: Int
}

/// Record `02` of a shop file: one subscription of an alias in this shop.
public struct ShopDetail: Hashable, Sendable {
    public var line: Int
    public var alias: String
    public var name: String
    public var email: String
    public var expiry: Day
    /// `vads_subscription`.
    public var subscriptionId: String
    /// `vads_recurrence_number`, as written (`0/12` or `3`): shown, never computed with.
    public var recurrenceCounter: String
    /// `vads_sub_desc`: an RFC 5545 RRULE.
    public var rule: String
    /// `vads_sub_effect_date`.
    public var effectDate: Day
    /// `vads_sub_amount`, minor currency units.
    public var amount: Int64
    /// `vads_sub_init_amount`, minor units; nil when empty.
    public var initialAmount: Int64?
    /// `vads_sub_init_amount_number`.
    public var initialCount: Int
}

/// A detail record of either kind of file.
public enum Detail: Hashable, Sendable {
    case company(CompanyDetail)
    case shop(ShopDetail)
}
