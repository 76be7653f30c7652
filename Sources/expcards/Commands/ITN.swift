import ArgumentParser

/// `expcards itn`: the network's notifications (Instant Token Notifications) of alias updates.
struct ITN: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "itn",
        abstract: "Feed the network's alias notifications (ITN) into the archive's store.",
        discussion: """
            The platform can post an ITN (Instant Token Notification) each time a card network \
            renews, suspends or closes the card behind an alias. Stored in the archive \
            (itn/notifications.jsonl), they let 'report' tell the cards the network renewed \
            (no call needed) from those to contact. See expcards(1), ITN NOTIFICATIONS.
            """,
        subcommands: [ITNServe.self, ITNImport.self]
    )
}
