import ArgumentParser

@main
struct ExpCards: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expcards",
        abstract: "Archive and report the Lyra platform's expiring-cards (EXP_CARDS) files.",
        version: "0.1.0",
        subcommands: [Check.self]
    )
}
