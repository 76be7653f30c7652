import Testing

@testable import ExpCardsCore

/// A source that produces a prefix, then `count` copies of a pattern, then a suffix, without
/// ever holding more than one read's worth: hostile sizes without hostile test memory.
struct GeneratedSource: ByteSource {
    let prefix: [UInt8]
    let pattern: [UInt8]
    let count: Int
    let suffix: [UInt8]
    private var position = 0
    private var total: Int { prefix.count + pattern.count * count + suffix.count }

    init(prefix: String, pattern: String, count: Int, suffix: String) {
        self.prefix = Array(prefix.utf8)
        self.pattern = Array(pattern.utf8)
        self.count = count
        self.suffix = Array(suffix.utf8)
    }

    /// The pattern repeated to about 64 KiB, copied in bulk (a byte loop is slow in debug builds).
    private lazy var block: [UInt8] =
        pattern.isEmpty ? [] : Array(repeating: pattern, count: max(1, 65536 / pattern.count)).flatMap { $0 }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(SourceError) -> Int {
        var n = 0
        let middleEnd = prefix.count + pattern.count * count
        while n < buffer.count && position < total {
            let p = position
            let chunk: ArraySlice<UInt8>
            if p < prefix.count {
                chunk = prefix[p...]
            } else if p < middleEnd {
                let offset = (p - prefix.count) % pattern.count
                let block = self.block
                chunk = block[offset..<min(block.count, offset + middleEnd - p)]
            } else {
                chunk = suffix[(p - middleEnd)...]
            }
            let take = min(chunk.count, buffer.count - n)
            chunk.prefix(take).withUnsafeBytes {
                buffer.baseAddress!.advanced(by: n).copyMemory(from: $0.baseAddress!, byteCount: take)
            }
            n += take
            position += take
        }
        return n
    }
}

@Suite struct HostileFileTests {
    let header = "00;EXP_CARDS;T;20180622;162639\n"
    let detail = "02;abc;Ann Lee;ann@example.com;20181231;1\n"

    func parse(_ source: inout GeneratedSource) -> ParsedFile {
        ExpCardsParser.parse(
            source: &source, path: Guide.companyName, kind: .company, name: ExpCardsFileName(Guide.companyName))
    }

    @Test func aHundredMegabyteLineIsOneProblemAndTheRestIsRead() {
        var source = GeneratedSource(
            prefix: header + "02;abc;", pattern: "x", count: 100_000_000,
            suffix: ";a@b.c;20181231;1\n" + detail + "01;2;20180622;162639\n")
        let r = parse(&source)
        // The long line is no readable record, so the trailer's count of 2 disagrees too.
        #expect(r.problems.map { "\($0.line):\($0.field)" } == ["2:0", "4:2"], "\(r.problems)")
        #expect(r.problems[0].message.contains("at most 65536 bytes"))
        #expect(r.trailer?.detailCount == 2)
        #expect(r.validDetails == 1)
    }

    /// A line too long to keep whose lone CR (or the CR of its CRLF) is the buffer's last byte:
    /// the line ends there, and the next line is read, not skipped with it.
    @Test(arguments: ["\r", "\r\n"])
    func anOverlongLineEndingAtTheBuffersLastByteKeepsTheNextLine(lineEnd: String) {
        var limits = ExpCardsParser.Limits()
        limits.maxLineBytes = 100
        limits.bufferBytes = 256
        // The first read fills the 256-byte buffer: the long line's CR is its last byte.
        let long = "02;" + String(repeating: "x", count: 256 - header.utf8.count - 4) + lineEnd
        let bytes = Array((header + long + detail + "01;2;20180622;162639\n").utf8)
        #expect(bytes[255] == 0x0D)
        let r = ExpCardsCoreTests.parse(bytes, name: Guide.companyName, limits: limits).file
        #expect(r.problems.map { "\($0.line):\($0.field)" } == ["2:0", "4:2"], "\(r.problems)")
        #expect(r.problems.first?.message.contains("224 bytes") == true, "\(r.problems)")
        #expect(r.validDetails == 1)
        #expect(r.trailer?.detailCount == 2)
    }

    @Test func millionsOfEmptyLinesAreOneWarning() {
        var source = GeneratedSource(
            prefix: header + detail, pattern: "\r\n", count: 3_000_000, suffix: "01;1;20180622;162639\n")
        let r = parse(&source)
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.warnings == ["lines 3–3000002 are empty (3000000 lines)"])
    }

    @Test func nulBytesAreAProblemNamingTheField() {
        var source = GeneratedSource(
            prefix: header + "02;abc;Ann\u{0}Lee;a@b.c;20181231;1\n", pattern: "", count: 0,
            suffix: "01;1;20180622;162639\n")
        let r = parse(&source)
        #expect(r.problems.map { "\($0.line):\($0.field)" } == ["2:3"])
        #expect(r.problems[0].message.contains("NUL"))
    }

    @Test func aTrailerCountOf999999IsAProblem() {
        var source = GeneratedSource(prefix: header, pattern: detail, count: 3, suffix: "01;999999;20180622;162639\n")
        let r = parse(&source)
        #expect(r.problems.map { "\($0.line):\($0.field)" } == ["5:2"])
        #expect(r.problems[0].message.contains("expected 3"))
        #expect(r.problems[0].found?.hasPrefix("999999") == true)
    }

    @Test func invalidUTF8EverywhereIsLatin1AndFailsOnlyOnMalformedFields() {
        // Latin-1 bytes in the name and e-mail of every detail, and one detail with a bad date.
        let latin1Detail: [UInt8] =
            Array("02;abc;Ren".utf8) + [0xE9] + Array(";r".utf8) + [0xE9] + Array("@b.c;20181231;1\n".utf8)
        var bytes = Array(header.utf8)
        for _ in 0..<1000 { bytes += latin1Detail }
        bytes += Array("02;abd;Ren".utf8) + [0xE9] + Array(";x@b.c;20181331;1\n".utf8)
        bytes += Array("01;1001;20180622;162639\n".utf8)
        var source = MemorySource(bytes, chunk: 4096)
        var names: Set<String> = []
        let r = ExpCardsParser.parse(
            source: &source, path: Guide.companyName, kind: .company, name: ExpCardsFileName(Guide.companyName)
        ) {
            if case .company(let d) = $0 { names.insert(d.name) }
        }
        #expect(r.problems.map { "\($0.line):\($0.field)" } == ["1002:5"])
        #expect(names == ["René"])
        #expect(r.warnings.count == 1)
        #expect(r.warnings[0].contains("ISO-8859-1"))
    }
}
