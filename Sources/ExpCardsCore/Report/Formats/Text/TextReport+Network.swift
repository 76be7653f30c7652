/// The network's notifications (ITN) reconciled with the files: who to call first because the
/// network suspended or closed the card, who needs no call because the network renewed it, and
/// who is not in this month's file but was suspended or closed since.
extension TextReportWriter {
    mutating func networkSection() {
        guard let network = report.network else { return }
        let lists = network.lists(store.aliasOrder)
        blank()
        line(style.bold("NETWORK NOTIFICATIONS (ITN)"))
        var totals: [String] = []
        let removed = network.totalAmountRemoved.filter { $0.value != 0 }
        totals.append(plural(network.contactCount, "alias", "aliases") + " of the files to contact")
        totals.append(
            "\(network.renewedCount) renewed by the network"
                + (removed.isEmpty ? "" : " (" + money(removed) + " no longer at risk)"))
        if !network.absent.isEmpty {
            totals.append(plural(network.absent.count, "alias", "aliases") + " not in the files to contact")
        }
        paragraph(totals.joined(separator: ", ") + ".", indent: "  ", hanging: "  ")
        paragraph(
            "Last notification received: " + (network.lastReceived.map { "\($0.day)" } ?? "none") + ".",
            indent: "  ", hanging: "  ")
        if !network.problems.isEmpty {
            paragraph(
                plural(network.problems.count, "line") + " of the store could not be read and were left out: "
                    + network.problems.prefix(3).map(\.description).joined(separator: "; "),
                indent: "  ", hanging: "    ")
        }
        if !lists.first.isEmpty {
            blank()
            line("  " + style.red("Contact first: suspended or closed by the network"))
            for (id, record) in lists.first { networkRow(id, record, what: record.tokenPhrase) }
        }
        if !lists.cancelled.isEmpty {
            blank()
            line("  Alias cancelled while subscriptions remain")
            for (id, record) in lists.cancelled {
                networkRow(
                    id, record,
                    what: "alias CANCELLED" + (record.notification.cancellationDate.map { " on \($0.day)" } ?? ""))
            }
        }
        if !lists.renewed.isEmpty {
            blank()
            line("  Renewed by the network: no action")
            for (id, record) in lists.renewed {
                let n = record.notification
                networkRow(
                    id, record,
                    what:
                        "card now expires \(n.cardExpiry.map(\.description) ?? "?") (file: \(YearMonth(Day(daysSinceEpoch: Int(store.aliases[id].expiry)))))"
                        + n.cardWords)
            }
        }
        if network.absentOmitted {
            blank()
            paragraph(NetworkReconciliation.absentOmittedNote, indent: "  ", hanging: "  ")
        }
        if !network.absent.isEmpty {
            blank()
            line("  Not in this month's files, suspended or closed since \(network.since)")
            for record in network.absent {
                paragraph(
                    record.notification.alias + "  " + record.tokenPhrase, indent: "    ", hanging: "      ")
            }
        }
    }

    /// Under a card in the tables by status: what the network's latest notification changes.
    func networkNote(alias id: Int) -> String? {
        guard let (record, action) = report.network?.entry(alias: id), let record else { return nil }
        let n = record.notification
        if action == .renewed {
            return "network: renewed, card now expires \(n.cardExpiry.map(\.description) ?? "?"): no action"
        }
        if n.tokenStatus == .suspended || n.tokenStatus == .deleted { return "network: " + record.tokenPhrase }
        if n.aliasStatus == .cancelled {
            return "network: alias CANCELLED" + (n.cancellationDate.map { " on \($0.day)" } ?? "")
                + (report.network?.cancelledWhileCharged.contains(id) == true ? " while subscriptions remain" : "")
        }
        return nil
    }

    /// Before a subscription's facts: what the network did to its card, when it matters.
    func networkFact(alias id: Int) -> String? {
        guard let (record, action) = report.network?.entry(alias: id), let record else { return nil }
        let n = record.notification
        if action == .renewed {
            return "renewed by the network to \(n.cardExpiry.map(\.description) ?? "?"): no action"
        }
        switch n.tokenStatus {
        case .deleted: return "account CLOSED by the network"
        case .suspended: return "card SUSPENDED by the network"
        case .active: return n.aliasStatus == .cancelled ? "alias CANCELLED" : nil
        }
    }

    private mutating func networkRow(_ id: Int, _ record: NotificationRecord, what: String) {
        paragraph(
            store.aliasString(id) + "  " + name(store.name(id)) + "  " + email(store.email(id)), indent: "    ",
            hanging: "      ")
        paragraph(what, indent: "      ", hanging: "        ")
    }
}
