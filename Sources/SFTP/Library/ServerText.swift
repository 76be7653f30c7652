/// Text a server sent (its version line, algorithm and authentication method names, messages)
/// made safe to print on a terminal or in a cron mail: every scalar that acts on the display
/// (C0 and C1 controls, DEL, line and paragraph separators, bidi controls) and the backslash
/// become visible escapes, so a server cannot retitle a terminal or reorder a line.
public enum ServerText {
    public static func neutralised(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x09: out += "\\t"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x5C: out += "\\\\"
            case 0x00..<0x20, 0x7F..<0xA0, 0x061C, 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out +=
                    scalar.value < 0x100
                    ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex : "\\u{" + hex + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Bytes from the wire that may not be UTF-8: invalid sequences become U+FFFD first.
    public static func neutralised(bytes: some Collection<UInt8>) -> String {
        neutralised(String(decoding: Array(bytes), as: UTF8.self))
    }
}
