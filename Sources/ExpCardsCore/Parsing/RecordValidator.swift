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

    var result: ParsedFile
    var suppressed = 0
    var headerLine: Int?
    var trailerLine: Int?
    var reportedMissingHeader = false
    var latin1Fields = 0
    var emptyRun: (first: Int, last: Int)?
    var emptyLines = 0
    var aliases = DistinctAliases()
    var recordOK = true
    /// A problem or warning wrote a line number into its text (see `absorb`).
    var mentionsLines = false

    // Scratch for the current record: the tokenizer's fields over the read buffer.
    var buf: UnsafeMutablePointer<UInt8>!
    var fields: UnsafeMutablePointer<LineTokenizer.Field>!
    var count = 0
    var line = 0

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
    static func secondPart(
        path: String, kind: FileKind, name: ExpCardsFileName?, limits: ExpCardsParser.Limits
    ) -> RecordValidator {
        var v = RecordValidator(path: path, kind: kind, name: name, limits: limits, onDetailView: nil)
        v.headerLine = 1
        return v
    }

    /// Sorts the part's alias hashes, on its own thread, before the join.
    func sortAliasHashes() { aliases.compact() }

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

    mutating func problem(line: Int, field: Int = 0, _ fieldName: String? = nil, expected: String, found: String? = nil)
    {
        if result.problems.count >= limits.maxProblems {
            suppressed += 1
            return
        }
        result.problems.append(
            Problem(file: path, line: line, field: field, fieldName: fieldName, expected: expected, found: found))
    }

    mutating func fieldProblem(_ i: Int, _ fieldName: String, expected: String) {
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

    // MARK: End of file

    mutating func finish() -> ParsedFile {
        flushEmptyRun()
        if headerLine == nil {
            problem(
                line: 0, expected: "a header record 00",
                found: result.detailRecords == 0 && trailerLine == nil ? "an empty file" : "none")
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
            problem(
                line: 0, expected: "a trailer record 01 at the end", found: "none: the file is truncated or damaged")
        }
        if suppressed > 0 {
            result.problems.append(
                Problem(
                    file: path, line: 0, expected: "at most \(limits.maxProblems) problems listed",
                    found: "\(suppressed) more not listed"))
        }
        if latin1Fields > 0 {
            result.warnings.append(
                "text is not UTF-8: \(latin1Fields) field\(latin1Fields == 1 ? "" : "s") read as ISO-8859-1 (Latin-1)")
        }
        return result
    }
}
