import Foundation
import Testing

@Suite struct ReportCommandTests {
    @Test func exitCodesOfReport() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shop = dir + "/" + Samples.shopName
        let company = dir + "/" + Samples.companyName
        try Samples.shop.write(toFile: shop, atomically: true, encoding: .utf8)
        try Samples.company.write(toFile: company, atomically: true, encoding: .utf8)
        let clean = try CLI.run(["report", "--as-of", "2018-07-01", shop])
        #expect(clean.status == 0, "\(clean)")
        #expect(clean.stdout.hasPrefix("OK · 1 expired"), "\(clean)")
        // The damaged company file (test environment) is reported when test is asked for.
        let damaged = try CLI.run(["report", "--as-of", "2018-07-01", "--mode", "test", company])
        #expect(damaged.status == 65, "\(damaged)")
        #expect(damaged.stdout.hasPrefix("PROBLEMS"), "\(damaged)")
        let nothing = try CLI.run(["report", "--archive", dir + "/empty-archive"])
        #expect(nothing.status == 66, "\(nothing)")
        #expect(nothing.stderr.contains("no EXP_CARDS file to report on"), "\(nothing)")
        let usage = try CLI.run(["report", "--threshold", "25", shop])
        #expect(usage.status == 64, "\(usage)")
    }

    @Test func aFutureMonthsFileDoesNotHideTheReport() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shop = dir + "/" + Samples.shopName
        let future = dir + "/209912.87654321.EXP_CARDS.PDV.P.csv"
        try Samples.shop.write(toFile: shop, atomically: true, encoding: .utf8)
        try Samples.shop.write(toFile: future, atomically: true, encoding: .utf8)
        let r = try CLI.run(["report", "--as-of", "2018-07-01", shop, future])
        #expect(r.status == 0, "\(r)")
        #expect(r.stdout.hasPrefix("OK · 1 expired"), "\(r)")
        #expect(
            r.stderr.contains("209912.87654321.EXP_CARDS.PDV.P.csv: month 2099-12 is later than next month"), "\(r)")
        // Alone, it is no report at all (never an empty report that exits 0).
        let alone = try CLI.run(["report", "--as-of", "2018-07-01", future])
        #expect(alone.status == 66, "\(alone)")
        // Named, it is read.
        let named = try CLI.run(["report", "--as-of", "2018-07-01", "--month", "2099-12", future])
        #expect(named.status != 66, "\(named)")
    }

    @Test func noColourWhenNotATerminalAndJSONIsAnObject() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shop = dir + "/" + Samples.shopName
        try Samples.shop.write(toFile: shop, atomically: true, encoding: .utf8)
        let text = try CLI.run(["report", "--as-of", "2018-07-01", shop])
        #expect(!text.stdout.contains("\u{1B}["))
        let forced = try CLI.run(["report", "--as-of", "2018-07-01", "--color", "always", shop])
        #expect(forced.stdout.contains("\u{1B}["))
        let json = try CLI.run(["report", "--as-of", "2018-07-01", "--format", "json", shop])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["version"] as? Int == 1)
        #expect(object["asOf"] as? String == "2018-07-01")
        #expect(object["month"] as? String == "2018-06")
        #expect(
            (object["subscriptions"] as? [[String: Any]])?.first?["firstChargeAfterExpiry"] as? String == "2018-07-15")
    }

    @Test func formatMailTakesItsSettingsFromFlagsEnvironmentAndFile() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let shop = dir + "/" + Samples.shopName
        try Samples.shop.write(toFile: shop, atomically: true, encoding: .utf8)
        let none = try CLI.run(["report", "--as-of", "2018-07-01", "--format", "mail", shop])
        #expect(none.status == 64, "\(none)")
        #expect(none.stderr.contains("--mail-to"), "\(none)")
        #expect(none.stdout.isEmpty)
        let bad = try CLI.run(["report", "--format", "mail", "--mail-to", "not an address", shop])
        #expect(bad.status == 64, "\(bad)")
        let flags = try CLI.run([
            "report", "--as-of", "2018-07-01", "--format", "mail", "--mail-to", "ops@example.com", "--mail-to",
            "b@example.com",
            "--mail-from", "Cards <cards@example.com>", "--subject", "Monthly", shop,
        ])
        #expect(flags.status == 0, "\(flags)")
        #expect(flags.stdout.contains("\nTo: ops@example.com,\n b@example.com\n"), "\(flags)")
        #expect(flags.stdout.hasPrefix("From: \"Cards\" <cards@example.com>\n"))
        #expect(flags.stdout.contains("\nSubject: Monthly\n"))
        let env = try CLI.run(
            ["report", "--as-of", "2018-07-01", "--format", "mail", shop],
            environment: [
                "EXPCARDS_MAIL_TO": "env@example.com", "EXPCARDS_MAIL_FROM": "from@example.com",
                "EXPCARDS_SUBJECT": "From env",
            ])
        #expect(env.status == 0, "\(env)")
        #expect(env.stdout.hasPrefix("From: from@example.com\nTo: env@example.com\nSubject: From env\n"), "\(env)")
        let config = dir + "/config.yaml"
        try "mailTo:\n  - file@example.com\n  - other@example.com\nmailFrom: cfg@example.com\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let file = try CLI.run(["report", "--config", config, "--as-of", "2018-07-01", "--format", "mail", shop])
        #expect(file.status == 0, "\(file)")
        #expect(file.stdout.hasPrefix("From: cfg@example.com\nTo: file@example.com,\n other@example.com\n"), "\(file)")
        #expect(file.stdout.contains("\nSubject: =?utf-8?b?"), "the default subject, with its ·")
        let shown = try CLI.run(["config", "--config", config])
        #expect(shown.stdout.contains("file@example.com,other@example.com"), "\(shown)")
    }

    @Test func configurationErrorsExit78() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/config.yaml"
        try "threshold: 99\n".write(toFile: config, atomically: true, encoding: .utf8)
        let r = try CLI.run(["report", "--config", config, "--archive", dir])
        #expect(r.status == 78, "\(r)")
        #expect(r.stderr.contains("threshold"), "\(r)")
        // A password in a configuration file others can read is refused.
        try "password: hunter2\n".write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o644)
        let leaky = try CLI.run(["config", "--config", config])
        #expect(leaky.status == 78, "\(leaky)")
        #expect(!leaky.stderr.contains("hunter2"))
        chmod(config, 0o600)
        let ok = try CLI.run(["config", "--config", config, "--user", "acme"])
        #expect(ok.status == 0, "\(ok)")
        #expect(ok.stdout.contains("(set, redacted)"))
        #expect(!ok.stdout.contains("hunter2"))
        #expect(ok.stdout.contains("acme  (flag --user)"))
        let missing = try CLI.run(["report", "--config", dir + "/nope.yaml"])
        #expect(missing.status == 78, "\(missing)")
    }
}

/// `--mask` holds in problem excerpts too: a quote opened in the alias field and never closed
/// quotes the rest of the line, names and e-mails included.
@Suite struct MaskedProblemTests {
    @Test(arguments: ["text", "json", "csv"])
    func aProblemExcerptCarriesNoBuyerDataUnderMask(format: String) throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/202611.EXP_CARDS.ACME.P.csv"
        try """
        00;EXP_CARDS;P;20261101;040000
        02;"abc123;Dupont Durant;durant@e-mail.com;20261231;0
        02;def456;Axel Kant;kant@e-mail.com;2026123;0
        02;ghi789;Zoé Martin;zoe@example.fr;20261231;0
        01;3;20261101;040000

        """.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["report", "--as-of", "2026-11-01", "--mask", "--format", format, path])
        #expect(r.status == 65, "\(r)")
        for secret in ["Dupont", "Durant", "durant@", "Kant", "kant@", "Zoé", "zoe@"] {
            #expect(!r.stdout.contains(secret) && !r.stderr.contains(secret), "\(secret) leaked in \(format):\n\(r)")
        }
        if format != "csv" {
            // What is harmless stays, so the problem can still be found.
            #expect(r.stdout.contains("2026123"), "\(r)")
            #expect(r.stdout.contains("40 bytes, not"), "\(r)")
        }
    }
}
