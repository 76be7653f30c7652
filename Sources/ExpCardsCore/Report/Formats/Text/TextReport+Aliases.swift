/// The sections of aliases by status and month of expiry.
///
/// One line per card when the alias, name and e-mail all fit whole in 100 columns. Otherwise
/// the alias (copied rather than read) moves to a line of its own under the name, and a card
/// whose name or e-mail is still too long for its column writes them on lines of their own:
/// a cell is never cut.
extension TextReportWriter {
    struct AliasColumns {
        /// 0: the alias is on its own line, under the name.
        var alias: Int
        var name: Int
        var email: Int
        /// 0: no shops column (at most one shop in the report: it would say nothing).
        var shops: Int
        static let subs = 4
        static let aliasPrefix = "alias "
        /// Where the name starts: after the indent, the expiry and two spaces.
        static let nameColumn = 16
    }

    func shopsText(_ shops: [String]) -> String {
        switch shops.count {
        case 0: "-"
        case 1: shops[0]
        default: "\(shops.count) shops"
        }
    }

    /// The layout: the alias inline when everything fits; else name and e-mail share what is left
    /// without the alias, the e-mail favoured (it is longer, and how ops reach the buyer).
    mutating func columns() -> AliasColumns {
        if let aliasColumns { return aliasColumns }
        var aliasN = 0
        var nameN = 0
        var emailN = 0
        var setsUsed = Set<UInt32>()
        // Maxima do not depend on the order: when every alias is reported, read them in storage
        // order (sequential memory) rather than in the report's.
        func measure(_ id: Int) {
            setsUsed.insert(store.aliases[id].shopSet)
            aliasN = max(aliasN, store.withAlias(id) { textWidth($0) })
            nameN = max(nameN, nameWidth(id))
            emailN = max(emailN, emailWidth(id))
        }
        if store.aliasOrder.count == store.aliases.count {
            for id in store.aliases.indices { measure(id) }
        } else {
            for idU in store.aliasOrder { measure(Int(idU)) }
        }
        let shopCount = Set(setsUsed.flatMap { store.shopSets[Int($0)] }).count
        let shopsW =
            shopCount < 2 ? 0 : max(5, setsUsed.map { displayWidth(shopsText(store.shopSets[Int($0)])) }.max() ?? 0)
        nameN = max(4, nameN)
        emailN = max(6, emailN)
        let aliasW = max(5, aliasN)
        let fixed = 4 + 10 + 2 + 2 + 2 + AliasColumns.subs + (shopsW == 0 ? 0 : 2 + shopsW)
        let c: AliasColumns
        if fixed + aliasW + 2 + nameN + emailN <= width {
            c = AliasColumns(alias: aliasW, name: nameN, email: emailN, shops: shopsW)
        } else {
            let room = width - fixed
            var nameW = min(nameN, max(room * 2 / 5, room - emailN))
            let emailW = min(emailN, room - nameW)
            nameW = min(nameN, room - emailW)
            c = AliasColumns(alias: 0, name: nameW, email: emailW, shops: shopsW)
        }
        aliasColumns = c
        return c
    }

    static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]

    mutating func aliasSection(_ status: ExpiryStatus) {
        blank()
        let rank = UInt8(status.rank)
        let ids = store.aliasOrder.filter { store.aliases[Int($0)].status == rank }
        let scope: String
        switch status {
        case .expired: scope = "expired before \(options.asOf)"
        case .expiring:
            scope =
                options.thresholdMonths == 0
                ? "expiring on \(options.asOf)" : "expiring from \(options.asOf) to \(report.thresholdEnd)"
        case .later: scope = "expiring after \(report.thresholdEnd)"
        }
        let heading = style.status(status, style.bold(status.rawValue.uppercased()))
        guard !ids.isEmpty else {
            line(heading + " · none " + scope)
            return
        }
        line(heading + " · " + plural(ids.count, "card") + " " + scope)
        let c = columns()
        let aliasHeader = c.alias == 0 ? "" : padded("Alias", to: c.alias) + "  "
        let nameHeader = c.alias == 0 ? "Name, alias" : "Name"
        line(
            "    " + padded("Expiry", to: 10) + "  " + aliasHeader + padded(nameHeader, to: c.name)
                + "  " + padded("E-mail", to: c.email) + "  " + rightAligned("Subs", to: AliasColumns.subs)
                + (c.shops == 0 ? "" : "  Shops"))
        let shopsCells = store.shopSets.map { "  " + displaySafe(shopsText($0)) }
        var month = -1
        for (position, idU) in ids.enumerated() {
            out.readAhead &+= store.readAhead(aliases: ids, at: position)
            let id = Int(idU)
            let a = store.aliases[id]
            let day = Day(daysSinceEpoch: Int(a.expiry))
            if day.year * 12 + day.month != month {
                month = day.year * 12 + day.month
                line("  " + TextReportWriter.monthNames[day.month - 1] + " \(day.year)")
            }
            out.append(spaces: 4)
            statusDate(status, a.expiry)
            out.append(spaces: 2)
            if c.alias != 0 {
                store.withAlias(id) { appendPadded($0, to: c.alias) }
                out.append(spaces: 2)
            }
            let fits = c.alias != 0 || (nameWidth(id) <= c.name && emailWidth(id) <= c.email)
            if fits {
                appendName(id, to: c.name)
                out.append(spaces: 2)
                appendEmail(id, to: c.email)
            } else {
                longNameAndEmail(id, c)
            }
            out.append(spaces: 2)
            appendRightAligned(Int64(a.subscriptions), to: AliasColumns.subs)
            if c.shops != 0 { out.append(shopsCells[Int(a.shopSet)]) }
            out.append(0x0A)
            if !fits { longEmail(id) }
            if c.alias == 0 {
                out.append(spaces: AliasColumns.nameColumn)
                out.append(AliasColumns.aliasPrefix)
                store.withAlias(id) { appendText($0) }
                out.append(0x0A)
            }
            if let note = networkNote(alias: id) {
                paragraph(
                    note, indent: String(repeating: " ", count: AliasColumns.nameColumn),
                    hanging: String(repeating: " ", count: AliasColumns.nameColumn + 2))
            }
            out.flushIfFull()
        }
    }

    /// A card whose name or e-mail is longer than its column: the name over the name and e-mail
    /// columns (broken at spaces onto more lines when longer), the e-mail on a line of its own
    /// (`longEmail`). Leaves the first line open for the subscriptions and shops.
    mutating func longNameAndEmail(_ id: Int, _ c: AliasColumns) {
        let span = c.name + 2 + c.email
        let lines = wrapped(name(store.name(id)), width: span, firstIndent: "", indent: "")
        out.append(padded(lines[0], to: span))
        pendingLines = lines.dropFirst().map { String(repeating: " ", count: AliasColumns.nameColumn) + $0 }
    }

    /// The name's further lines, then the e-mail whole on its own line (in pieces only when
    /// longer than a whole line).
    mutating func longEmail(_ id: Int) {
        for l in pendingLines { line(l) }
        pendingLines = []
        let indent = String(repeating: " ", count: AliasColumns.nameColumn)
        for l in wrapped(email(store.email(id)), width: width, firstIndent: indent, indent: indent) { line(l) }
    }
}
