/// Where the archive keeps what it fetched: a mirror of the remote tree (`ROOT/expired/<file>` or
/// `common/expired/<file>`, `<shopId>/expired/<file>`), under a root directory.
public enum ArchivePath {
    /// `$XDG_DATA_HOME/expcards`, else `~/.local/share/expcards`.
    public static func defaultRoot(environment: [String: String]) -> String? {
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") { return xdg + "/expcards" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.local/share/expcards" }
        return nil
    }

    /// The archive's relative directory for a remote directory: its last two components, so
    /// `/ROOT/expired` → `ROOT/expired`, `12345678/expired` → `12345678/expired`, and a server
    /// that nests them deeper (`/srv/sftp/ROOT/expired`) is archived in the same layout, where
    /// `report` looks. Nil when a component could escape the archive.
    public static func relativeDirectory(forRemote remote: String) -> String? {
        let parts = remote.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        guard !parts.isEmpty, parts.allSatisfy(isSafeComponent) else { return nil }
        return parts.suffix(2).joined(separator: "/")
    }

    /// A single path component that cannot escape or confuse the archive: not empty, not `.` or
    /// `..`, no `/`, no control characters, not hidden (the archive's own files start with `.`),
    /// valid UTF-8 only by construction (a Swift String).
    public static func isSafeComponent(_ name: String) -> Bool {
        guard !name.isEmpty, name != ".", name != "..", !name.hasPrefix("."), name.utf8.count <= 255 else {
            return false
        }
        return !name.unicodeScalars.contains {
            $0 == "/" || $0 == "\\" || $0.value < 0x20 || (0x7F..<0xA0).contains($0.value)
        }
    }

    /// An earlier version of `name` kept beside it: `<name>.replaced-<UTC>`, `-<n>` after the
    /// first of the same second.
    public static func replacedName(of name: String, at epochSeconds: Int64, attempt n: Int = 1) -> String {
        "\(name)\(replacedMarker)\(compactUTC(epochSeconds: epochSeconds))" + (n > 1 ? "-\(n)" : "")
    }

    /// Whether `entry` is an earlier version of `name` (`replacedName`).
    public static func isReplaced(_ entry: String, of name: String) -> Bool {
        entry.hasPrefix(name + replacedMarker)
    }

    /// The file a kept earlier version is of (`X.csv.replaced-<UTC>` → `X.csv`), or nil when
    /// `entry` is not one.
    public static func originalName(ofReplaced entry: String) -> String? {
        let bytes = Array(entry.utf8)
        let marker = Array(replacedMarker.utf8)
        guard bytes.count > marker.count else { return nil }
        for i in 1...(bytes.count - marker.count) where bytes[i..<(i + marker.count)].elementsEqual(marker) {
            return String(decoding: bytes[..<i], as: UTF8.self)
        }
        return nil
    }

    static let replacedMarker = ".replaced-"

    /// Why a remote name is refused, for the warning.
    public static func refusal(_ name: String) -> String? {
        isSafeComponent(name)
            ? nil : "unsafe file name \(abbreviated(Array(name.utf8), limit: 60)): refused, nothing written"
    }
}
