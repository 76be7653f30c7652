/// The network's notifications (ITN) in the mail: the same lists as the text report's, as tables
/// (contact first the accounts closed and the cards suspended; the aliases cancelled while
/// subscriptions remain; the cards renewed, no action; the aliases in no file of the month), and a
/// word under each card of the tables by status.
extension HTMLWriter {
    mutating func network() {
        guard let network = report.network else { return }
        let store = report.store
        let lists = network.lists(store.aliasOrder)
        var totals = ["\(network.contactCount) of the files to contact"]
        let removed = network.totalAmountRemoved.filter { $0.value != 0 }
        totals.append(
            "\(network.renewedCount) renewed by the network"
                + (removed.isEmpty ? "" : " (" + money(removed) + " no longer at risk)"))
        if !network.absent.isEmpty { totals.append("\(network.absent.count) not in the files to contact") }
        heading("NETWORK NOTIFICATIONS (ITN) · " + totals.joined(separator: ", "))
        if !network.problems.isEmpty {
            note(
                plural(network.problems.count, "line") + " of the store could not be read and were left out: "
                    + network.problems.prefix(3).map { text($0.description) }.joined(separator: "; "))
        }
        let red = Self.colours[.expired]!
        // What the network said of each, as HTML, made before the tables are written.
        let first = lists.first.prefix(maxRows).map { ($0.id, text($0.record.tokenPhrase)) }
        let cancelled = lists.cancelled.prefix(maxRows).map {
            ($0.id, "alias CANCELLED" + ($0.record.notification.cancellationDate.map { " on \($0.day)" } ?? ""))
        }
        let renewed = lists.renewed.prefix(maxRows).map { entry in
            let n = entry.record.notification
            return (entry.id, "card now expires " + (n.cardExpiry.map(\.description) ?? "?") + text(n.cardWords))
        }
        networkTable(
            "Contact first: suspended or closed by the network", first, of: lists.first.count, colour: red.text,
            background: red.background)
        networkTable(
            "Alias cancelled while subscriptions remain", cancelled, of: lists.cancelled.count, colour: "#222222",
            background: nil)
        networkTable(
            "Renewed by the network: no action", renewed, of: lists.renewed.count, colour: "#1b5e20",
            background: "#edf7ed")
        if network.absentOmitted { note(text(NetworkReconciliation.absentOmittedNote)) }
        guard !network.absent.isEmpty else { return }
        put(
            "<h3 style=\"margin:16px 0 4px 0;font-size:14px;color:\(red.text);\(Self.font)\">"
                + "Not in this month's files, suspended or closed since \(network.since)</h3>")
        table()
        headerRow(["Alias", "Network"])
        for record in network.absent.prefix(maxRows) {
            row(
                [
                    ("font-family:monospace;font-size:12px;", text(record.notification.alias)),
                    ("", text(record.tokenPhrase)),
                ], background: red.background)
        }
        put("</table>")
        if network.absent.count > maxRows {
            note("<b>\(network.absent.count - maxRows) more aliases not shown here</b>: \(leftOutNote)")
        }
    }

    /// One list of the report's aliases (store ids) with what the network said of each (HTML):
    /// the first `maxRows` of `total`.
    private mutating func networkTable(
        _ title: String, _ entries: [(Int, String)], of total: Int, colour: String, background: String?
    ) {
        guard !entries.isEmpty else { return }
        let store = report.store
        put("<h3 style=\"margin:16px 0 4px 0;font-size:14px;color:\(colour);\(Self.font)\">\(text(title))</h3>")
        table()
        headerRow(["Expiry (file)", "Name", "E-mail", "Network", "Alias"])
        for (id, what) in entries {
            let a = store.alias(id)
            row(
                [
                    ("white-space:nowrap;", "\(a.expiry)"), ("", name(a.name)), ("white-space:nowrap;", email(a.email)),
                    ("", what), ("font-family:monospace;font-size:12px;color:#555555;", text(a.alias)),
                ], background: background)
        }
        put("</table>")
        if total > entries.count { note("<b>\(total - entries.count) more not shown here</b>: \(leftOutNote)") }
    }

    /// The network's word on one card of the tables by status, as HTML; nil when it has none.
    func networkWord(alias id: Int) -> String? {
        guard let (record, action) = report.network?.entry(alias: id), let record else { return nil }
        let n = record.notification
        if action == .renewed {
            return "<span style=\"color:#1b5e20;font-weight:bold;\">renewed</span> → "
                + (n.cardExpiry.map(\.description) ?? "?") + ": no action"
        }
        if n.tokenStatus == .suspended || n.tokenStatus == .deleted {
            return "<span style=\"color:#b71c1c;font-weight:bold;\">"
                + (n.tokenStatus == .deleted ? "CLOSED" : "SUSPENDED") + "</span> on \(record.notifiedAt.day)"
        }
        if n.aliasStatus == .cancelled { return "alias CANCELLED" }
        return nil
    }
}
