import ArgumentParser
import ExpCardsCore
import Foundation

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash every archived file against the manifest.",
        discussion: """
            Reports every file whose SHA-256 or size differs from the manifest, every file the \
            manifest lists that is missing, and every file in the archive it does not list.

            Exit status: 0 when all match, 65 on any difference, 74 when the archive cannot be read.
            """
    )

    @OptionGroup var archive: ArchiveOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        do {
            let settings = try await Settings.load(archive: archive.archive, config: archive.config, connection: nil, environment: ProcessInfo.processInfo.environment)
            let root = settings.archive.value
            let manifest = try Manifest.load(root: root)
            var out = ""
            var bad = 0
            var listed = Set<String>()
            for (key, entry) in manifest.files.sorted(by: { $0.key < $1.key }) {
                let dir = String(key[..<(key.lastIndex(of: "/") ?? key.startIndex)])
                let path = root + "/" + dir + "/" + entry.storedName
                listed.insert(path)
                for old in entry.replaced ?? [] { listed.insert(root + "/" + dir + "/" + old) }
                guard FileManager.default.fileExists(atPath: path) else {
                    out += "MISSING \(path)\n"
                    bad += 1
                    continue
                }
                let digest = try sha256Hex(ofFile: path)
                if digest != entry.sha256 {
                    out += "CHANGED \(path): SHA-256 \(digest), manifest \(entry.sha256)\n"
                    bad += 1
                } else if !logging.quiet {
                    out += "OK      \(path)\n"
                }
            }
            for path in ArchiveContents.allFiles(root: root) where !listed.contains(path) {
                out += "UNLISTED \(path)\n"
                bad += 1
            }
            out += "\(manifest.files.count) file\(manifest.files.count == 1 ? "" : "s") in the manifest, \(bad) difference\(bad == 1 ? "" : "s")\n"
            Output.stdout(out)
            if bad > 0 { throw ExitCode.dataError }
        } catch {
            throw Failure.exit(error)
        }
    }
}
