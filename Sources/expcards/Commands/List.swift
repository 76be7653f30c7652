import ArgumentParser
import ExpCardsCore
import Foundation
import SFTP

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the EXP_CARDS files on the server, with the days left before the 21-day purge.",
        discussion: """
            Shows each remote file of the company and shop directories: its state against the \
            archive (archived, new, changed, ignored, refused), days left before the platform \
            deletes it (counted from its publication on the 1st at 04:00 UTC), size, mtime and path.

            Exit status: 0; 69 server unreachable or SFTP failure; 76 host key; 77 \
            authentication; 78 configuration error.

            Examples:
              expcards list
              expcards list --format json | jq '.[] | select(.state == "new")'
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() async throws {
        let logger = logging.makeLogger()
        do {
            let settings = try await Settings.load(
                archive: archive.archive, config: archive.config, connection: connection,
                environment: ProcessInfo.processInfo.environment)
            let sftp = try settings.sftpConfiguration(insecure: connection.insecureAcceptAnyHostKey)
            SecurityWarnings.emit(settings: settings, connection: connection)
            var options = Fetcher.Options(archiveRoot: settings.archive.value)
            options.shops = settings.shops.value
            options.shopDirectoryPattern = settings.shopDirectory.value
            if settings.companyDirectory.value != "/ROOT/expired" {
                options.companyDirectories = [settings.companyDirectory.value]
            }
            let fetcher = Fetcher(
                options: options, connect: { try SFTPRemoteStore(configuration: sftp, logger: logger) },
                now: { Int64(Date().timeIntervalSince1970) },
                onEvent: { if case .warning(let w) = $0 { logger.warning("\(w)") } })
            let listing = try fetcher.discover(manifest: try Manifest.load(root: settings.archive.value))
            switch format {
            case .text: Output.stdout(Self.text(listing))
            case .json:
                let data = try JSONOutput.encoder.encode(listing.files.map(ListedFile.init))
                Output.stdout(String(decoding: data, as: UTF8.self) + "\n")
            }
        } catch {
            throw Failure.reported(error)
        }
    }

    static func text(_ listing: RemoteListing) -> String {
        var out = "STATE     DAYS LEFT        SIZE  MODIFIED (UTC)        PATH\n"
        for f in listing.files {
            let days = f.daysLeft.map { $0 < 0 ? "purge due" : String($0) } ?? "-"
            let state = f.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
            let size = String(f.entry.size)
            out +=
                state + " " + String(repeating: " ", count: max(0, 9 - days.count)) + days + " "
                + String(repeating: " ", count: max(0, 11 - size.count)) + size + "  "
                + iso8601UTC(epochSeconds: f.entry.mtime) + "  " + display(f.remotePath)
                + (f.note.map { "  (\(display($0)))" } ?? "") + "\n"
        }
        if listing.files.isEmpty { out += "(no file)\n" }
        return out
    }

    static func display(_ s: String) -> String { String(s.unicodeScalars.map(escapedForDisplay).joined()) }
}

/// `list --format json`: one object per remote entry.
struct ListedFile: Encodable {
    var path: String
    var archivePath: String
    var state: String
    var kind: String?
    var environment: String?
    var month: String?
    var shopId: String?
    var size: UInt64
    var mtime: String
    var daysLeft: Int?
    var note: String?

    init(_ f: RemoteListing.File) {
        path = f.remotePath
        archivePath = f.archiveDirectory + "/" + f.entry.name
        state = f.state.rawValue
        kind = f.name?.kind.rawValue
        environment = f.name?.environment.rawValue
        month = f.name?.month.description
        shopId = f.name?.shopId
        size = f.entry.size
        mtime = iso8601UTC(epochSeconds: f.entry.mtime)
        daysLeft = f.daysLeft
        note = f.note
    }

    enum CodingKeys: String, CodingKey {
        case path, archivePath, state, kind, environment, month, shopId, size, mtime, daysLeft, note
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(archivePath, forKey: .archivePath)
        try c.encode(state, forKey: .state)
        try c.encode(kind, forKey: .kind)
        try c.encode(environment, forKey: .environment)
        try c.encode(month, forKey: .month)
        try c.encode(shopId, forKey: .shopId)
        try c.encode(size, forKey: .size)
        try c.encode(mtime, forKey: .mtime)
        try c.encode(daysLeft, forKey: .daysLeft)
        try c.encode(note, forKey: .note)
    }
}
