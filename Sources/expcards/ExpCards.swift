import ArgumentParser
import Glibc
import SFTP

@main
struct ExpCards: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expcards",
        abstract: "Archive and report the Lyra platform's expiring-cards (EXP_CARDS) files.",
        discussion: """
            The payment platform (PayZen, Systempay, Sogecommerce, Lyra) publishes on the 1st of \
            each month at 04:00 UTC the aliases whose card expires soon, on its SFTP server, and \
            deletes them 21 days later. expcards downloads them safely into an archive and reports \
            the cards to renew, with the subscriptions and the money at risk.

            Report on stdout, diagnostics on stderr. See expcards(1) for the exit statuses.
            """,
        // The libssh2 loaded at run time decides which servers the binary can talk to (1.10 or 1.11).
        version: "0.1.0 (libssh2 \(LibSSH2.version))",
        subcommands: [
            Run.self, Fetch.self, List.self, Report.self, Check.self, Verify.self, Prune.self, Config.self, ITN.self,
        ]
    )

    static func main() async {
        // A write past RLIMIT_FSIZE must fail with EFBIG (exit 74), not kill the process.
        signal(SIGXFSZ, SIG_IGN)
        // A closed pipe (| head) ends the output quietly.
        signal(SIGPIPE, SIG_IGN)
        // Card data and the password are in memory: no core dump, and no ptrace by other users.
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(Int32(RLIMIT_CORE.rawValue), &noCore)
        let prSetDumpable: Int32 = 4
        _ = setDumpable(prSetDumpable, 0, 0, 0, 0)
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// glibc's `prctl(2)`, which the Glibc module does not export (it is variadic in C; every
/// argument here is a full register-sized integer, as the kernel reads them).
@_silgen_name("prctl")
private func setDumpable(_ option: Int32, _ arg2: UInt, _ arg3: UInt, _ arg4: UInt, _ arg5: UInt) -> Int32
