/// The network's notifications (ITN) reconciled with the files: who to call first because the
/// network suspended or closed the card, who needs no call because the network renewed it, and
/// who is not in this month's file but was suspended or closed since.
extension TextReportWriter {
    mutating func networkSection() {
        guard let network = report.network else { return }
        var first: [(Int, NotificationRecord)] = []
        var renewed: [(Int, NotificationRecord)] = []
        var cancelled: [(Int, NotificationRecord)] = []
        for idU in store.aliasOrder {
            let id = Int(idU)
            let (record, action) = network.entry(alias: id)
            guard let record else { continue }
            let n = record.notification
            if action == .renewed {
                renewed.append((id, record))
            } else if n.tokenStatus == .suspended || n.tokenStatus == .deleted {
                first.append((id, record))
            } else if n.aliasStatus == .cancelled && action == .contact {
                cancelled.append((id, record))
            }
        }
        // Closed accounts before suspended cards.
        first.sort {
            ($0.1.notification.tokenStatus == .deleted ? 0 : 1) < ($1.1.notification.tokenStatus == .deleted ? 0 : 1)
        }
        line(style.bold("Network notifications (ITN)"))
        var totals: [String] = []
        let contact = ExpiryStatus.allCases.reduce(0) { $0 + network.count($1, .contact) }
        let renewedCount = ExpiryStatus.allCases.reduce(0) { $0 + network.count($1, .renewed) }
        var removed: [String: Int64] = [:]
        for amounts in network.amountRemoved.values { for (c, v) in amounts { removed[c, default: 0] += v } }
        totals.append(plural(contact, "alias", "aliases") + " to contact")
        totals.append(
            plural(renewedCount, "renewed by the network", "renewed by the network")
                + (removed.isEmpty ? "" : " (" + money(removed) + " no longer at risk)"))
        if !network.absent.isEmpty {
            totals.append(plural(network.absent.count, "alias", "aliases") + " not in the files")
        }
        paragraph(totals.joined(separator: ", ") + ".", indent: "  ", hanging: "  ")
        if !network.problems.isEmpty {
            paragraph(
                plural(network.problems.count, "line") + " of the store could not be read and were left out: "
                    + network.problems.prefix(3).map(\.description).joined(separator: "; "),
                indent: "  ", hanging: "    ")
        }
        if !first.isEmpty {
            blank()
            line("  " + style.red("Contact first: suspended or closed by the network"))
            for (id, record) in first { networkRow(id, record, what: tokenPhrase(record)) }
        }
        if !cancelled.isEmpty {
            blank()
            line("  Alias cancelled while subscriptions remain")
            for (id, record) in cancelled {
                networkRow(
                    id, record,
                    what: "alias CANCELLED" + (record.notification.cancellationDate.map { " on \($0.day)" } ?? ""))
            }
        }
        if !renewed.isEmpty {
            blank()
            line("  Renewed by the network: no action")
            for (id, record) in renewed {
                let n = record.notification
                networkRow(
                    id, record,
                    what:
                        "card now expires \(n.cardExpiry.map(\.description) ?? "?") (file: \(YearMonth(Day(daysSinceEpoch: Int(store.aliases[id].expiry)))))"
                        + card(n))
            }
        }
        if !network.absent.isEmpty {
            blank()
            line("  Not in this month's files, suspended or closed since \(network.since)")
            for record in network.absent {
                paragraph(
                    record.notification.alias + "  " + tokenPhrase(record), indent: "    ", hanging: "      ")
            }
        }
        blank()
    }

    private func card(_ n: TokenNotification) -> String {
        let parts = [n.method?.rawValue, n.lastFour.map { "…" + $0 }].compactMap { $0 }
        return parts.isEmpty ? "" : ", " + parts.joined(separator: " ")
    }

    private func tokenPhrase(_ record: NotificationRecord) -> String {
        let n = record.notification
        let word = n.tokenStatus == .deleted ? "account CLOSED (token DELETED)" : "card SUSPENDED"
        return word + " on \(record.notifiedAt.day)" + card(n)
    }

    private mutating func networkRow(_ id: Int, _ record: NotificationRecord, what: String) {
        paragraph(
            store.aliasString(id) + "  " + name(store.name(id)) + "  " + email(store.email(id)), indent: "    ",
            hanging: "      ")
        paragraph(what, indent: "      ", hanging: "        ")
    }
}
