import Foundation
import Testing

@Suite struct CheckCommandTests {
    @Test func guideExamples() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Samples.shop.write(toFile: dir + "/" + Samples.shopName, atomically: true, encoding: .utf8)
        try Samples.company.write(toFile: dir + "/" + Samples.companyName, atomically: true, encoding: .utf8)
        let clean = try CLI.run(["check", dir + "/" + Samples.shopName])
        #expect(clean.status == 0, "\(clean)")
        #expect(
            clean.stdout.hasPrefix("OK \(dir)/\(Samples.shopName) (shop, production, 2018-06, shop 87654321, 1 detail)")
        )
        let both = try CLI.run(["check", dir + "/" + Samples.companyName, dir + "/" + Samples.shopName])
        #expect(both.status == 65, "\(both)")
        #expect(both.stdout.contains("FAIL \(dir)/\(Samples.companyName)"))
        #expect(both.stdout.contains("\(Samples.companyName):4:2: detail count: expected 2"))
    }

    @Test func jsonContract() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Samples.company.write(toFile: dir + "/" + Samples.companyName, atomically: true, encoding: .utf8)
        try "x".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["check", "--format", "json", dir + "/" + Samples.companyName, dir + "/notes.txt"])
        #expect(r.status == 65)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(json.count == 2)
        #expect(json[0]["kind"] as? String == "company")
        #expect(json[0]["environment"] as? String == "test")
        #expect(json[0]["month"] as? String == "2018-06")
        #expect(json[0]["shopId"] is NSNull)
        #expect(json[0]["details"] as? Int == 2)
        let problems = try #require(json[0]["problems"] as? [[String: Any]])
        #expect(problems.count == 1)
        #expect(problems[0]["line"] as? Int == 4)
        #expect(problems[0]["field"] as? Int == 2)
        #expect((problems[0]["message"] as? String)?.contains("expected 2") == true)
        #expect(json[1]["kind"] is NSNull)
        #expect(json[1]["environment"] is NSNull)
        #expect(json[1]["month"] is NSNull)
    }

    @Test func unreadablePathIs66AndUsageIs64() throws {
        let missing = try CLI.run(["check", "/nonexistent/201806.EXP_CARDS.X.T.csv"])
        #expect(missing.status == 66, "\(missing)")
        #expect(missing.stdout.contains("No such file"))
        let usage = try CLI.run(["check"])
        #expect(usage.status == 64)
        let badFlag = try CLI.run(["check", "--format", "xml", "x"])
        #expect(badFlag.status == 64)
    }
}
