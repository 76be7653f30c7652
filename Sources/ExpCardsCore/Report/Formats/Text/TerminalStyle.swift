/// ANSI colours of the text report, as the platform's back office colours aliases: red when the
/// card has expired, orange while the alert period runs. Off (plain text) unless asked for, so a
/// report piped to `mail` carries no escape codes.
struct TerminalStyle {
    let enabled: Bool

    static let reset = "\u{1B}[0m"

    /// Applied after padding, so escape codes never count as columns.
    func apply(_ code: String, _ text: String) -> String {
        enabled && !text.isEmpty ? "\u{1B}[\(code)m" + text + TerminalStyle.reset : text
    }

    func bold(_ text: String) -> String { apply("1", text) }
    func red(_ text: String) -> String { apply("31", text) }
    /// 256-colour orange (208), the back office's colour for the alert period.
    func orange(_ text: String) -> String { apply("38;5;208", text) }

    func status(_ status: ExpiryStatus, _ text: String) -> String {
        switch status {
        case .expired: red(text)
        case .expiring: orange(text)
        case .later: text
        }
    }
}
