/// The records: header (00), details (02), trailer (01), each checked field by field.
extension RecordValidator {
    mutating func record(line: Int, buf: UnsafeMutablePointer<UInt8>, tokenizer: LineTokenizer, length: Int) {
        self.line = line
        self.buf = buf
        self.fields = tokenizer.fields
        var count = tokenizer.fieldCount
        if length == 0 {
            emptyLines += 1
            if let run = emptyRun, run.last == line - 1 {
                emptyRun = (run.first, line)
            } else {
                flushEmptyRun()
                emptyRun = (line, line)
            }
            return
        }
        if emptyRun != nil { flushEmptyRun() }
        let kept = min(count, LineTokenizer.maxFields)
        self.count = kept
        recordOK = true
        for i in 0..<kept where fields[i].defect != .none {
            let f = fields[i]
            let what: String
            switch f.defect {
            case .unterminatedQuote: what = "a closing quote before the end of the line"
            case .strayQuote: what = "no quote inside an unquoted field (wrap the field in quotes and double it)"
            case .textAfterClosingQuote: what = "a separator ; or the line end after the closing quote"
            case .none: continue
            }
            problem(line: line, field: i + 1, nil, expected: what, found: abbreviated(bytes(i)))
            recordOK = false
        }
        // Record code.
        let code = bytes(0)
        let codeValue: Int? =
            code.count == 2 && code[0] == 0x30 && (0x30...0x32).contains(code[1]) ? Int(code[1] - 0x30) : nil
        guard let codeValue else {
            fieldProblem(0, "record code", expected: "00 (header), 02 (detail) or 01 (trailer)")
            return
        }
        let expectedFields: Int
        switch (codeValue, kind) {
        case (0, .company): expectedFields = 5
        case (0, .shop): expectedFields = 6
        case (2, .company): expectedFields = 6
        case (2, .shop): expectedFields = 12
        case (1, .company): expectedFields = 4
        default: expectedFields = 5
        }
        // One trailing `;` (an empty, unquoted last field) is accepted, as in the platform's other files.
        if count == expectedFields + 1, fields[expectedFields].count == 0, !fields[expectedFields].quoted {
            count -= 1
            self.count = count
        }
        if codeValue == 2 { result.detailRecords += 1 }
        // Order: one header first, details, one trailer last.
        if let trailerLine {
            mentionsLines = true
            problem(
                line: line, expected: "nothing after the trailer record (line \(trailerLine))",
                found: "a record \(codeName(codeValue))")
        } else if codeValue == 0, let headerLine {
            mentionsLines = true
            problem(
                line: line, expected: "a single header record (the header is line \(headerLine))",
                found: "another header")
        } else if codeValue != 0, headerLine == nil, !reportedMissingHeader {
            reportedMissingHeader = true
            problem(line: line, expected: "a header record 00 first", found: "a record \(codeName(codeValue))")
        }
        guard count == expectedFields else {
            let tooMany = count > expectedFields
            problem(
                line: line,
                expected: "\(expectedFields) fields in a \(kind.rawValue) file's \(codeName(codeValue)) record",
                found: "\(count) field\(count == 1 ? "" : "s")" + (tooMany ? " (a ; outside quotes?)" : ""))
            if codeValue == 0, headerLine == nil { headerLine = line }
            if codeValue == 1, trailerLine == nil { trailerLine = line }
            return
        }
        guard recordOK else {
            if codeValue == 0, headerLine == nil { headerLine = line }
            if codeValue == 1, trailerLine == nil { trailerLine = line }
            return
        }
        switch codeValue {
        case 0: header()
        case 1: trailer()
        default: detail()
        }
    }

    func codeName(_ code: Int) -> String {
        switch code {
        case 0: return "header (00)"
        case 1: return "trailer (01)"
        default: return "detail (02)"
        }
    }

    mutating func header() {
        if headerLine == nil { headerLine = line }
        let fileType = bytes(1)
        if !fileType.elementsEqual("EXP_CARDS".utf8) {
            fieldProblem(1, "file type", expected: "EXP_CARDS")
        }
        var env: Environment?
        var shopId: String?
        var next = 2
        if kind == .shop {
            // The guide's table puts the shop id 3rd and the environment 4th, its example the
            // reverse: tell them apart by their form.
            let a = bytes(2)
            let b = bytes(3)
            let aIsShop = a.count == 8 && a.allSatisfy(isDigit)
            let bIsShop = b.count == 8 && b.allSatisfy(isDigit)
            let (shopIndex, envIndex) = aIsShop || !bIsShop ? (2, 3) : (3, 2)
            if let s = digits(shopIndex, "shop id", max: 8, exact: true) {
                shopId = String(decoding: bytes(shopIndex), as: UTF8.self)
                _ = s
            }
            env = environment(envIndex)
            next = 4
        } else {
            env = environment(2)
            next = 3
        }
        let created = date(next, "creation date")
        let createdTime = time(next + 1, "creation time")
        if let name {
            if let env, env != name.environment {
                problem(
                    line: line, field: kind == .shop ? 0 : 3, "environment",
                    expected: "\(name.environment.code) as in the file name", found: "\(env.code)")
            }
            if let shopId, let nameShop = name.shopId, shopId != nameShop {
                problem(line: line, field: 0, "shop id", expected: "\(nameShop) as in the file name", found: shopId)
            }
            if let created, YearMonth(created) != name.month {
                mentionsLines = true
                result.warnings.append(
                    "line \(line): header creation date \(created) is outside the file name's month \(name.month)")
            }
        }
        if let env, let created, let createdTime, recordOK {
            result.header = Header(environment: env, shopId: shopId, created: created, createdTime: createdTime)
        }
    }

    mutating func trailer() {
        if trailerLine == nil { trailerLine = line }
        let count = digits(1, "detail count", max: 6)
        var aliases: Int64?
        var next = 2
        if kind == .shop {
            aliases = digits(2, "alias count", max: 6)
            next = 3
        }
        let ended = date(next, "end date")
        let endedTime = time(next + 1, "end time")
        if let count, let ended, let endedTime, recordOK {
            result.trailer = Trailer(
                detailCount: Int(count), aliasCount: aliases.map(Int.init), ended: ended, endedTime: endedTime)
        }
    }

    mutating func detail() {
        let alias = identifier(1, "alias", max: 50)
        let nameLatin1 = text(2, "cardholder name", max: 127)
        let emailLatin1 = text(3, "cardholder e-mail", max: 127)
        let expiry = date(4, "expiry date")
        if kind == .shop, alias { aliases.insert(bytes(1)) }
        if kind == .company {
            let recurrences = digits(5, "recurrence count", max: 6)
            guard recordOK, alias, let nameLatin1, let emailLatin1, let expiry, let recurrences else { return }
            result.validDetails += 1
            onDetailView?(
                DetailView(
                    kind: .company, line: line, alias: bytes(1), name: bytes(2), nameIsLatin1: nameLatin1,
                    email: bytes(3), emailIsLatin1: emailLatin1, expiry: expiry, recurrences: Int(recurrences),
                    subscriptionId: UnsafeBufferPointer(start: nil, count: 0),
                    recurrenceCounter: UnsafeBufferPointer(start: nil, count: 0),
                    rule: UnsafeBufferPointer(start: nil, count: 0),
                    effectDate: nil, amount: 0, initialAmount: nil, initialCount: 0))
            return
        }
        let subscription = identifier(5, "subscription id", max: 50)
        let counter = recurrenceCounter(6)
        let rule = identifier(7, "subscription rule", max: 500)
        let effect = date(8, "effect date")
        let amount = digits(9, "amount", max: 12)
        var initialAmount: Int64?
        if !isEmpty(10) { initialAmount = digits(10, "initial amount", max: 12) }
        var initialCount: Int64? = 0
        if !isEmpty(11) || !isEmpty(10) { initialCount = digits(11, "initial count", max: 3) }
        guard recordOK, alias, let nameLatin1, let emailLatin1, let expiry, subscription, counter, rule,
            let effect, let amount, let initialCount
        else { return }
        result.validDetails += 1
        onDetailView?(
            DetailView(
                kind: .shop, line: line, alias: bytes(1), name: bytes(2), nameIsLatin1: nameLatin1,
                email: bytes(3), emailIsLatin1: emailLatin1, expiry: expiry, recurrences: 0,
                subscriptionId: bytes(5), recurrenceCounter: bytes(6), rule: bytes(7), effectDate: effect,
                amount: amount, initialAmount: initialAmount, initialCount: Int(initialCount)))
    }

    /// `N/M` (current/total, as the guide's example `0/12`) or `N`.
    mutating func recurrenceCounter(_ i: Int) -> Bool {
        let b = bytes(i)
        var ok = true
        if let slash = b.firstIndex(of: UInt8(ascii: "/")) {
            ok =
                (1...6).contains(slash) && (1...6).contains(b.count - slash - 1)
                && allDigits(UnsafeBufferPointer(rebasing: b[..<slash]))
                && allDigits(UnsafeBufferPointer(rebasing: b[(slash + 1)...]))
        } else {
            ok = (1...6).contains(b.count) && allDigits(b)
        }
        guard ok else {
            fieldProblem(i, "recurrence counter", expected: "N/M or N (digits)")
            return false
        }
        return true
    }

    mutating func flushEmptyRun() {
        guard let run = emptyRun else { return }
        emptyRun = nil
        mentionsLines = true
        result.warnings.append(
            run.first == run.last
                ? "line \(run.first) is empty"
                : "lines \(run.first)–\(run.last) are empty (\(run.last - run.first + 1) lines)")
    }
}
