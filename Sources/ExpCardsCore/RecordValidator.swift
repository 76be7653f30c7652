/// Checks each record against the platform's format and builds the typed model.
///
/// Field checks work on the bytes in the read buffer; nothing is allocated per line. Valid
/// details are lent to the caller as a `DetailView` over those bytes.
struct RecordValidator {
    let path: String
    let kind: FileKind
    let name: ExpCardsFileName?
    let limits: ExpCardsParser.Limits
    let onDetailView: ((borrowing DetailView) -> Void)?

    private var result: ParsedFile
    private var suppressed = 0
    private var headerLine: Int?
    private var trailerLine: Int?
    private var reportedMissingHeader = false
    private var latin1Fields = 0
    private var emptyRun: (first: Int, last: Int)?
    private var emptyLines = 0
    private var aliases = DistinctAliases()
    private var recordOK = true
    /// A problem or warning wrote a line number into its text (see `absorb`).
    private(set) var mentionsLines = false

    // Scratch for the current record: the tokenizer's fields over the read buffer.
    private var buf: UnsafeMutablePointer<UInt8>!
    private var fields: UnsafeMutablePointer<LineTokenizer.Field>!
    private var count = 0
    private var line = 0

    init(
        path: String, kind: FileKind, name: ExpCardsFileName?, limits: ExpCardsParser.Limits,
        onDetailView: ((borrowing DetailView) -> Void)?
    ) {
        self.path = path
        self.kind = kind
        self.name = name
        self.limits = limits
        self.onDetailView = onDetailView
        result = ParsedFile(path: path, name: name)
        result.kind = kind
    }

    // MARK: Split parsing (see `ExpCardsParser.parseSplit`)

    /// A validator for the second part of a file split at a line boundary, assuming the first
    /// part starts with the header on line 1 and holds no trailer.
    static func secondPart(path: String, kind: FileKind, name: ExpCardsFileName?, limits: ExpCardsParser.Limits) -> RecordValidator {
        var v = RecordValidator(path: path, kind: kind, name: name, limits: limits, onDetailView: nil)
        v.headerLine = 1
        return v
    }

    /// Sorts the part's alias hashes, on its own thread, before the join.
    func prepareJoin() { _ = aliases.count }

    /// The first part ended in the state `secondPart` assumed: its result can be joined.
    var endsAsSecondPartAssumed: Bool { headerLine == 1 && trailerLine == nil && emptyRun == nil }

    /// Joins the first part `a` (lines 1...`lines`) in front of this second part, whose line
    /// numbers counted from 1 at the split. Only valid when `a.endsAsSecondPartAssumed` and
    /// neither part wrote a relative line number into a text (`mentionsLines`).
    mutating func absorb(first a: RecordValidator, lines offset: Int) {
        var problems = a.result.problems
        var suppressedTotal = a.suppressed + suppressed
        for var p in result.problems {
            p.line += offset
            if problems.count < limits.maxProblems { problems.append(p) } else { suppressedTotal += 1 }
        }
        result.problems = problems
        suppressed = suppressedTotal
        result.warnings = a.result.warnings + result.warnings
        result.detailRecords += a.result.detailRecords
        result.validDetails += a.result.validDetails
        result.header = a.result.header
        headerLine = a.headerLine
        reportedMissingHeader = a.reportedMissingHeader
        if let t = trailerLine { trailerLine = t + offset }
        if let run = emptyRun { emptyRun = (run.first + offset, run.last + offset) }
        latin1Fields += a.latin1Fields
        emptyLines += a.emptyLines
        aliases.absorb(a.aliases)
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

    mutating func lineTooLong(line: Int, bytes: Int) {
        flushEmptyRun()
        problem(line: line, expected: "a record line of at most \(limits.maxLineBytes) bytes", found: "\(bytes) bytes")
    }

    mutating func unreadable(_ error: SourceError) {
        switch error {
        case .corruptGzip(let reason):
            problem(line: 0, expected: "a complete gzip stream", found: reason)
        case .inflatesTooMuch(let limit, let compressed):
            let ratio = limits.inflation.ratio
            problem(
                line: 0,
                expected: "gzip data that inflates to at most \(ratio) times its compressed size (here \(limit) bytes)",
                found: "more, after \(compressed) compressed bytes; the rest of the file is not read")
        case .unreadable(_, let reason):
            mentionsLines = true
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
        var value: Int64 = 0
        var bad = false
        for c in b {
            bad = bad || !isDigit(c)
            value = value &* 10 &+ Int64(c &- 48)
        }
        guard ok, !bad else {
            fieldProblem(i, fieldName, expected: exact ? "\(max) digits" : "1 to \(max) digits")
            return nil
        }
        return value
    }

    private mutating func date(_ i: Int, _ fieldName: String) -> Day? {
        guard let (y, m, dd) = SWAR.eightDigits(bytes(i)), let d = Day(year: y, month: m, day: dd)
        else {
            fieldProblem(i, fieldName, expected: "a real date YYYYMMDD")
            return nil
        }
        return d
    }

    private mutating func time(_ i: Int, _ fieldName: String) -> TimeOfDay? {
        let b = bytes(i)
        guard b.count == 6, allDigits(b),
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

    /// Reductions without an early exit, so that the compiler vectorises them.
    @inline(__always) private func allDigits(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var bad = false
        for c in b { bad = bad || !isDigit(c) }
        return !bad
    }

    /// Whether the bytes are valid UTF-8: shortest forms, no surrogates, at most U+10FFFF (the
    /// Unicode standard's table 3-7). Hand-written: validating without building a String keeps
    /// `check` allocation-free, and the ranges of the second byte replace decoding the scalar.
    static func isUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = b.count
        @inline(__always) func continuation(_ k: Int) -> Bool { b[k] & 0xC0 == 0x80 }
        while i < n {
            let c = b[i]
            if c < 0x80 {
                i &+= 1
                continue
            }
            switch c {
            case 0xC2...0xDF:
                guard i + 1 < n, continuation(i + 1) else { return false }
                i &+= 2
            case 0xE0...0xEF:
                guard i + 2 < n else { return false }
                let c1 = b[i + 1]
                let low: UInt8 = c == 0xE0 ? 0xA0 : 0x80, high: UInt8 = c == 0xED ? 0x9F : 0xBF
                guard c1 >= low, c1 <= high, continuation(i + 2) else { return false }
                i &+= 3
            case 0xF0...0xF4:
                guard i + 3 < n else { return false }
                let c1 = b[i + 1]
                let low: UInt8 = c == 0xF0 ? 0x90 : 0x80, high: UInt8 = c == 0xF4 ? 0x8F : 0xBF
                guard c1 >= low, c1 <= high, continuation(i + 2), continuation(i + 3) else { return false }
                i &+= 4
            default:
                return false
            }
        }
        return true
    }

    /// `ans..max`: 1 to `max` printable ASCII characters (aliases, subscription ids, rules).
    private mutating func identifier(_ i: Int, _ fieldName: String, max: Int) -> Bool {
        let b = bytes(i)
        guard (1...max).contains(b.count), SWAR.isPrintableASCII(b) else {
            fieldProblem(i, fieldName, expected: "1 to \(max) printable ASCII characters")
            return false
        }
        return true
    }

    /// `an..max`: up to `max` characters of text, UTF-8 or else Latin-1; may be empty. A NUL byte
    /// is a defect; other control characters are kept (reports escape them). Returns whether the
    /// text is read as ISO-8859-1, or nil when it is wrong.
    private mutating func text(_ i: Int, _ fieldName: String, max: Int) -> Bool? {
        let b = bytes(i)
        let (ascii, nul) = SWAR.asciiAndNul(b)
        if nul {
            fieldProblem(i, fieldName, expected: "text without NUL bytes")
            return nil
        }
        var characters = b.count
        var latin1 = false
        if !ascii {
            if RecordValidator.isUTF8(b) {
                // Scalars are the bytes that do not continue one; counted only when it matters.
                if characters > max { characters = b.reduce(0) { $0 &+ ($1 & 0xC0 == 0x80 ? 0 : 1) } }
            } else {
                // Not UTF-8: read as ISO-8859-1, where every byte is the scalar of the same value.
                latin1Fields += 1
                latin1 = true
            }
        }
        guard characters <= max else {
            fieldProblem(i, fieldName, expected: "at most \(max) characters (\(characters))")
            return nil
        }
        return latin1
    }

    // MARK: Records

    mutating func record(line: Int, buf: UnsafeMutablePointer<UInt8>, tokenizer: LineTokenizer, length: Int) {
        self.line = line
        self.buf = buf
        self.fields = tokenizer.fields
        var count = tokenizer.fieldCount
        if length == 0 {
            emptyLines += 1
            if let run = emptyRun, run.last == line - 1 { emptyRun = (run.first, line) } else {
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
        let codeValue: Int? = code.count == 2 && code[0] == 0x30 && (0x30...0x32).contains(code[1]) ? Int(code[1] - 0x30) : nil
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
            problem(line: line, expected: "nothing after the trailer record (line \(trailerLine))", found: "a record \(codeName(codeValue))")
        } else if codeValue == 0, let headerLine {
            mentionsLines = true
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
                mentionsLines = true
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
                    recurrenceCounter: UnsafeBufferPointer(start: nil, count: 0), rule: UnsafeBufferPointer(start: nil, count: 0),
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
    private mutating func recurrenceCounter(_ i: Int) -> Bool {
        let b = bytes(i)
        var ok = true
        if let slash = b.firstIndex(of: UInt8(ascii: "/")) {
            ok = (1...6).contains(slash) && (1...6).contains(b.count - slash - 1)
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

    private mutating func flushEmptyRun() {
        guard let run = emptyRun else { return }
        emptyRun = nil
        mentionsLines = true
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
                if let aliasCount = trailer.aliasCount, aliasCount != aliases.count {
                    problem(
                        line: trailerLine, field: 3, "alias count",
                        expected: aliases.count > DistinctAliases.limit
                            ? "at most \(DistinctAliases.limit) (the field's 6 digits), the file has more distinct aliases"
                            : "\(aliases.count) (the distinct aliases in the file)",
                        found: "\(aliasCount)")
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

/// The distinct aliases of a shop file, for the trailer's alias count: 64-bit hashes of the
/// alias bytes, appended as they come and counted once at the end by sorting.
///
/// Hand-written rather than `Set<Int>` + `Hasher`: SipHash over 32 bytes, then again over the
/// Int for the set, was a fifth of `check`'s time, and any hash table of a million entries pays a
/// cache and TLB miss per insert (a quarter of `check`'s time, measured). Appending is sequential
/// and a radix sort at the end costs a few milliseconds. The hash mixes 8 bytes at a time, keyed
/// per process (a file cannot be crafted to collide). Two aliases whose hashes collide would be
/// counted once: at 10^6 aliases the chance is about 3 in 10^8, and the count is a coherence
/// check, not data. Memory is bounded: the list is deduplicated when it fills, and past `limit`
/// distinct aliases (the field's 6 digits) the count cannot match anyway and no more are kept.
final class DistinctAliases {
    /// The trailer's field has 6 digits.
    static let limit = 999_999
    private static let seed = UInt64.random(in: .min ... .max)
    /// Counting stops past this many distinct aliases.
    let limit: Int
    /// Twice the limit: at most 16 MB, whatever the file.
    private let capacity: Int
    private var hashes: UnsafeMutablePointer<UInt64>?
    private var stored = 0
    /// The first `sortedPrefix` hashes are sorted and distinct.
    private var sortedPrefix = 0
    private var overflow = false

    init(limit: Int = DistinctAliases.limit) {
        self.limit = limit
        capacity = 2 * (limit + 1)
    }

    deinit { hashes?.deallocate() }

    @inline(__always) private static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = seed ^ UInt64(b.count) &* 0x9E37_79B9_7F4A_7C15
        guard let base = b.baseAddress else { return mix(h) }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= b.count {
            h = mix(h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        if i < b.count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < b.count {
                tail |= UInt64(b[i]) << shift
                shift += 8
                i += 1
            }
            h = mix(h ^ tail)
        }
        return h
    }

    @inline(__always) func insert(_ alias: UnsafeBufferPointer<UInt8>) {
        if overflow { return }
        if stored == capacity { compact() }
        if overflow { return }
        if hashes == nil {
            hashes = .allocate(capacity: capacity)
        }
        hashes![stored] = DistinctAliases.hash(alias)
        stored += 1
    }

    /// Adds the hashes `other` holds: a linear merge when both are sorted (`prepareJoin`).
    func absorb(_ other: DistinctAliases) {
        other.compact()
        guard let theirs = other.hashes else { return }
        if let mine = hashes, sortedPrefix == stored, !overflow, !other.overflow, stored + other.stored <= capacity {
            let merged = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
            var i = 0, j = 0, w = 0
            while i < stored || j < other.stored {
                let v: UInt64
                if j == other.stored || (i < stored && mine[i] <= theirs[j]) {
                    v = mine[i]
                    i += 1
                } else {
                    v = theirs[j]
                    j += 1
                }
                if w == 0 || merged[w - 1] != v {
                    merged[w] = v
                    w += 1
                }
            }
            mine.deallocate()
            hashes = merged
            stored = w
            sortedPrefix = w
            if w > limit { overflow = true }
            return
        }
        for k in 0..<other.stored {
            if overflow { return }
            if stored == capacity { compact() }
            if overflow { return }
            if hashes == nil { hashes = .allocate(capacity: capacity) }
            hashes![stored] = theirs[k]
            stored += 1
        }
        if other.overflow { overflow = true }
    }

    /// Distinct aliases; more than `limit` when there are more.
    var count: Int {
        compact()
        return overflow ? limit + 1 : stored
    }

    /// Sorts and deduplicates what is stored: one counting pass and one scatter by the top 16
    /// bits, then each bucket (about 15 hashes at a million, they are uniform) sorted in place
    /// by insertion and written back without its duplicates. Two sequential passes instead of the
    /// eight of a full radix sort.
    private func compact() {
        guard let hashes, stored > sortedPrefix else { return }
        let n = stored
        let buckets = 1 << 16
        let starts = UnsafeMutablePointer<Int>.allocate(capacity: buckets + 1)
        defer { starts.deallocate() }
        starts.initialize(repeating: 0, count: buckets + 1)
        for k in 0..<n { starts[Int(hashes[k] >> 48) + 1] += 1 }
        for b in 0..<buckets { starts[b + 1] += starts[b] }
        let scratch = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
        defer { scratch.deallocate() }
        let next = UnsafeMutablePointer<Int>.allocate(capacity: buckets)
        defer { next.deallocate() }
        next.initialize(from: starts, count: buckets)
        for k in 0..<n {
            let v = hashes[k]
            let b = Int(v >> 48)
            scratch[next[b]] = v
            next[b] += 1
        }
        var w = 0
        for b in 0..<buckets {
            let lo = starts[b], hi = starts[b + 1]
            guard lo < hi else { continue }
            // Insertion sort of the bucket.
            for k in (lo + 1)..<max(hi, lo + 1) {
                let v = scratch[k]
                var j = k
                while j > lo && scratch[j - 1] > v {
                    scratch[j] = scratch[j - 1]
                    j -= 1
                }
                scratch[j] = v
            }
            for k in lo..<hi where k == lo || scratch[k] != scratch[k - 1] {
                hashes[w] = scratch[k]
                w += 1
            }
        }
        stored = w
        sortedPrefix = w
        if w > limit { overflow = true }
    }
}

/// Word-at-a-time byte checks (8 bytes per step) for the validator's hottest loops.
enum SWAR {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Every byte in 0x20...0x7E.
    @inline(__always) static func isPrintableASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress, b.count >= 8 else {
            var bad = false
            for c in b { bad = bad || (c &- 0x20) >= 0x5F }
            return !bad
        }
        let raw = UnsafeRawPointer(base)
        // A byte < 0x20 (exact as a yes/no), or a byte > 0x7E (0x7F + 1 or a high bit).
        @inline(__always) func check(_ w: UInt64) -> UInt64 { ((w &- 0x20 &* ones) & ~w) | ((w &+ ones) | w) }
        // The last word overlaps the one before: checking a byte twice changes no answer.
        var bad = check(raw.loadUnaligned(fromByteOffset: b.count &- 8, as: UInt64.self))
        var i = 0
        while i &+ 8 < b.count {
            bad |= check(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i &+= 8
        }
        return bad & highs == 0
    }

    /// (all bytes ASCII, some byte is NUL).
    @inline(__always) static func asciiAndNul(_ b: UnsafeBufferPointer<UInt8>) -> (Bool, Bool) {
        guard let base = b.baseAddress, b.count >= 8 else {
            var bits: UInt8 = 0
            var nul = false
            for c in b {
                bits |= c
                nul = nul || c == 0
            }
            return (bits < 0x80, nul)
        }
        let raw = UnsafeRawPointer(base)
        var w = raw.loadUnaligned(fromByteOffset: b.count &- 8, as: UInt64.self)
        var bits = w
        var zero = (w &- ones) & ~w
        var i = 0
        while i &+ 8 < b.count {
            w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            bits |= w
            zero |= (w &- ones) & ~w
            i &+= 8
        }
        return (bits & highs == 0, zero & highs != 0)
    }

    /// `YYYYMMDD` as (year, month, day) when all 8 bytes are ASCII digits, from one word.
    @inline(__always) static func eightDigits(_ b: UnsafeBufferPointer<UInt8>) -> (Int, Int, Int)? {
        guard b.count == 8, let base = b.baseAddress else { return nil }
        let w = UInt64(littleEndian: UnsafeRawPointer(base).loadUnaligned(as: UInt64.self))
        // No byte below '0' (exact), then no byte of w - '0' above 9 (exact: no borrows left).
        guard (w &- 0x30 &* ones) & ~w & highs == 0 else { return nil }
        let x = w &- 0x30 &* ones
        guard ((x &+ 118 &* ones) | x) & highs == 0 else { return nil }
        @inline(__always) func d(_ k: UInt64) -> Int { Int((x >> (8 * k)) & 0xFF) }
        return (d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3), d(4) * 10 + d(5), d(6) * 10 + d(7))
    }
}
