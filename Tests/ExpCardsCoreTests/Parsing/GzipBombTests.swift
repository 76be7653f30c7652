import Foundation
import Testing

@testable import ExpCardsCore

/// A small .csv.gz that inflates to far more than any EXP_CARDS file: a problem naming the file,
/// read no further than the documented limit (`GzipSource.InflationLimit`).
@Suite struct GzipBombTests {
    /// `megabytes` MiB of NUL bytes after the guide's header, gzip-compressed (about 1000:1).
    private func bomb(megabytes: Int, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent(Guide.companyName + ".gz").path
        let header = "00;EXP_CARDS;T;20180622;162639\n"
        let script = "{ printf '\(header)'; head -c \(megabytes << 20) /dev/zero; } | /bin/gzip -c > '\(path)'"
        #expect(try runProcess("/bin/sh", ["-c", script]).status == 0)
        return path
    }

    @Test func aBombIsAProblemNamingTheFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // 8 MiB inflated from about 8 KB, against a floor of 1 MiB (the default floor, 64 MiB,
        // would cost this debug-built test seconds of parsing NUL bytes for the same answer).
        let path = try bomb(megabytes: 8, in: dir)
        let compressed = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(compressed < 64 << 10)
        var limits = ExpCardsParser.Limits()
        limits.inflation.floor = 1 << 20
        let r = ExpCardsParser.parse(path: path, limits: limits)
        let problem = r.problems.first { $0.message.contains("inflates to at most 64 times its compressed size") }
        #expect(problem?.file == path)
        #expect(problem?.line == 0)
        #expect(problem?.description.hasPrefix(path + ": ") == true)
        #expect(r.unreadable == nil)
    }

    @Test func theDefaultsAreTheDocumentedOnes() {
        // Man/expcards.1, "expcards check": 64 times, at least 64 MiB, at most 4 GiB.
        let limit = ExpCardsParser.Limits().inflation
        #expect(limit == GzipSource<FileSource>.InflationLimit(ratio: 64, floor: 64 << 20, cap: 4 << 30))
    }

    @Test func theLimitFollowsTheCompressedSizeAboveTheFloor() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try bomb(megabytes: 4, in: dir)
        var limits = ExpCardsParser.Limits()
        limits.inflation = .init(ratio: 64, floor: 1 << 20, cap: 1 << 30)
        #expect(ExpCardsParser.parse(path: path, limits: limits).problems.contains { $0.message.contains("inflates") })
        // A ratio the bomb stays under: read to the end (and then found to be no EXP_CARDS text).
        limits.inflation = .init(ratio: 5000, floor: 1 << 20, cap: 1 << 30)
        #expect(!ExpCardsParser.parse(path: path, limits: limits).problems.contains { $0.message.contains("inflates") })
        // The cap holds whatever the ratio.
        limits.inflation = .init(ratio: 5000, floor: 1 << 20, cap: 2 << 20)
        #expect(ExpCardsParser.parse(path: path, limits: limits).problems.contains { $0.message.contains("inflates") })
    }

    @Test func theAllowanceArithmetic() {
        let limit = GzipSource<MemorySource>.InflationLimit(ratio: 64, floor: 1000, cap: 100_000)
        #expect(limit.allowed(afterCompressed: 0) == 1000)
        #expect(limit.allowed(afterCompressed: 100) == 6400)
        #expect(limit.allowed(afterCompressed: 10_000) == 100_000)
        #expect(limit.allowed(afterCompressed: Int.max) == 100_000)
    }
}
