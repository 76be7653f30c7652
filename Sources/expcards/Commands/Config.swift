import ArgumentParser
import ExpCardsCore
import Foundation

struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective configuration and where each value came from (secrets redacted).",
        discussion: """
            Precedence, lowest first: defaults, the configuration file (--config, else \
            $EXPCARDS_CONFIG, else $XDG_CONFIG_HOME/expcards/config.yaml, else \
            /etc/expcards/config.yaml; .yml is accepted too), EXPCARDS_* environment variables, \
            flags. $XDG_CONFIG_HOME defaults to ~/.config.

            Exit status: 0; 78 configuration error.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        do {
            let s = try await Settings.load(
                archive: archive.archive, config: archive.config, connection: connection,
                environment: ProcessInfo.processInfo.environment)
            var rows: [(String, String, String)] = [
                ("config file", s.configFile ?? "(none)", ""),
                ("host", s.host.value, s.host.origin),
                ("port", String(s.port.value), s.port.origin),
                ("user", s.user.value ?? "(unset)", s.user.origin),
                ("password", s.password == nil ? "(unset)" : "(set, redacted)", s.passwordOrigin ?? ""),
                ("passwordFile", s.passwordFile.value ?? "(unset)", s.passwordFile.origin),
                ("identityFile", s.identityFile.value ?? "(unset)", s.identityFile.origin),
                ("passphrase", s.passphrase == nil ? "(unset)" : "(set, redacted)", ""),
                ("knownHostsFile", s.knownHostsFile.value, s.knownHostsFile.origin),
                ("hostKey", s.hostKey.value ?? "(unset)", s.hostKey.origin),
                ("shops", s.shops.value?.joined(separator: ",") ?? "(automatic)", s.shops.origin),
                ("archive", s.archive.value, s.archive.origin),
                ("threshold", String(s.threshold.value), s.threshold.origin),
                ("mode", s.mode.value?.rawValue ?? "(both)", s.mode.origin),
                ("timeout", String(s.timeout.value), s.timeout.origin),
                ("retries", String(s.retries.value), s.retries.origin),
                ("parallel", String(s.parallel.value), s.parallel.origin),
                ("currency", s.currency.value.code, s.currency.origin),
                (
                    "shopCurrencies",
                    s.shopCurrencies.value.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.code)" }.joined(
                        separator: ","), s.shopCurrencies.origin
                ),
                ("companyDirectory", s.companyDirectory.value, s.companyDirectory.origin),
                ("shopDirectory", s.shopDirectory.value, s.shopDirectory.origin),
                ("mailFrom", s.mailFrom.value?.description ?? "(expcards@\(Settings.hostName))", s.mailFrom.origin),
                (
                    "mailTo",
                    s.mailTo.value.isEmpty ? "(unset)" : s.mailTo.value.map(\.description).joined(separator: ","),
                    s.mailTo.origin
                ),
                ("subject", s.subject.value ?? "(automatic)", s.subject.origin),
                ("itnHmacKeyFile", s.itnHmacKeyFile.value ?? "(unset)", s.itnHmacKeyFile.origin),
            ]
            rows.append(
                ("insecureAllowWeakAlgorithms", String(s.allowWeakAlgorithms.value), s.allowWeakAlgorithms.origin))
            if connection.insecureAcceptAnyHostKey {
                rows.append(("host key check", "OFF", "flag --insecure-accept-any-host-key"))
            }
            let width = rows.map(\.0.count).max() ?? 0
            Output.stdout(
                rows.map {
                    $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1
                        + ($0.2.isEmpty ? "" : "  (\($0.2))")
                }.joined(separator: "\n") + "\n")
        } catch {
            throw Failure.reported(error)
        }
    }
}
