import ArgumentParser
import ExpCardsCore
import Foundation
import ITNServer

/// `expcards itn serve`: the endpoint the platform posts its ITN notifications to.
struct ITNServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Receive the platform's ITN notifications over HTTP into the archive's store.",
        discussion: """
            Listens on HOST:PORT (default 127.0.0.1:8735), behind the merchant's TLS reverse proxy \
            (the platform posts from 194.50.38.0/24 to port 443; the proxy filters the addresses). \
            POST / or /itn: a JSON document or the kr-answer form; 200 once the notification is \
            fsynced in the store (or is a duplicate), 400 with the reason when it is malformed, \
            401 when a key is configured and the signature does not match, 413 over 64 KiB, 405 \
            for another method. GET /health answers 200, or 503 when the store's \
            file system is read-only or full. One log line per request on stderr. \
            A connection silent for --idle-timeout seconds (default 30) is closed. SIGTERM or \
            SIGINT: finishes the requests in flight (a stalled one within the idle timeout) and \
            exits 0.

            Exit status: 0 after SIGTERM; 69 when the address cannot be bound; 74 when the store \
            cannot be opened; 78 when the key file or the archive is not safe.

            Examples:
              expcards itn serve
              expcards itn serve --listen 127.0.0.1:9000 --hmac-key-file /etc/expcards/itn.key
            """
    )

    @Option(help: ArgumentHelp("The address to listen on.", valueName: "host:port"))
    var listen = "127.0.0.1:8735"

    @Option(
        name: .customLong("hmac-key-file"),
        help: ArgumentHelp(
            "Require each notification's kr-hash to match this key (the shop's HMAC key); unsigned ones get 401.",
            valueName: "file"))
    var hmacKeyFile: String?

    @Option(
        name: .customLong("idle-timeout"),
        help: ArgumentHelp(
            "Seconds a connection may stay silent, mid-request or between requests, before it is closed.",
            valueName: "seconds"))
    var idleTimeout = 30

    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var logging: LoggingOptions

    /// `host:port`, `[v6]:port`.
    static func address(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    func validate() throws {
        if Self.address(listen) == nil { throw ValidationError("--listen wants HOST:PORT, such as 127.0.0.1:8735.") }
        if !(1...3600).contains(idleTimeout) { throw ValidationError("--idle-timeout wants 1 to 3600 seconds.") }
    }

    func run() async throws {
        let logger = logging.makeLogger()
        let (host, port) = Self.address(listen)!
        do {
            let settings = try await Settings.load(
                archive: archive.archive, config: archive.config, connection: nil,
                environment: ProcessInfo.processInfo.environment)
            let key = try (hmacKeyFile ?? settings.itnHmacKeyFile.value).map(ITNKeyFile.read)
            let store = try NotificationStore.open(archiveRoot: settings.archive.value, create: true)!
            let endpoint = ITNEndpoint(
                configuration: .init(host: host, port: port, hmacKey: key, idleTimeout: .seconds(idleTimeout)),
                store: store,
                logger: logger)
            let path = store.path
            let signed = key == nil ? "unsigned notifications accepted" : "signatures required"
            try await endpoint.run { bound in
                logger.notice("listening on \(host):\(bound), storing into \(path) (\(signed))")
            }
            logger.notice("stopped")
        } catch let error as ArchiveError {
            throw Failure.reported(error)
        } catch let error as ITNKeyFile.Unsafe {
            throw Failure.reported(error)
        } catch let error as Settings.Error {
            throw Failure.reported(error)
        } catch {
            Output.stderr("expcards: error: cannot serve on \(listen): \(error)\n")
            throw ExitCode.unavailable
        }
    }
}
