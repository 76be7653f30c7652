import Foundation
import Testing

@testable import ExpCardsCore

@Suite struct JSONWriterTests {
    func written(_ body: (inout JSONWriter) -> Void) -> String {
        var out: [UInt8] = []
        var w = JSONWriter(flushAt: 7) { out += $0 }  // a tiny flush size exercises the flushing
        body(&w)
        w.finish()
        return String(decoding: out, as: UTF8.self)
    }

    @Test func stringsAreEscapedOnlyWhereNeeded() throws {
        let cases: [(String, String)] = [
            ("plain", #""plain""#),
            ("Zoé Ñúñez", #""Zoé Ñúñez""#),
            ("a\"b\\c", #""a\"b\\c""#),
            ("line\nbreak\ttab\u{1}", #""line\nbreak\ttab\u0001""#),
            ("c1\u{85}del\u{7F}", #""c1\u0085del\u007f""#),
            ("bidi\u{202E}evil\u{2066}x\u{200F}", #""bidi\u202eevil\u2066x\u200f""#),
            ("arabic mark\u{061C}", #""arabic mark\u061c""#),
            ("euro €, dash —", #""euro €, dash —""#),  // E2 82 AC, E2 80 94: plain
        ]
        for (input, expected) in cases {
            #expect(written { $0.string(input) } == expected, "\(input.debugDescription)")
            // Whatever is written is valid JSON that decodes to the input.
            let decoded = try JSONSerialization.jsonObject(with: Data(("[" + expected + "]").utf8)) as? [String]
            #expect(decoded == [input])
        }
    }

    @Test func numbersDaysAndNulls() {
        #expect(written { $0.int(0) } == "0")
        #expect(written { $0.int(-1234) } == "-1234")
        #expect(written { $0.int(Int64.max) } == "9223372036854775807")
        #expect(written { $0.int(Int64.min) } == "-9223372036854775808")
        #expect(written { $0.int(Int?.none) } == "null")
        #expect(written { $0.day(Day(year: 2024, month: 2, day: 9)) } == #""2024-02-09""#)
        #expect(written { $0.day(nil) } == "null")
        #expect(written { $0.amounts(["USD": 5, "EUR": -2]) } == #"{"EUR": -2, "USD": 5}"#)
    }
}
