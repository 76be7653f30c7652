import Glibc

/// Merging one detail into the report: its alias (across files and shops) and its subscription.
extension ReportBuilder {
    mutating func addAlias(
        _ alias: UnsafeRawBufferPointer, name: UnsafeRawBufferPointer, email: UnsafeRawBufferPointer, expiry: Day,
        company: Bool, recurrences: Int?, shop: Int?, line: Int, file: Int
    ) -> Int {
        let (id, inserted) = aliasKeys.intern(alias)
        if inserted {
            precondition(recurrences.map { $0 >= 0 && $0 <= Int(Int32.max) } ?? true, "recurrences out of range")
            aliases.append(
                AliasRecord(
                    textOffset: appendText(name, email), nameLength: UInt16(name.count),
                    emailLength: UInt16(email.count),
                    status: 0, fromCompany: company, expiry: expiry.days32,
                    recurrences: recurrences.map { Int32($0) } ?? -1,
                    subscriptions: shop == nil ? 0 : 1, shopSet: shop.map { UInt32(shopSets.singleton($0)) } ?? 0,
                    originFile: UInt32(file), originLine: UInt32(truncatingIfNeeded: line)))
            return id
        }
        var state = aliases[id]
        // Only a warning needs the places and texts spelt out.
        let paths = self.paths
        func place() -> String { "\(paths[file]):\(line)" }
        func aliasText() -> String { String(decoding: alias, as: UTF8.self) }
        let originFile = Int(state.originFile)
        let originLine = state.originLine
        func origin() -> String { "\(paths[originFile]):\(originLine)" }
        if company && state.fromCompany {
            if warningsOpen {
                warn("\(place()): alias \(aliasText()) is listed again in the company file (first at \(origin()))")
            } else {
                suppressedWarnings += 1
            }
        }
        let start = Int(state.textOffset)
        let middle = start + Int(state.nameLength)
        let end = middle + Int(state.emailLength)
        let differs = text.withUnsafeBytes { t in
            !ReportBuilder.sameText(name, UnsafeRawBufferPointer(rebasing: t[start..<middle]))
                || !ReportBuilder.sameText(email, UnsafeRawBufferPointer(rebasing: t[middle..<end]))
        }
        let lostCharacters =
            differs
            ? text.withUnsafeBytes { t in
                ReportBuilder.sameText(email, UnsafeRawBufferPointer(rebasing: t[middle..<end]))
                    ? NameWithQuestionMarks.pick(old: UnsafeRawBufferPointer(rebasing: t[start..<middle]), new: name)
                    : nil
            } : nil
        if let lostCharacters {
            // The platform writes `?` for what Latin-1 lacks: the same name, not a disagreement.
            if lostCharacters == .new {
                state.textOffset = appendText(name, email)
                state.nameLength = UInt16(name.count)
                state.emailLength = UInt16(email.count)
            }
        } else if differs {
            if warningsOpen {
                func string(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }
                let known = text.withUnsafeBytes { t in
                    ReportWarning.Contact(
                        name: string(UnsafeRawBufferPointer(rebasing: t[start..<middle])),
                        email: string(UnsafeRawBufferPointer(rebasing: t[middle..<end])))
                }
                warn(
                    .contactsDiffer(
                        place: place(), alias: aliasText(), found: .init(name: string(name), email: string(email)),
                        known: known,
                        origin: origin(),
                        outcome: state.fromCompany
                            ? "the company file's are kept"
                            : (company ? "the company file's are used" : "the first are kept")))
            } else {
                suppressedWarnings += 1
            }
            if company && !state.fromCompany {
                state.textOffset = appendText(name, email)
                state.nameLength = UInt16(name.count)
                state.emailLength = UInt16(email.count)
            }
        }
        let days = expiry.days32
        if days != state.expiry {
            if warningsOpen {
                let old = Day(daysSinceEpoch: Int(state.expiry))
                warn(
                    "\(place()): alias \(aliasText()): expiry \(expiry) differs from \(old) at \(origin()); the earliest counts"
                )
            } else {
                suppressedWarnings += 1
            }
            state.expiry = min(state.expiry, days)
        }
        if company {
            precondition(recurrences.map { $0 >= 0 && $0 <= Int(Int32.max) } ?? true, "recurrences out of range")
            state.fromCompany = true
            state.recurrences = recurrences.map { Int32($0) } ?? -1
            state.originFile = UInt32(file)
            state.originLine = UInt32(truncatingIfNeeded: line)
        }
        if let shop {
            state.shopSet = UInt32(shopSets.adding(shop, to: Int(state.shopSet)))
            state.subscriptions += 1
        }
        aliases[id] = state
        return id
    }

    mutating func addSubscription(
        alias: Int, shop: Int, id: UnsafeRawBufferPointer, counter: UnsafeRawBufferPointer,
        rule: UnsafeRawBufferPointer,
        effect: Day, amount: Int64, initialAmount: Int64?, initialCount: Int, line: Int, path: String
    ) {
        let ruleId = ruleNumber(rule)
        let offset = subscriptionText.count
        precondition(
            offset + id.count + counter.count <= Int(UInt32.max) && id.count <= Int(UInt8.max)
                && counter.count <= Int(UInt8.max),
            "subscription text too large")
        subscriptionText.append(contentsOf: id)
        subscriptionText.append(contentsOf: counter)
        subscriptions.append(
            SubscriptionRecord(
                amount: amount, initialAmount: initialAmount ?? 0, amountAtRisk: 0, alias: UInt32(alias),
                shop: UInt32(shop),
                textOffset: UInt32(offset), rule: UInt32(ruleId), effect: effect.days32,
                initialCount: Int32(initialCount),
                nextCharge: Day.none32, firstChargeAfterExpiry: Day.none32, chargesAtRisk: 0, idLength: UInt8(id.count),
                counterLength: UInt8(counter.count), hasInitialAmount: initialAmount != nil))
        if case .failure(let reason) = ruleResults[ruleId] {
            guard warningsOpen else {
                suppressedWarnings += 1
                return
            }
            warn(
                "\(path):\(line): subscription \(String(decoding: id, as: UTF8.self)): schedule unknown (\(reason)); its charges are not counted"
            )
        }
    }

    /// The id of a rule text. A month's files repeat a few rule texts a million times: a small
    /// direct-mapped cache (keyed by length and end bytes, confirmed by comparing the bytes)
    /// answers before the interner has to hash them.
    mutating func ruleNumber(_ rule: UnsafeRawBufferPointer) -> Int {
        var key = UInt64(rule.count)
        if let p = rule.baseAddress, rule.count >= 8 {
            key =
                key &* 0x9E37_79B9_7F4A_7C15 ^ p.loadUnaligned(as: UInt64.self) ^ p.loadUnaligned(
                    fromByteOffset: rule.count - 8, as: UInt64.self) &* 31
        }
        let slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 58)
        let cached = ruleCache[slot]
        if cached >= 0, rules.length(cached) == rule.count,
            rules.withKey(cached, { rule.count == 0 || memcmp($0.baseAddress!, rule.baseAddress!, rule.count) == 0 })
        {
            return cached
        }
        let (id, inserted) = rules.intern(rule)
        if inserted { ruleResults.append(RecurrenceRule.parse(String(decoding: rule, as: UTF8.self))) }
        ruleCache[slot] = id
        return id
    }
}
