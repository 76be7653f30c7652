import Foundation
import Testing

@testable import ExpCardsCore

/// The parser's word-at-a-time checks, its distinct-alias count and its borrowed-bytes callback,
/// each against a plain byte-at-a-time (or String) reading of the same input.
@Suite struct ParserInternalsTests {
    /// Every length from 0 to 24 (so the 8-byte words and their tails), every byte value at
    /// every position: the SWAR answers equal the byte loops'.
    @Test func swarChecksAgreeWithByteLoops() {
        for length in 0...24 {
            for position in 0..<max(length, 1) {
                for value in 0...255 {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    if length > 0 { bytes[position] = UInt8(value) }
                    bytes.withUnsafeBufferPointer { b in
                        let printable = b.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }
                        #expect(SWAR.isPrintableASCII(b) == printable, "length \(length) byte \(value) at \(position)")
                        let (ascii, nul) = SWAR.asciiAndNul(b)
                        #expect(ascii == b.allSatisfy { $0 < 0x80 })
                        #expect(nul == b.contains(0))
                    }
                }
            }
        }
    }

    /// `eightDigits` takes exactly 8 ASCII digits, whatever byte spoils any position.
    @Test func eightDigitsAgreesWithByteLoop() {
        for position in 0..<8 {
            for value in 0...255 {
                var bytes = Array("20251231".utf8)
                bytes[position] = UInt8(value)
                let isDigits = bytes.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
                let got = bytes.withUnsafeBufferPointer { SWAR.eightDigits($0) }
                #expect((got != nil) == isDigits, "byte \(value) at \(position)")
                if let got {
                    let n = bytes.map { Int($0 - 0x30) }
                    #expect(got.0 == n[0] * 1000 + n[1] * 100 + n[2] * 10 + n[3])
                    #expect(got.1 == n[4] * 10 + n[5] && got.2 == n[6] * 10 + n[7])
                }
            }
        }
        for short in ["", "2025123", "202512311"] {
            #expect(Array(short.utf8).withUnsafeBufferPointer { SWAR.eightDigits($0) } == nil)
        }
    }

    /// The tokenizer's scan stops at the first delimiter even when a later byte of the same
    /// word borrows (0x00 next to 0x01, 0x3B next to 0x3C...).
    @Test func tokenizerFindsTheFirstDelimiterInAWord() {
        let lines: [[UInt8]] = [
            Array("ab;\u{1}\u{0}cdefgh\n".utf8),
            Array("\u{3C};\u{3A}\u{3B}xyz;\n".utf8),
            Array("\"a\u{23}\"\";\u{21}\"\"\";b\r\n".utf8),
            Array("12345678;12345678\r".utf8),
        ]
        for line in lines {
            var buffer = line
            let expected = referenceFields(line)
            var tokenizer = LineTokenizer()
            defer { tokenizer.deallocate() }
            let got: [[UInt8]] = buffer.withUnsafeMutableBufferPointer { b in
                guard case .line = tokenizer.tokenize(b.baseAddress!, start: 0, end: b.count, atEOF: true) else {
                    return []
                }
                return (0..<tokenizer.fieldCount).map {
                    Array(b[tokenizer.fields[$0].start..<tokenizer.fields[$0].end])
                }
            }
            #expect(got == expected, "\(line)")
        }
    }

    /// A byte-at-a-time reading of one well-formed line (quotes only around whole fields).
    private func referenceFields(_ line: [UInt8]) -> [[UInt8]] {
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        var i = 0
        var quoted = false
        while i < line.count {
            let c = line[i]
            if quoted {
                if c == 0x22, i + 1 < line.count, line[i + 1] == 0x22 {
                    field.append(0x22)
                    i += 2
                    continue
                }
                if c == 0x22 {
                    quoted = false
                    i += 1
                    continue
                }
                field.append(c)
            } else if c == 0x22 && field.isEmpty {
                quoted = true
            } else if c == 0x3B {
                fields.append(field)
                field = []
            } else if c == 0x0A || c == 0x0D {
                break
            } else {
                field.append(c)
            }
            i += 1
        }
        fields.append(field)
        return fields
    }

    @Test func distinctAliasesCountsEachOnce() {
        let counter = DistinctAliases()
        for round in 0..<3 {
            for k in 0..<5_000 {
                // Lengths 1...50 around the 8-byte words; one alias a prefix of another.
                let alias = Array((String(repeating: "x", count: k % 45) + "\(k)").utf8)
                alias.withUnsafeBufferPointer { counter.insert($0) }
            }
            #expect(counter.count == 5_000, "round \(round)")
        }
        let empty = DistinctAliases()
        #expect(empty.count == 0)
    }

    /// Joining two counters (sorted by `count` or not) counts the union once.
    @Test func distinctAliasesJoin() {
        for sortFirst in [false, true] {
            let a = DistinctAliases()
            let b = DistinctAliases()
            for k in 0..<3_000 { Array("a\(k)".utf8).withUnsafeBufferPointer { a.insert($0) } }
            for k in 2_000..<4_500 { Array("a\(k)".utf8).withUnsafeBufferPointer { b.insert($0) } }
            if sortFirst {
                #expect(a.count == 3_000 && b.count == 2_500)
            }
            b.absorb(a)
            #expect(b.count == 4_500, "sorted first: \(sortFirst)")
        }
    }

    /// The UTF-8 check agrees with Swift's own decoder: every 1- and 2-byte sequence, every
    /// 3-byte one with a chosen set of middle bytes, and random longer ones.
    @Test func utf8CheckAgreesWithSwift() {
        func agree(_ bytes: [UInt8]) -> Bool {
            let swift = String(validating: bytes, as: UTF8.self) != nil
            return bytes.withUnsafeBufferPointer { RecordValidator.isUTF8($0) } == swift
        }
        var failures: [[UInt8]] = []
        for a in 0...255 {
            if !agree([UInt8(a)]) { failures.append([UInt8(a)]) }
            for b in 0...255 where !agree([UInt8(a), UInt8(b)]) { failures.append([UInt8(a), UInt8(b)]) }
            for b: UInt8 in [0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0] {
                for c: UInt8 in [0x41, 0x80, 0xBF, 0xC0] where !agree([UInt8(a), b, c]) {
                    failures.append([UInt8(a), b, c])
                }
                for c: UInt8 in [0x80, 0xBF] where !agree([UInt8(a), b, c, 0x80]) {
                    failures.append([UInt8(a), b, c, 0x80])
                }
            }
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 1...12, using: &rng)).map { _ in
                UInt8.random(in: 0...255, using: &rng) | (Bool.random(using: &rng) ? 0x80 : 0)
            }
            if !agree(bytes) { failures.append(bytes) }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    /// With a small limit the list is deduplicated when full, and counting stops past the limit.
    @Test func distinctAliasesStaysBounded() {
        let counter = DistinctAliases(limit: 99)
        for round in 0..<10 {
            for k in 0..<60 { Array("alias-\(k)".utf8).withUnsafeBufferPointer { counter.insert($0) } }
            #expect(counter.count == 60, "round \(round): duplicates never overflow")
        }
        for k in 0..<1_000 { Array("other-\(k)".utf8).withUnsafeBufferPointer { counter.insert($0) } }
        #expect(counter.count == 100, "more than the limit is reported as limit + 1")
    }

    /// The trailer's alias count is checked against the distinct aliases.
    @Test func trailerAliasCountIsChecked() {
        let detail = goodShopDetail
        let r = parse(shopFile([detail], aliases: 2), name: Guide.shopName)
        #expect(r.places == ["3:3"])
        #expect(r.problems.first?.expected.hasPrefix("1 (the distinct aliases") == true)
    }

    /// `onDetailView` lends exactly what `onDetail` gives as Strings, Latin-1 included.
    @Test func detailViewMatchesOwnedDetails() {
        var latin1Line = Array(goodShopDetail.utf8)
        // "Dupont Durant" → "Dupônt Durant" in ISO-8859-1 (0xF4): not UTF-8.
        let at = latin1Line.firstIndex(of: UInt8(ascii: "o"))!
        latin1Line[at] = 0xF4
        var bytes = Array(shopFile([goodShopDetail, "LATIN"], aliases: 1).utf8)
        let marker = bytes.firstRange(of: Array("LATIN".utf8))!
        bytes.replaceSubrange(marker, with: latin1Line)
        for name in [Guide.shopName, Guide.companyName] {
            let input = name == Guide.shopName ? bytes : Array(Guide.company.utf8)
            let owned = parse(input, name: name)
            var viewed: [Detail] = []
            var source = MemorySource(input, chunk: 7)
            let fileName = ExpCardsFileName(name)!
            let file = ExpCardsParser.parse(source: &source, path: name, kind: fileName.kind, name: fileName) {
                (view: borrowing DetailView) in
                viewed.append(view.detail)
            }
            #expect(viewed == owned.details)
            #expect(file.problems == owned.problems)
            #expect(!viewed.isEmpty)
        }
        let owned = parse(bytes, name: Guide.shopName)
        guard case .shop(let d)? = owned.details.last else {
            Issue.record("no Latin-1 detail")
            return
        }
        #expect(d.name == "Dupônt Durant")
    }

    /// A file checked in two halves on two threads gives exactly the one-pass answer, whatever
    /// falls near the cut: problems on both sides (past the cap too), a second header, a trailer,
    /// empty lines, a lone CR, an overlong line; and the cut is really taken for clean files.
    @Test func splitCheckEqualsOnePass() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("expcards-split-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let details = (0..<400).map { k in
            goodShopDetail.replacingOccurrences(
                of: "91ca494b80d338a67ef06f3450b845cf", with: String(format: "%032x", k * 7919))
        }
        let clean = Array(shopFile(details, aliases: 400).utf8)
        let middle = clean.count / 2
        func variant(_ edit: (inout [UInt8]) -> Void) -> [UInt8] {
            var b = clean
            edit(&b)
            return b
        }
        let header = Array(#""00";"EXP_CARDS";"P";"87654321";"20180622";"162416""#.utf8) + [0x0A]
        let variants: [(String, [UInt8], Bool)] = [
            ("clean", clean, true),
            (
                "problems on both sides, past the cap",
                variant { b in
                    for k in stride(from: 300, to: b.count - 300, by: 97) where b[k] == UInt8(ascii: "0") {
                        b[k] = UInt8(ascii: "x")
                    }
                }, true
            ),
            (
                "a second header after the middle",
                variant { b in b.insert(contentsOf: header, at: b[middle...].firstIndex(of: 0x0A)! + 1) }, false
            ),
            (
                "empty lines across the cut",
                variant { b in b.insert(contentsOf: [0x0A, 0x0A, 0x0A], at: b[middle...].firstIndex(of: 0x0A)! + 1) },
                false
            ),
            ("a lone CR", variant { b in b.insert(0x0D, at: middle) }, true),
            (
                "an overlong line",
                variant { b in b.insert(contentsOf: [UInt8](repeating: 0x41, count: 70_000), at: middle) }, true
            ),
            ("empty lines after the trailer", clean + [0x0A, 0x0D, 0x0A, 0x0D], true),
            ("no header", variant { b in b.removeSubrange(0...b.firstIndex(of: 0x0A)!) }, false),
        ]
        for (label, bytes, splits) in variants {
            let path = dir.appendingPathComponent(Guide.shopName).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let onePass = parse(bytes, name: Guide.shopName).file
            let file = try FileSource(path: path)
            let split = ExpCardsParser.parseSplit(
                file, path: Guide.shopName, name: ExpCardsFileName(Guide.shopName)!, limits: .init(), threshold: 1)
            if splits {
                #expect(split != nil, "\(label): the cut is taken")
            }
            if let split {
                #expect(split.problems == onePass.problems, "\(label)")
                #expect(split.warnings == onePass.warnings, "\(label)")
                #expect(
                    split.detailRecords == onePass.detailRecords && split.validDetails == onePass.validDetails,
                    "\(label)")
                #expect(split.header == onePass.header && split.trailer == onePass.trailer, "\(label)")
            }
            // Through the public entry point (threshold 8 MB: one pass here), the same again.
            let viaPath = ExpCardsParser.parse(path: path)
            #expect(
                viaPath.problems.map(\.description)
                    == onePass.problems.map { p in
                        var q = p
                        q.file = path
                        return q.description
                    }, "\(label)")
        }
    }
}
