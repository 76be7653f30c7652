/// A report-level warning: a disagreement between files, or something the report cannot count.
/// Kept as a value so that each format renders it, with or without `--mask`, from what it says
/// rather than from its text.
public enum ReportWarning: Hashable, Sendable, CustomStringConvertible {
    /// A name and e-mail, as one file gives them for an alias.
    public struct Contact: Hashable, Sendable {
        public var name: String
        public var email: String

        public init(name: String, email: String) {
            self.name = name
            self.email = email
        }
    }

    /// An alias whose name/e-mail at `place` differ from those at `origin`: the only warning
    /// that quotes buyer data. `outcome` says which are kept.
    case contactsDiffer(place: String, alias: String, found: Contact, known: Contact, origin: String, outcome: String)
    /// Any other warning; it quotes no buyer data.
    case other(String)

    /// The longest excerpt of a name or e-mail shown, in scalars.
    static let excerptLimit = 60

    /// The warning as the reports print it; with `masked`, names as initials and e-mails as
    /// their first letter and domain (`Masking`).
    public func text(masked: Bool) -> String {
        switch self {
        case .other(let text):
            return text
        case .contactsDiffer(let place, let alias, let found, let known, let origin, let outcome):
            func shown(_ value: String, asName: Bool) -> String {
                guard masked else { return abbreviated(value.utf8, limit: Self.excerptLimit) }
                // The mask applies to the excerpt an unmasked report shows.
                let excerpt = String(String.UnicodeScalarView(value.unicodeScalars.prefix(Self.excerptLimit)))
                let mask = asName ? Masking.name(excerpt) : Masking.email(excerpt)
                return abbreviated(mask.utf8, limit: Self.excerptLimit)
            }
            return
                "\(place): alias \(alias): name/e-mail \(shown(found.name, asName: true)) <\(shown(found.email, asName: false))> "
                + "differ from \(shown(known.name, asName: true)) <\(shown(known.email, asName: false))> at \(origin); \(outcome)"
        }
    }

    public var description: String { text(masked: false) }
}
