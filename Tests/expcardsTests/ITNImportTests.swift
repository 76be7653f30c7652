import ExpCardsCore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `itn import` and `report` against the store, through the built binary.
@Suite struct ITNImportTests {
    static func notification(
        _ alias: String, token: String = "ACTIVE", aliasStatus: String = "ACTIVE", expiry: (String, String)? = nil,
        serverDate: String? = nil
    ) -> String {
        var card = #""lastFour": "0114""#
        if let (m, y) = expiry { card += #", "expiryMonth": "\#(m)", "expiryYear": "\#(y)""# }
        let date = serverDate.map { #", "serverDate": "\#($0)""# } ?? ""
        return
            #"{"paymentMethodToken": "\#(alias)", "mode": "PRODUCTION", "paymentMethodTokenStatus": "\#(aliasStatus)", "meansOfPayment": {"status": "\#(token)", "method": "VISA"}, "card": {\#(card)}, "source": "ISSUER"\#(date)}"#
    }

    @Test func goodLinesAreImportedBadOnesNamedAndTheReportReconciles() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let archive = dir + "/archive"
        let lines = [
            Self.notification("AAAA1", expiry: ("09", "2029"), serverDate: "2026-11-20T10:00:00Z"),
            "",
            #"{"paymentMethodToken": "BBBB2", "mode": "PRODUCTION"}"#,
            Self.notification("BBBB2", token: "SUSPENDED", serverDate: "2026-11-21T10:00:00Z"),
            "kr-answer=%7B%7D&kr-hash=00",
            Self.notification("GONE9", token: "DELETED", serverDate: "2026-11-22T10:00:00Z"),
            Self.notification("AAAA1", expiry: ("09", "2029"), serverDate: "2026-11-20T10:00:00Z"),
        ]
        try (lines.joined(separator: "\n") + "\n").write(
            toFile: dir + "/saved.jsonl", atomically: true, encoding: .utf8)
        let imported = try CLI.run(["itn", "import", "--archive", archive, dir + "/saved.jsonl"])
        #expect(imported.status == 65, "\(imported)")
        #expect(
            imported.stderr.contains("saved.jsonl:3: meansOfPayment.status: missing")
                || imported.stderr.contains("saved.jsonl:3: paymentMethodTokenStatus: missing"), "\(imported)")
        #expect(imported.stderr.contains("saved.jsonl:5: paymentMethodToken: missing"), "\(imported)")
        #expect(imported.stderr.contains("3 stored, 1 duplicate, 2 refused"), "\(imported)")
        var st = stat()
        stat(archive + "/itn/notifications.jsonl", &st)
        #expect(st.st_mode & 0o777 == 0o600)

        // Again: everything is a duplicate now.
        let again = try CLI.run(["itn", "import", "--archive", archive, dir + "/saved.jsonl"])
        #expect(again.stderr.contains("0 stored, 4 duplicates, 2 refused"), "\(again)")

        let file = dir + "/202612.EXP_CARDS.ENS.P.csv"
        try Samples.company(
            month: "202612", aliases: [("AAAA1", "20261231"), ("BBBB2", "20270331"), ("CCCC3", "20261231")]
        )
        .write(toFile: file, atomically: true, encoding: .utf8)
        let json = try CLI.run(["report", "--archive", archive, "--as-of", "2026-12-01", "--format", "json", file])
        #expect(json.status == 0, "\(json)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let aliases = Dictionary(
            uniqueKeysWithValues: (object["aliases"] as! [[String: Any]]).map { ($0["alias"] as! String, $0) })
        #expect(aliases["AAAA1"]?["action"] as? String == "renewed")
        #expect((aliases["AAAA1"]?["network"] as? [String: Any])?["cardExpiry"] as? String == "2029-09")
        #expect(aliases["BBBB2"]?["action"] as? String == "contact")
        #expect(aliases["CCCC3"]?["action"] as? String == "contact")
        #expect(aliases["CCCC3"]?["network"] is NSNull)
        let network = try #require(object["network"] as? [String: Any])
        #expect((network["absent"] as? [[String: Any]])?.map { $0["alias"] as? String } == ["GONE9"])

        // As of a past day: the notifications dated after it are not seen (BBBB2 was suspended
        // on the 21st, GONE9 closed on the 22nd).
        let past = try CLI.run(["report", "--archive", archive, "--as-of", "2026-11-20", "--format", "json", file])
        let pastObject = try #require(try JSONSerialization.jsonObject(with: Data(past.stdout.utf8)) as? [String: Any])
        let pastAliases = Dictionary(
            uniqueKeysWithValues: (pastObject["aliases"] as! [[String: Any]]).map { ($0["alias"] as! String, $0) })
        #expect(pastAliases["AAAA1"]?["action"] as? String == "renewed", "\(past)")
        #expect(pastAliases["BBBB2"]?["network"] is NSNull, "\(past)")
        #expect(((pastObject["network"] as? [String: Any])?["absent"] as? [Any])?.isEmpty == true)

        let text = try CLI.run(["report", "--archive", archive, "--as-of", "2026-12-01", file])
        #expect(text.stdout.contains("Renewed by the network: no action"), "\(text)")
        #expect(text.stdout.split(separator: "\n").first?.contains(", 3 to contact") == true, "\(text)")
        // CSV: the suspended alias first, then the one of no file, the renewed one last.
        let csv = try CLI.run(["report", "--archive", archive, "--as-of", "2026-12-01", "--format", "csv", file])
        let rows = csv.stdout.split(separator: "\r\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        let header = try #require(rows.first).map(String.init)
        let alias = try #require(header.firstIndex(of: "alias"))
        let action = try #require(header.firstIndex(of: "action"))
        #expect(rows.dropFirst().map { String($0[alias]) } == ["BBBB2", "GONE9", "CCCC3", "AAAA1"], "\(csv)")
        #expect(rows.dropFirst().map { String($0[action]) } == ["contact", "contact", "contact", "renewed"])
        // Mail: the subject counts the calls; the HTML has the network's section.
        let mail = try CLI.run([
            "report", "--archive", archive, "--as-of", "2026-12-01", "--format", "mail", "--mail-to",
            "care@example.com", file,
        ])
        // Read by Python's email package (a real MIME parser).
        let (_, parsedText) = try MailDeliveryTests.run(
            "/usr/bin/python3", [MailDeliveryTests.tools + "/mailcheck.py", "/dev/stdin"], input: Data(mail.stdout.utf8)
        )
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(parsedText.utf8)) as? [String: Any])
        let subject = (parsed["headers"] as? [String: String])?["Subject"] ?? ""
        #expect(subject.contains("3 to contact"), "\(subject)")
        let html = parsed["html"] as? String ?? ""
        #expect(html.contains("Renewed by the network: no action") && html.contains("GONE9"))
        // Forty days after the last reception (now, by the clock) with nothing new: the silence
        // is a warning, in the report and on stderr.
        let later = Timestamp(milliseconds: Timestamp.now().milliseconds + 40 * 86_400_000).day
        let silent = try CLI.run(["report", "--archive", archive, "--as-of", later.description, file])
        #expect(silent.stdout.contains("no network notification received for"), "\(silent)")
        #expect(silent.stderr.contains("check that 'expcards itn serve' is up"), "\(silent)")
        #expect(!text.stdout.contains("no network notification received"))
        let ignored = try CLI.run([
            "report", "--archive", archive, "--as-of", "2026-12-01", "--no-itn", "--format", "json", file,
        ])
        let plain = try JSONSerialization.jsonObject(with: Data(ignored.stdout.utf8)) as! [String: Any]
        #expect(plain["network"] is NSNull)

        // verify reads the store; a changed line is a difference.
        #expect(
            try CLI.run(["verify", "--archive", archive]).stdout.contains(
                "OK      \(archive)/itn/notifications.jsonl: 3 notifications"))
        let store = archive + "/itn/notifications.jsonl"
        let edited = try String(contentsOfFile: store, encoding: .utf8).replacingOccurrences(
            of: "SUSPENDED", with: "ACTIVE")
        try edited.write(toFile: store, atomically: false, encoding: .utf8)
        let verify = try CLI.run(["verify", "--archive", archive])
        #expect(verify.status == 65 && verify.stdout.contains("CHANGED"), "\(verify)")
    }

    /// `--shop`: the counts are those of the aliases the report shows, and the aliases of no file
    /// are left out (a notification names no shop), said in the text and `absent: null` in JSON.
    @Test func aReportRestrictedToAShopCountsOnlyItsAliases() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let archive = dir + "/archive"
        let lines = [
            Self.notification("AAAA1", expiry: ("09", "2030"), serverDate: "2026-11-20T10:00:00Z"),
            Self.notification("BBBB2", expiry: ("09", "2030"), serverDate: "2026-11-20T10:00:00Z"),
            Self.notification("GONE9", token: "DELETED", serverDate: "2026-11-20T10:00:00Z"),
        ]
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/in", atomically: true, encoding: .utf8)
        #expect(try CLI.run(["itn", "import", "--archive", archive, dir + "/in"]).status == 0)
        let company = dir + "/202612.EXP_CARDS.ENS.P.csv"
        try Samples.company(month: "202612", aliases: [("AAAA1", "20261231"), ("BBBB2", "20261231")])
            .write(toFile: company, atomically: true, encoding: .utf8)
        let shop = dir + "/202612.87654321.EXP_CARDS.PDV.P.csv"
        try Samples.shop(month: "202612", shop: "87654321", aliases: [("AAAA1", "20261231")])
            .write(toFile: shop, atomically: true, encoding: .utf8)
        let base = ["report", "--archive", archive, "--as-of", "2026-12-01", "--shop", "87654321", company, shop]
        let json = try CLI.run(base + ["--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["aliases"] as? [[String: Any]])?.map { $0["alias"] as? String } == ["AAAA1"])
        let network = try #require(object["network"] as? [String: Any])
        #expect(network["absent"] is NSNull, "\(network)")
        let actions = try #require(network["actions"] as? [String: [String: Int]])
        #expect(actions.values.map { $0.values.reduce(0, +) }.reduce(0, +) == 1, "\(actions)")
        #expect(actions["expiring"]?["renewed"] == 1)
        let text = try CLI.run(base)
        #expect(text.stdout.contains("1 renewed by the network"), "\(text)")
        #expect(
            text.stdout.contains("not listed in a report\n  restricted to shops")
                || text.stdout.contains(
                    "not listed in a report restricted to shops"),
            "\(text)")
        #expect(
            !text.stdout.contains("GONE9") && text.stdout.split(separator: "\n").first?.contains("0 to contact") == true
        )
        // The company's report lists it.
        let whole = try CLI.run(["report", "--archive", archive, "--as-of", "2026-12-01", company, shop])
        #expect(whole.stdout.contains("GONE9") && whole.stdout.contains("2 renewed by the network"), "\(whole)")
    }

    /// A file that cannot be read is named and the others are still imported: 66, or 65 when a
    /// line was refused too (the man page's order); a line over 64 KiB is refused, not buffered
    /// without end.
    @Test func anUnreadableFileIsNamedAndTheOthersImported() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (Self.notification("GOOD1") + "\n").write(toFile: dir + "/good", atomically: true, encoding: .utf8)
        let long = "{\"a\": \"" + String(repeating: "x", count: 3_000_000) + "\"}"  // over several reads
        try ("{oops\n" + long + "\n" + Self.notification("GOOD2") + "\n").write(
            toFile: dir + "/bad", atomically: true, encoding: .utf8)
        let missing = try CLI.run(["itn", "import", "--archive", dir + "/a", dir + "/nothing", dir + "/good"])
        #expect(missing.status == 66 && missing.stderr.contains("nothing: cannot be read"), "\(missing)")
        #expect(missing.stderr.contains("1 stored"), "\(missing)")
        let both = try CLI.run(["itn", "import", "--archive", dir + "/a", dir + "/nothing", dir + "/bad"])
        #expect(both.status == 65, "\(both)")
        #expect(both.stderr.contains("bad:1: not valid JSON"), "\(both)")
        #expect(both.stderr.contains("bad:2: the line is over 65536 bytes"), "\(both)")
        #expect(both.stderr.contains("1 stored, 0 duplicates, 2 refused"), "\(both)")
    }

    @Test func aKeyFileMakesUnsignedAndMismatchingLinesRefused() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = "shop-key-123"
        try (key + "\n").write(toFile: dir + "/key", atomically: true, encoding: .utf8)
        chmod(dir + "/key", 0o644)
        let json = Self.notification("AAAA1")
        try (json + "\n").write(toFile: dir + "/in", atomically: true, encoding: .utf8)
        let loose = try CLI.run([
            "itn", "import", "--archive", dir + "/a", "--hmac-key-file", dir + "/key", dir + "/in",
        ])
        #expect(loose.status == 78 && loose.stderr.contains("chmod 600"), "\(loose)")
        chmod(dir + "/key", 0o600)
        let unsigned = try CLI.run([
            "itn", "import", "--archive", dir + "/a", "--hmac-key-file", dir + "/key", dir + "/in",
        ])
        #expect(unsigned.status == 65 && unsigned.stderr.contains("kr-hash: missing"), "\(unsigned)")
        #expect(!unsigned.stderr.contains(key))
        let good = try hmac(json, key: key)
        let forms = [
            "kr-answer=" + json.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! + "&kr-hash=" + good
                + "&kr-hash-algorithm=sha256_hmac&kr-answer-type=V4",
            "kr-answer=" + json.replacingOccurrences(of: "0114", with: "0115").addingPercentEncoding(
                withAllowedCharacters: .alphanumerics)!
                + "&kr-hash=" + good + "&kr-hash-algorithm=sha256_hmac",
        ]
        try (forms.joined(separator: "\n") + "\n").write(toFile: dir + "/in", atomically: true, encoding: .utf8)
        let signed = try CLI.run([
            "itn", "import", "--archive", dir + "/a", "--hmac-key-file", dir + "/key", dir + "/in",
        ])
        #expect(signed.status == 65, "\(signed)")
        #expect(signed.stderr.contains("in:2: kr-hash: does not match"), "\(signed)")
        #expect(signed.stderr.contains("1 stored, 0 duplicates, 1 refused"), "\(signed)")
        #expect(!signed.stderr.contains(key))
        // A space or a CRLF left after a paste is not part of the key: the same line matches.
        try (key + " \t\r\n").write(toFile: dir + "/key", atomically: true, encoding: .utf8)
        chmod(dir + "/key", 0o600)
        try (forms[0] + "\n").write(toFile: dir + "/in", atomically: true, encoding: .utf8)
        let pasted = try CLI.run([
            "itn", "import", "--archive", dir + "/a", "--hmac-key-file", dir + "/key", dir + "/in",
        ])
        #expect(pasted.status == 0 && pasted.stderr.contains("0 stored, 1 duplicate"), "\(pasted)")
        // A file of kilobytes is no key.
        try String(repeating: "k", count: 5000).write(toFile: dir + "/key", atomically: true, encoding: .utf8)
        chmod(dir + "/key", 0o600)
        let huge = try CLI.run([
            "itn", "import", "--archive", dir + "/a", "--hmac-key-file", dir + "/key", dir + "/in",
        ])
        #expect(huge.status == 78 && huge.stderr.contains("over 4 KiB"), "\(huge)")
    }

    /// HMAC-SHA-256 in hex, by openssl (an implementation other than the one under test).
    func hmac(_ text: String, key: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["dgst", "-sha256", "-hmac", key, "-hex"]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).split(separator: " ").last!).trimmingCharacters(
            in: .whitespacesAndNewlines)
    }
}
