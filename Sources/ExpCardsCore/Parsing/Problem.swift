/// A defect found in a file: where it is (file, line, field) and what was expected instead.
///
/// The parser never prints and never stops at the first problem: it returns them with what it
/// could read, and the caller decides what a problem costs.
public struct Problem: Hashable, Sendable, CustomStringConvertible {
    /// The path of the file as the caller named it.
    public var file: String
    /// 1-based line; 0 for the whole file.
    public var line: Int
    /// 1-based field position; 0 for the whole line.
    public var field: Int
    /// The field's name in the platform's guide (`expiry date`), when the problem is about one field.
    public var fieldName: String?
    /// What the format wants there.
    public var expected: String
    /// What the file holds there, abbreviated and escaped; nil when there is nothing to show.
    public var found: String?

    public init(
        file: String, line: Int, field: Int = 0, fieldName: String? = nil, expected: String, found: String? = nil
    ) {
        self.file = file
        self.line = line
        self.field = field
        self.fieldName = fieldName
        self.expected = expected
        self.found = found
    }

    /// `expiry date: expected a real date YYYYMMDD, found "20180231"`.
    public var message: String {
        var s = fieldName.map { "\($0): " } ?? ""
        s += "expected \(expected)"
        if let found { s += ", found \(found)" }
        return s
    }

    /// `path:line:field: message`, the compiler's convention, so editors can jump to it.
    public var description: String {
        var place = file
        if line > 0 { place += ":\(line)" }
        if line > 0 && field > 0 { place += ":\(field)" }
        return "\(place): \(message)"
    }
}

/// Shows bytes from a file in a message: quoted, control characters and invalid UTF-8 escaped,
/// cut after `limit` characters with the full size said, so a 100 MB field never lands in a log.
public func abbreviated(_ bytes: some Collection<UInt8>, limit: Int = 40) -> String {
    var out = "\""
    var shown = 0
    var truncated = false
    let text = String(decoding: bytes, as: UTF8.self)
    for scalar in text.unicodeScalars {
        if shown == limit {
            truncated = true
            break
        }
        out += escapedForDisplay(scalar)
        shown += 1
    }
    out += "\""
    if truncated { out += "… (\(bytes.count) bytes)" }
    return out
}

/// A scalar made safe for a terminal or a mail, in a quoted excerpt: `"` and `\` escaped, and
/// every scalar that acts on the display (`needsEscape`: C0, DEL, C1, separators, bidi controls)
/// shown as a visible escape; everything else stays as is.
public func escapedForDisplay(_ scalar: Unicode.Scalar) -> String {
    switch scalar.value {
    case 0x09: return "\\t"
    case 0x0A: return "\\n"
    case 0x0D: return "\\r"
    case 0x22: return "\\\""
    case 0x5C: return "\\\\"
    default:
        guard needsEscape(scalar) else { return String(scalar) }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return scalar.value < 0x100
            ? "\\x" + (hex.count == 1 ? "0" : "") + hex
            : "\\u{" + hex + "}"
    }
}
