/// Checks each record against the platform's format and builds the typed model.
///
/// Field checks work on the bytes in the read buffer; Strings are made only for details the
/// caller asked for (`onDetail`), so `check` allocates almost nothing per line.
struct RecordValidator {
    let path: String
    let kind: FileKind
    let name: ExpCardsFileName?
    let limits: ExpCardsParser.Limits
    let onDetail: ((Detail) -> Void)?

    private var result: ParsedFile
    private var suppressed = 0
    private var headerLine: Int?
    private var trailerLine: Int?
    private var reportedMissingHeader = false
    private var latin1Fields = 0
    private var emptyRun: (first: Int, last: Int)?
    private var emptyLines = 0
    private var aliasHashes = Set<Int>()
    private var recordOK = true

    // Scratch for the current record.
    private var buf: UnsafeMutablePointer<UInt8>!
    private var fields: [LineTokenizer.Field] = []
    private var line = 0

    init(path: String, kind: FileKind, name: ExpCardsFileName?, limits: ExpCardsParser.Limits, onDetail: ((Detail) -> Void)?) {
        self.path = path
        self.kind = kind
        self.name = name
        self.limits = limits
        self.onDetail = onDetail
        result = ParsedFile(path: path, name: name)
        result.kind = kind
    }

    // MARK: Problems

    private mutating func problem(line: Int, field: Int = 0, _ fieldName: String? = nil, expected: String, found: String? = nil) {
        if result.problems.count >= limits.maxProblems {
            suppressed += 1
            return
        }
        result.problems.append(Problem(file: path, line: line, field: field, fieldName: fieldName, expected: expected, found: found))
    }

    private mutating func fieldProblem(_ i: Int, _ fieldName: String, expected: String) {
        recordOK = false
        problem(line: line, field: i + 1, fieldName, expected: expected, found: abbreviated(bytes(i)))
    }

    mutating func lineTooLong(line: Int, bytes: Int?) {
        flushEmptyRun()
        problem(
            line: line, expected: "a record line of at most \(limits.maxLineBytes) bytes",
            found: bytes.map { "\($0) bytes" } ?? "a longer line (skipped unread)")
        if trailerLine != nil { return }
    }

    mutating func unreadable(_ error: SourceError) {
        switch error {
        case .corruptGzip(let reason):
            problem(line: 0, expected: "a complete gzip stream", found: reason)
        case .unreadable(_, let reason):
            problem(line: 0, expected: "a readable file", found: "read error after line \(line): \(reason)")
        }
    }

    // MARK: Field access

    private func bytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        let f = fields[i]
        return UnsafeBufferPointer(start: buf + f.start, count: f.count)
    }

    private func isEmpty(_ i: Int) -> Bool { fields[i].count == 0 }

    /// `n..max` (or exactly `n<max>` when `exact`): ASCII digits, at least one.
    private mutating func digits(_ i: Int, _ fieldName: String, max: Int, exact: Bool = false) -> Int64? {
        let b = bytes(i)
        let ok = exact ? b.count == max : (1...max).contains(b.count)
        guard ok, b.allSatisfy(isDigit) else {
            fieldProblem(i, fieldName, expected: exact ? "\(max) digits" : "1 to \(max) digits")
            return nil
        }
        return Int64(number(b))
    }

    private mutating func date(_ i: Int, _ fieldName: String) -> Day? {
        let b = bytes(i)
        guard b.count == 8, b.allSatisfy(isDigit),
            let d = Day(year: number(b[0..<4]), month: number(b[4..<6]), day: number(b[6..<8]))
        else {
            fieldProblem(i, fieldName, expected: "a real date YYYYMMDD")
            return nil
        }
        return d
    }

    private mutating func time(_ i: Int, _ fieldName: String) -> TimeOfDay? {
        let b = bytes(i)
        guard b.count == 6, b.allSatisfy(isDigit),
            let t = TimeOfDay(hour: number(b[0..<2]), minute: number(b[2..<4]), second: number(b[4..<6]))
        else {
            fieldProblem(i, fieldName, expected: "a time HHMMSS")
            return nil
        }
        return t
    }

    private mutating func environment(_ i: Int) -> Environment? {
        let b = bytes(i)
        guard b.count == 1, let e = Environment(code: b[0]) else {
            fieldProblem(i, "environment", expected: "T (test) or P (production)")
            return nil
        }
        return e
    }

    @inline(__always) private func isASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var bits: UInt8 = 0
        for c in b { bits |= c }
        return bits < 0x80
    }

    /// The number of scalars of valid UTF-8 (shortest forms, no surrogates, at most U+10FFFF), or
    /// nil. Hand-written: validating without building a String keeps `check` allocation-free.
    private func utf8ScalarCount(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0, n = 0
        let count = b.count
        while i < count {
            let c = b[i]
            if c < 0x80 {
                i += 1
            } else {
                let len: Int, minimum: UInt32
                var v: UInt32
                switch c {
                case 0xC2...0xDF: len = 2; minimum = 0x80; v = UInt32(c & 0x1F)
                case 0xE0...0xEF: len = 3; minimum = 0x800; v = UInt32(c & 0x0F)
                case 0xF0...0xF4: len = 4; minimum = 0x10000; v = UInt32(c & 0x07)
                default: return nil
                }
                guard i + len <= count else { return nil }
                for k in 1..<len {
                    let d = b[i + k]
                    guard d & 0xC0 == 0x80 else { return nil }
                    v = v << 6 | UInt32(d & 0x3F)
                }
                guard v >= minimum, v <= 0x10FFFF, !(0xD800...0xDFFF).contains(v) else { return nil }
                i += len
            }
            n += 1
        }
        return n
    }

    /// `ans..max`: 1 to `max` printable ASCII characters (aliases, subscription ids, rules).
    private mutating func identifier(_ i: Int, _ fieldName: String, max: Int) -> String? {
        let b = bytes(i)
        guard (1...max).contains(b.count), b.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
            fieldProblem(i, fieldName, expected: "1 to \(max) printable ASCII characters")
            return nil
        }
        return onDetail == nil ? "" : String(decoding: b, as: UTF8.self)
    }

    /// `an..max`: up to `max` characters of text, UTF-8 or else Latin-1; may be empty. A NUL byte
    /// is a defect; other control characters are kept (reports escape them).
    private mutating func text(_ i: Int, _ fieldName: String, max: Int) -> String? {
        let b = bytes(i)
        if b.contains(0) {
            fieldProblem(i, fieldName, expected: "text without NUL bytes")
            return nil
        }
        var characters = b.count
        var string: String?
        if !isASCII(b) {
            if let scalars = utf8ScalarCount(b) {
                characters = scalars
            } else {
                // Not UTF-8: read as ISO-8859-1, where every byte is the scalar of the same value.
                latin1Fields += 1
                var s = String.UnicodeScalarView()
                s.append(contentsOf: b.map { Unicode.Scalar($0) })
                string = String(s)
            }
        }
        guard characters <= max else {
            fieldProblem(i, fieldName, expected: "at most \(max) characters (\(characters))")
            return nil
        }
        if onDetail == nil { return "" }
        return string ?? String(decoding: b, as: UTF8.self)
    }

    // MARK: Records

    mutating func record(line: Int, buf: UnsafeMutablePointer<UInt8>, tokenizer: LineTokenizer, length: Int) {
        self.line = line
        self.buf = buf
        var count = tokenizer.fieldCount
        if length == 0 {
            emptyLines += 1
            if let run = emptyRun, run.last == line - 1 { emptyRun = (run.first, line) } else {
                flushEmptyRun()
                emptyRun = (line, line)
            }
            return
        }
        flushEmptyRun()
        // Reuse the storage: no allocation per line.
        fields.removeAll(keepingCapacity: true)
        for i in 0..<min(count, LineTokenizer.maxFields) { fields.append(tokenizer.fields[i]) }
        recordOK = true
        for (i, f) in fields.enumerated() where f.defect != .none {
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
            code.count == 2 && code.allSatisfy(isDigit) && [0, 1, 2].contains(number(code)) ? number(code) : nil
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
        if count == expectedFields + 1, let last = fields.last, last.count == 0, !last.quoted {
            count -= 1
            fields.removeLast()
        }
        if codeValue == 2 { result.detailRecords += 1 }
        // Order: one header first, details, one trailer last.
        if let trailerLine {
            problem(line: line, expected: "nothing after the trailer record (line \(trailerLine))", found: "a record \(codeName(codeValue))")
        } else if codeValue == 0, let headerLine {
            problem(line: line, expected: "a single header record (the header is line \(headerLine))", found: "another header")
        } else if codeValue != 0, headerLine == nil, !reportedMissingHeader {
            reportedMissingHeader = true
            problem(line: line, expected: "a header record 00 first", found: "a record \(codeName(codeValue))")
        }
        guard count == expectedFields else {
            let tooMany = count > expectedFields
            problem(
                line: line, expected: "\(expectedFields) fields in a \(kind.rawValue) file's \(codeName(codeValue)) record",
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

    private func codeName(_ code: Int) -> String {
        switch code {
        case 0: return "header (00)"
        case 1: return "trailer (01)"
        default: return "detail (02)"
        }
    }

    private mutating func header() {
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
            let a = bytes(2), b = bytes(3)
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
                result.warnings.append(
                    "line \(line): header creation date \(created) is outside the file name's month \(name.month)")
            }
        }
        if let env, let created, let createdTime, recordOK {
            result.header = Header(environment: env, shopId: shopId, created: created, createdTime: createdTime)
        }
    }

    private mutating func trailer() {
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

    private mutating func detail() {
        let alias = identifier(1, "alias", max: 50)
        let name = text(2, "cardholder name", max: 127)
        let email = text(3, "cardholder e-mail", max: 127)
        let expiry = date(4, "expiry date")
        if kind == .shop, alias != nil {
            var hasher = Hasher()
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes(1)))
            aliasHashes.insert(hasher.finalize())
        }
        if kind == .company {
            let recurrences = digits(5, "recurrence count", max: 6)
            guard recordOK, let alias, let name, let email, let expiry, let recurrences else { return }
            result.validDetails += 1
            onDetail?(
                .company(
                    CompanyDetail(
                        line: line, alias: alias, name: name, email: email, expiry: expiry,
                        recurrences: Int(recurrences))))
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
        guard recordOK, let alias, let name, let email, let expiry, let subscription, let counter, let rule,
            let effect, let amount, let initialCount
        else { return }
        result.validDetails += 1
        onDetail?(
            .shop(
                ShopDetail(
                    line: line, alias: alias, name: name, email: email, expiry: expiry,
                    subscriptionId: subscription, recurrenceCounter: counter, rule: rule, effectDate: effect,
                    amount: amount, initialAmount: initialAmount, initialCount: Int(initialCount))))
    }

    /// `N/M` (current/total, as the guide's example `0/12`) or `N`.
    private mutating func recurrenceCounter(_ i: Int) -> String? {
        let b = bytes(i)
        let slash = b.firstIndex(of: UInt8(ascii: "/"))
        let parts = slash.map { [b[..<$0], b[($0 + 1)...]] } ?? [b[...]]
        guard parts.allSatisfy({ (1...6).contains($0.count) && $0.allSatisfy(isDigit) }) else {
            fieldProblem(i, "recurrence counter", expected: "N/M or N (digits)")
            return nil
        }
        return onDetail == nil ? "" : String(decoding: b, as: UTF8.self)
    }

    private mutating func flushEmptyRun() {
        guard let run = emptyRun else { return }
        emptyRun = nil
        result.warnings.append(
            run.first == run.last ? "line \(run.first) is empty" : "lines \(run.first)–\(run.last) are empty (\(run.last - run.first + 1) lines)")
    }

    // MARK: End of file

    mutating func finish() -> ParsedFile {
        flushEmptyRun()
        if headerLine == nil {
            problem(line: 0, expected: "a header record 00", found: result.detailRecords == 0 && trailerLine == nil ? "an empty file" : "none")
        }
        if let trailerLine {
            if let trailer = result.trailer {
                if trailer.detailCount != result.detailRecords {
                    problem(
                        line: trailerLine, field: 2, "detail count",
                        expected: "\(result.detailRecords) (the detail records in the file)",
                        found: "\(trailer.detailCount): the file is damaged or truncated")
                }
                if let aliasCount = trailer.aliasCount, aliasCount != aliasHashes.count {
                    problem(
                        line: trailerLine, field: 3, "alias count",
                        expected: "\(aliasHashes.count) (the distinct aliases in the file)", found: "\(aliasCount)")
                }
            }
        } else {
            problem(line: 0, expected: "a trailer record 01 at the end", found: "none: the file is truncated or damaged")
        }
        if suppressed > 0 {
            result.problems.append(
                Problem(file: path, line: 0, expected: "at most \(limits.maxProblems) problems listed", found: "\(suppressed) more not listed"))
        }
        if latin1Fields > 0 {
            result.warnings.append("text is not UTF-8: \(latin1Fields) field\(latin1Fields == 1 ? "" : "s") read as ISO-8859-1 (Latin-1)")
        }
        return result
    }
}
