import Foundation
import Testing

@testable import ExpCardsCore

/// Arbitrary and mutated inputs never crash or hang the parser, and every result is either a clean
/// model (header, trailer, details) or a list of problems. `make fuzz` runs the same longer.
@Suite struct ParserPropertyTests {
    static let iterations = Int(ProcessInfoShim.environment("EXPCARDS_FUZZ_ITERATIONS") ?? "") ?? 3000

    static let seeds: [(String, String)] = [
        (Guide.company, Guide.companyName), (Guide.shop, Guide.shopName),
        (companyFile(["02;abc;\"Lee; Ann\";a@b.c;20181231;1"], lineEnd: "\r\n"), Guide.companyName),
        (shopFile([goodShopDetail, goodShopDetail]), Guide.shopName),
    ]

    func check(_ bytes: [UInt8], name: String, chunk: Int) {
        var limits = ExpCardsParser.Limits()
        limits.maxLineBytes = 512
        limits.bufferBytes = 2048
        let r = parse(bytes, name: name, chunk: chunk, limits: limits)
        if r.problems.isEmpty {
            #expect(r.file.header != nil)
            #expect(r.file.trailer != nil)
            #expect(r.file.trailer?.detailCount == r.details.count)
            #expect(r.file.validDetails == r.details.count)
        }
        #expect(r.file.validDetails <= r.file.detailRecords)
        #expect(r.problems.count <= limits.maxProblems + 1)
    }

    @Test func randomBytes() {
        var rng = SplitMix64(seed: 42)
        let alphabet = Array(";\"\r\n0123EXP_CARDST;P02".utf8) + [0, 0xE9, 0xFF]
        for _ in 0..<Self.iterations {
            let n = Int(rng.next() % 300)
            let bytes = (0..<n).map { _ in
                rng.next() % 2 == 0
                    ? alphabet[Int(rng.next() % UInt64(alphabet.count))] : UInt8(truncatingIfNeeded: rng.next())
            }
            check(
                bytes, name: rng.next() % 2 == 0 ? Guide.companyName : Guide.shopName, chunk: Int(rng.next() % 17) + 1)
        }
    }

    @Test func mutatedSeeds() {
        var rng = SplitMix64(seed: 1234)
        for i in 0..<Self.iterations {
            let (text, name) = Self.seeds[i % Self.seeds.count]
            var bytes = Array(text.utf8)
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                guard !bytes.isEmpty else { break }
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.remove(at: at)
                case 2: bytes.insert([0x3B, 0x22, 0x0D, 0x0A, 0x00][Int(rng.next() % 5)], at: at)
                default: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 20)], at: at)
                }
            }
            check(bytes, name: name, chunk: Int(rng.next() % 64) + 1)
        }
    }

    @Test func chunkingNeverChangesTheResult() {
        for (text, name) in Self.seeds {
            let whole = parse(Array(text.utf8), name: name)
            for chunk in 1...12 {
                let r = parse(Array(text.utf8), name: name, chunk: chunk)
                #expect(r.details == whole.details)
                #expect(r.problems == whole.problems)
                #expect(r.file.warnings == whole.file.warnings)
            }
        }
    }
}

enum ProcessInfoShim {
    static func environment(_ key: String) -> String? { ProcessInfo.processInfo.environment[key] }
}
