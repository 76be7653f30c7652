import Foundation
import Testing

extension HostileServerTests {
    /// libssh2 1.11 takes SFTP packets far over 1.10's 256 KiB: the 10,000 entries that come in
    /// ONE SSH_FXP_NAME reply (about 1.5 MB) are listed whole.
    @Test(
        .enabled(if: hasParamiko, "/usr/bin/python3 has no paramiko (apt-get install python3-paramiko)"),
        .enabled(
            if: LinkedLibSSH2.isAtLeast(1, 11),
            "needs libssh2 1.11 (make test LIBSSH2=1.11): 1.10 refuses this reply, aListingInOneHugeReplyFailsLoudlyNotTruncated tests that"
        ),
        .timeLimit(.minutes(2)))
    func aListingInOneHugeReplyIsListedWholeUnderLibSSH2_1_11() throws {
        let f = try HostileFixture(scenario: "huge-batch")
        let r = try f.expcards(["list", "--format", "json"], timeout: 60)
        #expect(r.status == 0, "\(r.status)\n\(r.stderr.prefix(2000))")
        let rows = try #require(
            try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]], "\(r.stderr.prefix(2000))")
        let names = Set(rows.compactMap { ($0["path"] as? String)?.split(separator: "/").last.map(String.init) })
        #expect(rows.count == 10_000 && names.count == 10_000, "listed \(rows.count) of 10000")
        #expect(names.contains("202612.EXP_CARDS.C00000.P.csv") && names.contains("202612.EXP_CARDS.C09999.P.csv"))
    }
}
