import Dispatch
import Glibc

/// Reads EXP_CARDS files: streams the bytes through `LineTokenizer` and `RecordValidator`,
/// hands each valid detail to the caller and returns the rest as a `ParsedFile`.
///
/// Memory stays bounded whatever the file: one buffer, the longest line allowed, a capped list of
/// problems, and for shop files a set of alias hashes for the trailer's alias count. What grows
/// is what the caller keeps from `onDetail`.
public enum ExpCardsParser {
    /// Limits that keep hostile files from costing unbounded memory or output.
    public struct Limits: Sendable {
        /// A longer line is reported and skipped without being buffered (real records are < 1 KiB).
        public var maxLineBytes = 64 * 1024
        /// Problems listed per file; the rest are counted.
        public var maxProblems = 100
        /// Size of the read buffer.
        public var bufferBytes = 1 << 20
        /// How much a gzip file may inflate to: `GzipSource.InflationLimit`.
        public var inflation = GzipSource<FileSource>.InflationLimit()

        public init() {}
    }

    /// Parses the file at `path`; its kind comes from its name. A name that is not an EXP_CARDS
    /// name is not parsed (the format page: "list it, never parse it as one").
    public static func parse(
        path: String, limits: Limits = Limits(), onDetail: ((Detail) -> Void)? = nil,
        open: FileSource.Opener = FileSource.openPath
    ) -> ParsedFile {
        parse(path: path, limits: limits, open: open, view: onDetail.map { handler in { handler($0.detail) } })
    }

    /// Parses the file at `path`, lending each valid detail's bytes to `onDetailView`. `open`
    /// opens it (the archive's opener follows no link).
    public static func parse(
        path: String, limits: Limits = Limits(), onDetailView: (borrowing DetailView) -> Void,
        open: FileSource.Opener = FileSource.openPath
    ) -> ParsedFile {
        withoutActuallyEscaping(onDetailView) { parse(path: path, limits: limits, open: open, view: $0) }
    }

    private static func parse(
        path: String, limits: Limits, open: FileSource.Opener = FileSource.openPath,
        view onDetailView: ((borrowing DetailView) -> Void)?
    ) -> ParsedFile {
        let base = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        let name = ExpCardsFileName(base)
        var result = ParsedFile(path: path, name: name)
        guard let name else {
            if access(path, R_OK) != 0 {
                result.unreadable = SourceError.unreadable(path: path, reason: errnoText()).description
                return result
            }
            result.problems.append(
                Problem(
                    file: path, line: 0,
                    expected:
                        "an EXP_CARDS file name (AAAAMM.EXP_CARDS.ENS.z.csv or AAAAMM.SHOP_KEY.EXP_CARDS.PDV.z.csv, optionally .gz)",
                    found: abbreviated(base.utf8)))
            return result
        }
        do throws(SourceError) {
            let file = try open(path)
            // Gzip is recognised by its magic bytes, not only by the name.
            let magic = UnsafeMutableRawBufferPointer.allocate(byteCount: 2, alignment: 1)
            defer { magic.deallocate() }
            let n = try file.read(into: magic)
            lseek(file.descriptor, 0, SEEK_SET)
            if n == 2 && magic[0] == 0x1F && magic[1] == 0x8B {
                let gz = try GzipSource(file, limit: limits.inflation)
                var source = gz
                result = parse(
                    source: &source, path: path, kind: name.kind, name: name, limits: limits, view: onDetailView)
                result.compressed = true
            } else {
                if onDetailView == nil, let split = parseSplit(file, path: path, name: name, limits: limits) {
                    result = split
                } else {
                    var source = file
                    result = parse(
                        source: &source, path: path, kind: name.kind, name: name, limits: limits, view: onDetailView)
                }
                if name.compressed {
                    result.warnings.append("named .gz but not gzip-compressed: read as plain text")
                }
            }
        } catch {
            result.unreadable = error.description
        }
        return result
    }

    /// Parses bytes from any source as a file of the given kind. `name`, when given, is checked
    /// against the header (environment, shop id, month).
    public static func parse<S: ByteSource>(
        source: inout S, path: String, kind: FileKind, name: ExpCardsFileName?,
        limits: Limits = Limits(), onDetail: ((Detail) -> Void)? = nil
    ) -> ParsedFile {
        parse(
            source: &source, path: path, kind: kind, name: name, limits: limits,
            view: onDetail.map { handler in { handler($0.detail) } })
    }

    /// Parses bytes from any source, lending each valid detail's bytes to `onDetailView`.
    public static func parse<S: ByteSource>(
        source: inout S, path: String, kind: FileKind, name: ExpCardsFileName?,
        limits: Limits = Limits(), onDetailView: (borrowing DetailView) -> Void
    ) -> ParsedFile {
        withoutActuallyEscaping(onDetailView) {
            parse(source: &source, path: path, kind: kind, name: name, limits: limits, view: $0)
        }
    }

    private static func parse<S: ByteSource>(
        source: inout S, path: String, kind: FileKind, name: ExpCardsFileName?,
        limits: Limits, view onDetailView: ((borrowing DetailView) -> Void)?
    ) -> ParsedFile {
        var validator = RecordValidator(path: path, kind: kind, name: name, limits: limits, onDetailView: onDetailView)
        let (_, readError) = run(source: &source, validator: &validator, limits: limits)
        if let readError { validator.unreadable(readError) }
        return validator.finish()
    }

    /// Files at least this large are checked in two halves on two threads (when no caller
    /// wants the details).
    static let splitThreshold = 8 << 20

    /// Checks a plain file in two halves at once: the second half from the first line start
    /// after the middle, numbered from 1, then shifted and joined (`RecordValidator.absorb`).
    /// Records never span lines, so a line boundary is a clean cut. When the first half does not
    /// end as the second assumed (header on line 1, no trailer, no pending empty lines), or a
    /// text of the second half quotes one of its line numbers, or a read fails, the result is
    /// thrown away and the file read again in one pass: the answer is always the one-pass answer.
    /// Hand-written threads rather than a library: two halves, one join.
    static func parseSplit(
        _ file: FileSource, path: String, name: ExpCardsFileName, limits: Limits, threshold: Int = splitThreshold
    ) -> ParsedFile? {
        var st = stat()
        guard fstat(file.descriptor, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let size = Int(st.st_size)
        guard size >= threshold else { return nil }
        // The first line start after the middle, within one long line's reach.
        let window = limits.maxLineBytes + 1
        let probe = UnsafeMutablePointer<UInt8>.allocate(capacity: window)
        defer { probe.deallocate() }
        let got = pread(file.descriptor, probe, window, off_t(size / 2))
        guard got > 0, let nl = memchr(probe, 0x0A, got) else { return nil }
        let split = size / 2 + UnsafeMutableRawPointer(probe).distance(to: nl) + 1
        guard split < size else { return nil }

        let kind = name.kind
        final class Half: @unchecked Sendable {
            // Written by one thread, read after the join: no sharing while both run.
            var validator: RecordValidator
            var lines = 0
            var readError: SourceError?
            init(_ v: RecordValidator) { validator = v }
        }
        let first = Half(RecordValidator(path: path, kind: kind, name: name, limits: limits, onDetailView: nil))
        let second = Half(RecordValidator.secondPart(path: path, kind: kind, name: name, limits: limits))
        let fd = file.descriptor
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            let half = k == 0 ? first : second
            var source = RangeSource(fd: fd, path: path, from: k == 0 ? 0 : split, to: k == 0 ? split : size)
            (half.lines, half.readError) = run(source: &source, validator: &half.validator, limits: limits)
            half.validator.sortAliasHashes()
        }
        guard first.readError == nil, second.readError == nil, first.validator.endsAsSecondPartAssumed,
            !second.validator.mentionsLines
        else { return nil }
        second.validator.absorb(first: first.validator, lines: first.lines)
        return second.validator.finish()
    }

    /// Streams `source` through the tokenizer into `validator`; returns the lines read and the
    /// read error that ended it, if any.
    private static func run<S: ByteSource>(
        source: inout S, validator: inout RecordValidator, limits: Limits
    ) -> (lines: Int, readError: SourceError?) {
        var tokenizer = LineTokenizer()
        defer { tokenizer.deallocate() }
        let capacity = max(limits.bufferBytes, 2 * limits.maxLineBytes + 2)
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buf.deallocate() }
        var len = 0
        var pos = 0
        var eof = false
        var lineNo = 0
        var skipping = false  // inside a line too long to keep
        var skipped = 0  // its bytes so far
        var skipLeadingLF = false  // the previous line ended with \r at the end of the buffer
        var readError: SourceError?

        func refill() {
            if pos > 0 {
                if len > pos { memmove(buf, buf + pos, len - pos) }
                len -= pos
                pos = 0
            }
            do {
                let n = try source.read(into: UnsafeMutableRawBufferPointer(start: buf + len, count: capacity - len))
                if n == 0 { eof = true } else { len += n }
            } catch {
                readError = error
                eof = true
            }
        }

        while true {
            if skipLeadingLF && pos < len {
                if buf[pos] == 0x0A { pos += 1 }
                skipLeadingLF = false
            }
            if skipping {
                let from = pos
                while pos < len, buf[pos] != 0x0A, buf[pos] != 0x0D { pos += 1 }
                skipped += pos - from
                if pos < len || eof {
                    // Reported once its length is known: the same words wherever the reads fell.
                    validator.lineTooLong(line: lineNo, bytes: skipped)
                    skipping = false
                }
                if pos < len {
                    if buf[pos] == 0x0D {
                        if pos + 1 < len { if buf[pos + 1] == 0x0A { pos += 1 } } else { skipLeadingLF = true }
                    }
                    pos += 1
                    continue
                }
                if eof { break }
                refill()
                continue
            }
            if pos == len {
                if eof { break }
                refill()
                if pos == len && eof { break }
                continue
            }
            switch tokenizer.tokenize(buf, start: pos, end: len, atEOF: eof) {
            case .line(let next, let length):
                lineNo += 1
                if length > limits.maxLineBytes {
                    validator.lineTooLong(line: lineNo, bytes: length)
                } else {
                    validator.record(line: lineNo, buf: buf, tokenizer: tokenizer, length: length)
                }
                pos = min(next, len)
            case .needMore:
                // A \r last: the line ends there, only whether a \n follows is unknown.
                let pendingCR = buf[len - 1] == 0x0D
                if (pendingCR ? len - 1 - pos : len - pos) > limits.maxLineBytes {
                    lineNo += 1
                    if pendingCR {
                        validator.lineTooLong(line: lineNo, bytes: len - 1 - pos)
                        skipLeadingLF = true
                    } else {
                        skipping = true
                        skipped = len - pos
                    }
                    pos = len
                    continue
                }
                refill()
            }
        }
        return (lineNo, readError)
    }
}

/// A byte range of a file, read with pread(2): two threads can read one descriptor.
struct RangeSource: ByteSource {
    let fd: Int32
    let path: String
    var offset: Int
    let end: Int

    init(fd: Int32, path: String, from: Int, to: Int) {
        self.fd = fd
        self.path = path
        offset = from
        end = to
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(SourceError) -> Int {
        let want = min(buffer.count, end - offset)
        guard want > 0 else { return 0 }
        while true {
            let n = pread(fd, buffer.baseAddress, want, off_t(offset))
            if n >= 0 {
                offset += n
                return n
            }
            if errno == EINTR { continue }
            throw .unreadable(path: path, reason: errnoText())
        }
    }
}
