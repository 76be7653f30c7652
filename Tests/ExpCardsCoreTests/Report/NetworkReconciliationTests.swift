import Testing

@testable import ExpCardsCore

private typealias B = ReportBuilderTests

private func record(
    _ alias: String, token: TokenNotification.TokenStatus = .active,
    aliasStatus: TokenNotification.AliasStatus = .active,
    expiry: YearMonth? = nil, mode: Environment = .production, at day: String = "2018-06-20",
    method: TokenNotification.Method = .visa, lastFour: String = "0114"
) -> NotificationRecord {
    let n = TokenNotification(
        alias: alias, mode: mode, aliasStatus: aliasStatus, tokenStatus: token, method: method, lastFour: lastFour,
        cardExpiry: expiry)
    return NotificationRecord(
        notification: n, receivedAt: Timestamp(rfc3339: day + "T10:00:00Z")!, explicitTime: nil, via: .import,
        signed: false)
}

extension Fixture {
    static let absentAlias = "a9z000000000000000000000000absent"

    /// `rich` with a notification of each kind: a1 (expired) renewed, a2 (expiring) suspended,
    /// a5 (expiring) closed, a4 (later, one active recurrence) cancelled, a3 without one, and an
    /// alias of no file closed in October.
    static var richNetwork: ExpiryReport {
        var r = rich
        let latest = [
            a1: record(a1, expiry: YearMonth(year: 2029, month: 10), at: "2026-10-20", lastFour: "4242"),
            a2: record(a2, token: .suspended, at: "2026-10-25", method: .mastercard),
            a5: record(a5, token: .deleted, at: "2026-10-28", method: .cb, lastFour: "1117"),
            a4: record(a4, aliasStatus: .cancelled, at: "2026-10-02"),
            absentAlias: record(absentAlias, token: .deleted, at: "2026-10-15"),
        ]
        r.network = NetworkReconciliation(report: r, latest: latest, source: "archive/itn/notifications.jsonl")
        return r
    }
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
                            } else if aliasStatus == .cancelled && subscriptions > 0 {
                                expected = .contact
                            } else if later {
                                expected = .renewed
                            } else {
                                expected = status == .later ? .none : .contact
                            }
                            #expect(
                                action == expected,
                                "\(status) \(subscriptions) \(token) \(aliasStatus) \(String(describing: month))")
                            // Never "renewed" unless the network says ACTIVE and a later expiry.
                            if action == .renewed { #expect(token == .active && later) }
                            // An expired or expiring card not renewed is a call, whatever else.
                            if status != .later && !(token == .active && later) { #expect(action == .contact) }
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

    @Test func richNetworkText() throws {
        try Golden.check(TextReport.render(Fixture.richNetwork, color: false, mask: false), "rich-network.txt")
    }
    @Test func richNetworkCSV() throws {
        try Golden.check(
            CSVReport.render(Fixture.richNetwork, dialect: .rfc4180, mask: false), "rich-network.csv")
    }

    @Test func theTextTablesSayWhatTheNetworkChanged() {
        let text = TextReport.render(Fixture.richNetwork, color: false, mask: false)
        let tables = text[text.range(of: "EXPIRED ·")!.lowerBound...]
        #expect(tables.contains("network: renewed, card now expires 2029-10: no action"))
        #expect(tables.contains("network: card SUSPENDED on 2026-10-25, MASTERCARD …0114"))
        #expect(tables.contains("network: account CLOSED (token DELETED) on 2026-10-28, CB …1117"))
        #expect(tables.contains("network: alias CANCELLED while subscriptions remain"))
        // Without a reconciliation, no such line.
        #expect(!TextReport.render(Fixture.rich, color: false, mask: false).contains("network:"))
        for line in text.split(separator: "\n") { #expect(displayWidth(String(line)) <= TextReport.width) }
    }

    /// The CSV: the network's columns on every row; closed, then suspended, then the aliases of no
    /// file, then the rest in the report's order, the renewed last.
    @Test(arguments: [CSVReport.Dialect.rfc4180, .excelFR])
    func theCSVPutsTheCallsFirstAndTheRenewalsLast(dialect: CSVReport.Dialect) throws {
        let r = Fixture.richNetwork
        let rows = ReportRenderingTests.readCSV(
            CSVReport.render(r, dialect: dialect, mask: false), separator: dialect == .excelFR ? ";" : ",")
        #expect(rows.first == CSVReport.columns)
        #expect(rows.allSatisfy { $0.count == CSVReport.columns.count })
        let column = Dictionary(uniqueKeysWithValues: CSVReport.columns.enumerated().map { ($1, $0) })
        func cell(_ row: [String], _ name: String) -> String { row[column[name]!] }
        let aliases = rows.dropFirst().map { cell($0, "alias") }
        // a2 has two subscriptions, so two rows.
        #expect(
            aliases == [
                Fixture.a5, Fixture.a2, Fixture.a2, Fixture.absentAlias, Fixture.a3, Fixture.a4, Fixture.a1,
            ])
        let byAlias = Dictionary(grouping: rows.dropFirst(), by: { cell($0, "alias") })
        let renewed = try #require(byAlias[Fixture.a1]?.first)
        #expect(cell(renewed, "action") == "renewed")
        #expect(cell(renewed, "networkCardExpiry") == "2029-10")
        #expect(cell(renewed, "networkLastFour") == "4242")
        #expect(cell(renewed, "networkTokenStatus") == "ACTIVE")
        #expect(cell(renewed, "networkNotifiedAt") == "2026-10-20T10:00:00.000Z")
        let closed = try #require(byAlias[Fixture.a5]?.first)
        #expect(cell(closed, "action") == "contact" && cell(closed, "networkTokenStatus") == "DELETED")
        #expect(cell(closed, "networkMethod") == "CB")
        let absent = try #require(byAlias[Fixture.absentAlias]?.first)
        #expect(cell(absent, "status") == "" && cell(absent, "email") == "" && cell(absent, "subscriptionId") == "")
        #expect(cell(absent, "action") == "contact" && cell(absent, "networkTokenStatus") == "DELETED")
        let plain = try #require(byAlias[Fixture.a3]?.first)
        #expect(cell(plain, "action") == "contact" && cell(plain, "networkTokenStatus") == "")
        #expect(cell(byAlias[Fixture.a4]![0], "networkAliasStatus") == "CANCELLED")
        // Without a store: the report's order, the action from the files alone, empty network cells.
        let bare = ReportRenderingTests.readCSV(
            CSVReport.render(Fixture.rich, dialect: .rfc4180, mask: false), separator: ",")
        #expect(bare.dropFirst().map { cell($0, "alias") }.first == Fixture.a1)
        for row in bare.dropFirst() {
            #expect(cell(row, "action") == (cell(row, "status") == "later" ? "none" : "contact"))
            #expect(CSVReport.networkColumns.dropFirst().allSatisfy { cell(row, $0) == "" })
        }
    }

    /// Random reports and random notifications: the reconciliation's wiring, counts, money,
    /// order and absent list against what each means, computed here from the report's aliases.
    @Test func propertiesOverRandomReportsAndNotifications() throws {
        var rng = SplitMix64(seed: 16)
        let expiries = ["20180531", "20180630", "20180731", "20180831", "20181031", "20190228"]
        let days = ["2018-04-10", "2018-05-31", "2018-06-01", "2018-06-15", "2018-06-30"]
        for iteration in 0..<150 {
            // A shop file of 1 to 10 aliases, 1 to 3 subscriptions each.
            var details: [String] = []
            let count = Int.random(in: 1...10, using: &rng)
            for a in 0..<count {
                let expiry = expiries.randomElement(using: &rng)!
                for k in 0..<Int.random(in: 1...3, using: &rng) {
                    details.append(
                        B.sub(
                            "AL\(a)", expiry: expiry, id: "S\(a)-\(k)",
                            amount: String(Int.random(in: 1...5000, using: &rng))))
                }
            }
            let report = B.build([B.shop(B.shopAName, details)])
            // Notifications for some of them, and for aliases of no file.
            var latest: [String: NotificationRecord] = [:]
            for alias in (0..<count).map({ "AL\($0)" }) + (0..<3).map({ "GONE\($0)" }) where Bool.random(using: &rng) {
                let month =
                    Bool.random(using: &rng)
                    ? nil
                    : YearMonth(
                        year: Int.random(in: 2018...2020, using: &rng), month: Int.random(in: 1...12, using: &rng))
                latest[alias] = record(
                    alias, token: TokenNotification.TokenStatus.allCases.randomElement(using: &rng)!,
                    aliasStatus: TokenNotification.AliasStatus.allCases.randomElement(using: &rng)!, expiry: month,
                    at: days.randomElement(using: &rng)!)
            }
            var r = report
            let n = NetworkReconciliation(report: report, latest: latest, source: "s")
            r.network = n
            let context = "iteration \(iteration)"
            // Each alias carries its own latest notification and the rule's action.
            var renewedMoney: [ExpiryStatus: [String: Int64]] = [:]
            var actionCounts: [ExpiryStatus: [NetworkReconciliation.Action: Int]] = [:]
            for a in r.aliases {
                let entry = try #require(r.network(of: a.alias))
                #expect(entry.record == latest[a.alias], "\(context)")
                let expected = NetworkReconciliation.action(
                    status: a.status, expiry: a.expiry, subscriptions: a.subscriptions,
                    latest: latest[a.alias]?.notification)
                #expect(entry.action == expected, "\(context) \(a.alias)")
                actionCounts[a.status, default: [:]][entry.action, default: 0] += 1
                if entry.action == .renewed {
                    let renewed = try #require(latest[a.alias]?.notification)
                    #expect(renewed.tokenStatus == .active && renewed.cardExpiry! > YearMonth(a.expiry))
                    for (code, v) in a.amountAtRisk { renewedMoney[a.status, default: [:]][code, default: 0] += v }
                }
            }
            for status in ExpiryStatus.allCases {
                for action in NetworkReconciliation.Action.allCases {
                    #expect(n.count(status, action) == actionCounts[status]?[action] ?? 0, "\(context)")
                }
                #expect((n.amountRemoved[status] ?? [:]) == (renewedMoney[status] ?? [:]), "\(context)")
            }
            #expect(
                n.contactCount + n.renewedCount + actionCounts.values.reduce(0) { $0 + ($1[.none] ?? 0) }
                    == r.aliases.count)
            // The order for calls: a permutation, groups in order, the report's order within each.
            let order = r.store.aliasOrder
            let (regrouped, first) = n.contactOrder(order)
            #expect(regrouped.sorted() == order.sorted(), "\(context)")
            let groups = regrouped.map { n.group(alias: Int($0)) }
            #expect(groups == groups.sorted(), "\(context)")
            #expect(first == groups.filter { $0 == .closed || $0 == .suspended }.count)
            let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
            for (x, y) in zip(regrouped, regrouped.dropFirst()) where n.group(alias: Int(x)) == n.group(alias: Int(y)) {
                #expect(position[x]! < position[y]!, "\(context)")
            }
            // Absent: the notifications of no alias of the report, suspended or closed since June.
            let inReport = Set(r.aliases.map(\.alias))
            let sinceJune = Timestamp(rfc3339: "2018-06-01T00:00:00Z")!
            let expectedAbsent = latest.values.filter {
                !inReport.contains($0.notification.alias) && $0.notification.tokenStatus != .active
                    && $0.notifiedAt >= sinceJune
            }
            #expect(Set(n.absent.map(\.id)) == Set(expectedAbsent.map(\.id)), "\(context)")
            let deletedFirst = n.absent.map { $0.notification.tokenStatus == .deleted ? 0 : 1 }
            #expect(deletedFirst == deletedFirst.sorted(), "\(context)")
            // The CSV: one row per subscription, plus one per absent alias; each with its action.
            let rows = ReportRenderingTests.readCSV(CSVReport.render(r, dialect: .rfc4180, mask: false)).dropFirst()
            #expect(rows.count == details.count + n.absent.count, "\(context)")
            let actionColumn = CSVReport.columns.firstIndex(of: "action")!
            for row in rows where !row[2].hasPrefix("GONE") {
                #expect(row[actionColumn] == r.network(of: row[2])!.action.rawValue, "\(context)")
            }
        }
    }

    /// A store that received nothing for more than 35 days before the report's date, or nothing
    /// at all, is a warning: the platform neither retries nor alerts.
    @Test func aSilentStoreIsAWarning() {
        let r = Fixture.rich
        let last = Timestamp(rfc3339: "2026-09-27T23:00:00Z")!
        func warning(_ lastReceived: Timestamp?, asOf: String) -> String? {
            NetworkReconciliation(report: r, latest: [:], source: "s", lastReceived: lastReceived)
                .silenceWarning(asOf: isoDay(asOf))
        }
        #expect(warning(last, asOf: "2026-11-01") == nil, "35 days: not yet")
        let late = warning(last, asOf: "2026-11-02")
        #expect(late?.contains("no network notification received for 36 days (the last on 2026-09-27") == true)
        #expect(warning(nil, asOf: "2026-11-01")?.contains("holds no notification") == true)
        // Without an explicit time, the latest records' own received times.
        let n = NetworkReconciliation(
            report: r, latest: [Fixture.a1: record(Fixture.a1, at: "2026-10-20")], source: "s")
        #expect(n.lastReceived == Timestamp(rfc3339: "2026-10-20T10:00:00Z"))
    }
}
