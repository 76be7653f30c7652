import Foundation
import Testing

@testable import ExpCardsCore

/// The guide's two examples, as printed (the shop one without the page-layout line breaks).
enum Guide {
    static let companyName = "201806.EXP_CARDS.MA-ENS.T.csv"
    static let company = guideFixture(companyName)
    static let shopName = "201806.87654321.EXP_CARDS.PDV.P.csv"
    static let shop = guideFixture(shopName)
}

struct Parsed {
    var file: ParsedFile
    var details: [Detail]
    var problems: [Problem] { file.problems }
    var companyDetails: [CompanyDetail] {
        details.compactMap { if case .company(let d) = $0 { d } else { nil } }
    }
    var shopDetails: [ShopDetail] {
        details.compactMap { if case .shop(let d) = $0 { d } else { nil } }
    }
    /// "line:field" of each problem, for compact assertions.
    var places: [String] { problems.map { "\($0.line):\($0.field)" } }
}

/// Parses bytes in memory, as the named file (its name gives the kind and what the header must say).
func parse(
    _ bytes: [UInt8], name: String = Guide.companyName, chunk: Int = .max,
    limits: ExpCardsParser.Limits = .init()
) -> Parsed {
    let fileName = ExpCardsFileName(name)!
    var source = MemorySource(bytes, chunk: chunk)
    var details: [Detail] = []
    let file = ExpCardsParser.parse(
        source: &source, path: name, kind: fileName.kind, name: fileName, limits: limits
    ) { details.append($0) }
    return Parsed(file: file, details: details)
}

func parse(_ text: String, name: String = Guide.companyName, chunk: Int = .max) -> Parsed {
    parse(Array(text.utf8), name: name, chunk: chunk)
}

/// A company file around the given detail lines, with a matching trailer.
func companyFile(_ details: [String], lineEnd: String = "\n") -> String {
    (["00;EXP_CARDS;T;20180622;162639"] + details + ["01;\(details.count);20180622;162639"])
        .joined(separator: lineEnd) + lineEnd
}

/// A shop file (quoted, example order) around the given detail lines.
func shopFile(_ details: [String], aliases: Int? = nil) -> String {
    let header = #""00";"EXP_CARDS";"P";"87654321";"20180622";"162416""#
    let trailer = #""01";"\#(details.count)";"\#(aliases ?? details.count)";"20180622";"162416""#
    return ([header] + details + [trailer]).joined(separator: "\n") + "\n"
}

let goodShopDetail =
    #""02";"91ca494b80d338a67ef06f3450b845cf";"Dupont Durant";"Durant@e-mail.com";"20180630";"REC_1";"0/12";"RRULE:FREQ=MONTHLY;COUNT=12;BYMONTHDAY=15";"20180501";"2000";"";"0""#

/// A scratch directory removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("expcards-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs a program and waits; returns its exit status.
@discardableResult
func runProcess(_ path: String, _ args: [String], stdin: Data? = nil) throws -> (status: Int32, stdout: Data) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    let input = Pipe()
    if stdin != nil { p.standardInput = input }
    try p.run()
    if let stdin {
        input.fileHandleForWriting.write(stdin)
        try input.fileHandleForWriting.close()
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, data)
}

/// A file of `Tests/Fixtures/guide/`, shared with the other test target; empty when missing, so
/// every test using it fails rather than passing on nothing.
func guideFixture(_ name: String) -> String {
    let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    return (try? String(contentsOf: tests.appendingPathComponent("Fixtures/guide/" + name), encoding: .utf8)) ?? ""
}

/// `path` opened as an archive directory (created if missing).
func archiveDirectory(_ path: String) throws -> ArchiveDirectory {
    try #require(try ArchiveDirectory.openRoot(path, create: true))
}

extension ReportBuilder {
    /// Adds an in-memory file (named `name`, also its path) the way `ReportBuilder.build` adds a
    /// file on disk: parsed with the details lent to the builder as bytes.
    mutating func add(_ bytes: [UInt8], name: String) {
        let fileName = ExpCardsFileName(name)!
        add(path: name, shopId: fileName.shopId) { onDetailView in
            var source = MemorySource(bytes)
            return ExpCardsParser.parse(
                source: &source, path: name, kind: fileName.kind, name: fileName, onDetailView: onDetailView)
        }
    }
}
