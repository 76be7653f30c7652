import Foundation
import Testing

@testable import ExpCardsCore

@Suite struct ArchiveDownloadTests {
    /// A new download clears the partial data of its own file's other versions, and only those:
    /// `X.csv.gz`'s partial file may be another connection's download in progress.
    @Test func aDownloadClearsItsOwnStalePartialFilesOnly() throws {
        let dir = try temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let name = "202610.EXP_CARDS.ACME.P.csv"
        let others = [".\(name).gz.300-1700000000.part", ".\(name)x.5-6.part", ".202610.EXP_CARDS.ACME.P.cs.1-2.part"]
        let stale = ".\(name).100-1600000000.part"
        for file in others + [stale] {
            #expect(FileManager.default.createFile(atPath: dir + "/" + file, contents: Data("x".utf8)))
        }
        let download = try ArchiveDownload(
            in: try archiveDirectory(dir), name: name, remoteSize: 200, remoteMtime: 1_700_000_000)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        #expect(left == Set(others + [download.partName]), "\(left)")
        #expect(
            download.partName.hasPrefix(".\(name).200-1700000000-") && download.partName.hasSuffix(".part"),
            "\(download.partName)")
        #expect(ArchiveDownload.isPartial(download.partName, version: ".\(name).200-1700000000"))
    }

    @Test(arguments: [
        (".X.csv.1-2.part", true), (".X.csv.1--2.part", true), (".X.csv.gz.1-2.part", false), (".X.csv..part", false),
        (".X.csv.part", false), ("X.csv.1-2.part", false), (".X.csv.1-2.part.tmp", false),
    ])
    func partialFileNames(entry: String, isPartial: Bool) {
        #expect(ArchiveDownload.isPartial(entry, of: "X.csv") == isPartial)
    }
}
