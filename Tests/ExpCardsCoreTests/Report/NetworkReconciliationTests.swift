import Testing

@testable import ExpCardsCore

private typealias B = ReportBuilderTests

private func record(
    _ alias: String, token: TokenNotification.TokenStatus = .active,
    aliasStatus: TokenNotification.AliasStatus = .active,
    expiry: YearMonth? = nil, mode: Environment = .production, at day: String = "2018-06-20"
) -> NotificationRecord {
    let n = TokenNotification(
        alias: alias, mode: mode, aliasStatus: aliasStatus, tokenStatus: token, method: .visa, lastFour: "0114",
        cardExpiry: expiry)
    return NotificationRecord(
        notification: n, receivedAt: Timestamp(rfc3339: day + "T10:00:00Z")!, explicitTime: nil, via: .import,
        signed: false)
}

@Suite struct NetworkReconciliationTests {
    /// The rule against every combination of its inputs, stated independently of its code.
    @Test func theActionRuleOverEveryCombination() {
        let expiry = Day(iso: "2018-07-31")!
        let months: [YearMonth?] = [
            nil, YearMonth(year: 2018, month: 6), YearMonth(year: 2018, month: 7), YearMonth(year: 2018, month: 8),
            YearMonth(year: 2021, month: 1),
        ]
        var checked = 0
        for status in ExpiryStatus.allCases {
            for subscriptions in [0, 1, 3] {
                #expect(
                    NetworkReconciliation.action(
                        status: status, expiry: expiry, subscriptions: subscriptions, latest: nil)
                        == (status == .later ? .none : .contact))
                for token in TokenNotification.TokenStatus.allCases {
                    for aliasStatus in TokenNotification.AliasStatus.allCases {
                        for month in months {
                            let n = TokenNotification(
                                alias: "A", mode: .production, aliasStatus: aliasStatus, tokenStatus: token,
                                cardExpiry: month)
                            let action = NetworkReconciliation.action(
                                status: status, expiry: expiry, subscriptions: subscriptions, latest: n)
                            let later = month.map { $0 > YearMonth(year: 2018, month: 7)! } ?? false
                            let expected: NetworkReconciliation.Action
                            if token != .active {
                                expected = .contact
                            } else if aliasStatus == .cancelled {
                                expected = subscriptions > 0 ? .contact : .none
                            } else if later {
                                expected = .renewed
                            } else {
                                expected = status == .later ? .none : .contact
                            }
                            #expect(
                                action == expected,
                                "\(status) \(subscriptions) \(token) \(aliasStatus) \(String(describing: month))")
                            // Never "renewed" unless the network says ACTIVE and a later expiry.
                            if action == .renewed { #expect(token == .active && later && aliasStatus == .active) }
                            // A suspended or closed card is always a call, whatever the file says.
                            if token != .active { #expect(action == .contact) }
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked == 3 * 3 * 3 * 2 * 5)
    }

    @Test func aReportReconciledWithItsNotifications() throws {
        let report = B.build([
            B.shop(
                B.shopAName,
                [
                    B.sub("RENEWED", expiry: "20180731", amount: "1000"),
                    B.sub("SUSPENDED", expiry: "20181231", id: "S2"),
                    B.sub("PLAIN", expiry: "20180731", id: "S3"),
                    B.sub("CANCELLED", expiry: "20181231", id: "S4"),
                ])
        ])
        let latest = [
            "RENEWED": record("RENEWED", expiry: YearMonth(year: 2021, month: 7)),
            "SUSPENDED": record("SUSPENDED", token: .suspended),
            "CANCELLED": record("CANCELLED", aliasStatus: .cancelled),
            "ABSENT": record("ABSENT", token: .deleted, at: "2018-06-03"),
            "OLD": record("OLD", token: .suspended, at: "2018-05-31"),
            "FINE": record("FINE"),
        ]
        var r = report
        r.network = NetworkReconciliation(report: report, latest: latest, source: "store")
        #expect(r.network(of: "RENEWED")?.action == .renewed)
        #expect(r.network(of: "SUSPENDED")?.action == .contact)
        #expect(r.network(of: "PLAIN")?.action == .contact)
        #expect(r.network(of: "PLAIN")?.record == nil)
        #expect(r.network(of: "CANCELLED")?.action == .contact)
        let n = r.network!
        #expect(n.count(.expiring, .renewed) == 1)
        #expect(n.count(.expiring, .contact) == 1)
        #expect(n.count(.later, .contact) == 2)
        #expect(
            n.amountRemoved[.expiring]
                == r.summary[.expiring].map { _ in r.aliases.first { $0.alias == "RENEWED" }!.amountAtRisk })
        // Absent: suspended or deleted since the first day of the month before the report's (July: as of D).
        #expect(n.since == Day(iso: "2018-06-01"))
        #expect(n.absent.map(\.notification.alias) == ["ABSENT"])
        // Every format shows it.
        let json = try! JSONReport.render(r, mask: false)
        #expect(json.contains(#"{"action": "renewed", "alias": "RENEWED""#))
        #expect(json.contains(#""network": {"aliasStatus": "ACTIVE", "cardExpiry": "2021-07""#))
        let text = TextReport.render(r, color: false, mask: false)
        #expect(text.contains("Renewed by the network: no action"))
        #expect(text.contains("Not in this month's files, suspended or closed since 2018-06-01"))
        // Suspended cards first, then the renewed ones apart.
        let contactFirst = try #require(text.range(of: "Contact first: suspended or closed by the network"))
        let renewed = try #require(text.range(of: "Renewed by the network: no action"))
        #expect(contactFirst.upperBound < renewed.lowerBound)
        #expect(text[contactFirst.upperBound..<renewed.lowerBound].contains("SUSPENDED"))
        #expect(text[renewed.upperBound...].contains("RENEWED"))
    }
}
