import ArgumentParser
import ExpCardsCore
import Foundation

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check EXP_CARDS files against the platform's format.",
        discussion: """
            Prints one line per file: OK with its kind, environment, month, shop and detail count, \
            or FAIL followed by its problems, one per line (path:line:field: what was expected, \
            what was found). Gzipped files (.csv.gz) are read as they are.

            Exit status: 0 when every file is clean, 65 when any file has a problem, 66 when a \
            path cannot be read, 64 on bad usage.

            Examples:
              expcards check ~/.local/share/expcards/ROOT/expired/*.csv*
              expcards check --format json 202611.12345678.EXP_CARDS.Shop.P.csv
            """
    )

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @OptionGroup var logging: LoggingOptions

    @Argument(help: "EXP_CARDS files (.csv or .csv.gz).")
    var files: [String]

    mutating func validate() throws {
        if files.isEmpty { throw ValidationError("Give at least one file to check.") }
    }

    func run() throws {
        let parsed = files.map { ExpCardsParser.parse(path: $0) }
        switch format {
        case .json:
            let data = try JSONOutput.encoder.encode(parsed.map(FileSummary.init))
            Output.stdout(bytes: Array(data) + [0x0A])
        case .text:
            var out = ""
            for file in parsed { out += CheckText.render(file) }
            Output.stdout(bytes: Array(out.utf8))
        }
        var codes: [ExitCode] = []
        for file in parsed {
            if file.unreadable != nil { codes.append(.noInput) }
            if !file.problems.isEmpty { codes.append(.dataError) }
        }
        let code = ExitCode.worst(codes)
        if code != .success { throw code }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

enum JSONOutput {
    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
