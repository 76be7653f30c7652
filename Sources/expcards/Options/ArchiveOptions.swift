import ArgumentParser

struct ArchiveOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The archive directory.", discussion: "Default: $XDG_DATA_HOME/expcards, else ~/.local/share/expcards.",
            valueName: "dir"))
    var archive: String?

    @Option(
        help: ArgumentHelp(
            "The configuration file (YAML).",
            discussion:
                "Default: $EXPCARDS_CONFIG, else $XDG_CONFIG_HOME/expcards/config.yaml (or .yml; $XDG_CONFIG_HOME defaults to ~/.config), else /etc/expcards/config.yaml.",
            valueName: "file"))
    var config: String?
}
