/// One Instant Token Notification (ITN), validated: what the platform says of an alias when the
/// card's network or the platform updates it (the guide's sections 2.3 and 3.3).
///
/// Only the meaning is kept: how it was packaged (bare JSON or the `kr-answer` form, nested or
/// dotted keys) is `ITNEnvelope`'s business, and two packagings of the same notification give
/// equal values.
public struct TokenNotification: Sendable, Hashable {
    /// `paymentMethodTokenStatus`: the alias itself.
    public enum AliasStatus: String, Sendable, CaseIterable {
        case active = "ACTIVE"
        case cancelled = "CANCELLED"
    }
    /// `meansOfPayment.status`: the network token behind the alias.
    public enum TokenStatus: String, Sendable, CaseIterable {
        case active = "ACTIVE"
        case suspended = "SUSPENDED"
        case deleted = "DELETED"
    }
    /// `meansOfPayment.method`: the card's network.
    public enum Method: String, Sendable, CaseIterable {
        case cb = "CB"
        case visa = "VISA"
        case mastercard = "MASTERCARD"
    }
    /// `source`: who changed the alias.
    public enum Source: String, Sendable, CaseIterable {
        case issuer = "ISSUER"
        case gateway = "GATEWAY"
    }

    /// `merchantLegalId`: the merchant's SIRET (14 digits), when given.
    public var merchantLegalId: String?
    /// `paymentMethodToken`: the alias, as the EXP_CARDS files write it.
    public var alias: String
    /// `mode`: the alias's environment.
    public var mode: Environment
    public var aliasStatus: AliasStatus
    /// `cancellationDate`, when the alias is cancelled and the date given.
    public var cancellationDate: Timestamp?
    public var tokenStatus: TokenStatus
    public var method: Method?
    /// `card.lastFour`: four digits.
    public var lastFour: String?
    /// `card.expiryYear` and `card.expiryMonth`: the card's expiry now.
    public var cardExpiry: YearMonth?
    public var source: Source?

    public init(
        merchantLegalId: String? = nil, alias: String, mode: Environment, aliasStatus: AliasStatus,
        cancellationDate: Timestamp? = nil, tokenStatus: TokenStatus, method: Method? = nil, lastFour: String? = nil,
        cardExpiry: YearMonth? = nil, source: Source? = nil
    ) {
        self.merchantLegalId = merchantLegalId
        self.alias = alias
        self.mode = mode
        self.aliasStatus = aliasStatus
        self.cancellationDate = cancellationDate
        self.tokenStatus = tokenStatus
        self.method = method
        self.lastFour = lastFour
        self.cardExpiry = cardExpiry
        self.source = source
    }
}

extension Environment {
    /// The ITN's `mode` word.
    public var itnMode: String { self == .test ? "TEST" : "PRODUCTION" }

    public init?(itnMode: String) {
        switch itnMode {
        case "TEST": self = .test
        case "PRODUCTION": self = .production
        default: return nil
        }
    }
}
