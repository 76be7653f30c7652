/// Text typed by buyers (names, e-mails) made safe and measured for a terminal or a mail.
///
/// Controls (C0, DEL, C1), line and paragraph separators and bidi controls become visible
/// escapes (`\x01`, `\u{202E}`): a name must never move the cursor, recolour the terminal or
/// reorder the line it is printed on. Quotes and backslashes stay as typed (unlike in quoted
/// problem excerpts), so ordinary names read as they are.
public func displaySafe(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: needsEscape) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
        if needsEscape(scalar) { out += escapedForDisplay(scalar) } else { out.unicodeScalars.append(scalar) }
    }
    return out
}

/// `displaySafe` for a message of several lines: every scalar that acts on the display is
/// escaped but the line feed. What the command-line front end writes as text (diagnostics,
/// summaries) goes through it, so a server message, a remote file name or a file's bytes can
/// neither move the cursor, retitle the terminal nor reverse the text that follows.
public func displaySafeLines(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { $0 != "\n" && needsEscape($0) }) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
        if scalar != "\n" && needsEscape(scalar) {
            out += escapedForDisplay(scalar)
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Scalars that act on the display rather than show: the one list `escapedForDisplay`,
/// `displaySafe` and the JSON writer escape.
func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00..<0x20, 0x7F..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
    case 0x061C, 0x200E, 0x200F: return true
    default: return false
    }
}

/// Terminal columns a string takes: East Asian wide characters and emoji take two, format
/// characters (zero-width space, word joiner…) none, everything else one per grapheme (combining
/// marks join their base). Good enough for names; no locale tables.
func displayWidth(_ text: String) -> Int {
    // ASCII (most of a report): one column per byte, no grapheme breaking.
    var ascii = true
    for b in text.utf8 where b >= 0x80 {
        ascii = false
        break
    }
    if ascii { return text.utf8.count }
    var width = 0
    for character in text { width += columns(character) }
    return width
}

private func columns(_ character: Character) -> Int {
    let scalars = character.unicodeScalars
    guard let first = scalars.first else { return 0 }
    let v = first.value
    if v < 0x300 && scalars.count == 1 { return 1 }
    // Nothing visible of its own: format characters, marks with no base.
    if scalars.allSatisfy({ [.format, .nonspacingMark, .enclosingMark].contains($0.properties.generalCategory) }) {
        return 0
    }
    // Emoji shown as pictures: by default (U+1F680 🚀, U+2615 ☕) unless U+FE0E asks for text,
    // or when U+FE0F asks for one (©️, 1️⃣).
    if first.properties.isEmoji && !scalars.contains("\u{FE0E}")
        && (first.properties.isEmojiPresentation || scalars.contains("\u{FE0F}"))
    {
        return 2
    }
    if v < 0x300 { return 1 }
    switch v {
    case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
        0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60,
        0xFFE0...0xFFE6, 0x16FE0...0x18CFF, 0x1B000...0x1B2FF, 0x1F300...0x1F64F, 0x1F900...0x1F9FF,
        0x20000...0x3FFFD:
        return 2
    default:
        return 1
    }
}

/// At most `width` columns: cut with `…` when longer.
func truncated(_ text: String, to width: Int) -> String {
    guard displayWidth(text) > width else { return text }
    guard width > 0 else { return "" }
    var out = ""
    var used = 0
    for character in text {
        let w = columns(character)
        if used + w > width - 1 { break }
        out.append(character)
        used += w
    }
    return out + "…"
}

/// Padded with spaces to `width` columns (left-aligned), or cut with `…` when longer.
func padded(_ text: String, to width: Int) -> String {
    let cut = truncated(text, to: width)
    return cut + String(repeating: " ", count: max(0, width - displayWidth(cut)))
}

/// Right-aligned in `width` columns.
func rightAligned(_ text: String, to width: Int) -> String {
    String(repeating: " ", count: max(0, width - displayWidth(text))) + text
}

/// Free text (problems, warnings) broken at spaces into lines of at most `width` columns; the
/// first line after `firstIndent`, the others after `indent`. A word longer than a line is cut.
/// A no-break space (U+00A0) holds two words together and is written as a plain space.
func wrapped(_ text: String, width: Int, firstIndent: String, indent: String) -> [String] {
    wrappedKeepingNoBreakSpaces(text, width: width, firstIndent: firstIndent, indent: indent).map {
        $0.contains("\u{00A0}") ? String($0.map { $0 == "\u{00A0}" ? " " : $0 }) : $0
    }
}

private func wrappedKeepingNoBreakSpaces(_ text: String, width: Int, firstIndent: String, indent: String) -> [String] {
    // Most paragraphs fit on one line: no word splitting then.
    if !text.contains("  "), !text.hasPrefix(" "), !text.hasSuffix(" "), !text.isEmpty,
        displayWidth(firstIndent) + displayWidth(text) <= width
    {
        return [firstIndent + text]
    }
    var lines: [String] = []
    var line = firstIndent
    var lineHasWord = false
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
        var word = String(word)
        let prefix = lineHasWord ? " " : ""
        if displayWidth(line) + displayWidth(prefix + word) <= width {
            line += prefix + word
            lineHasWord = true
            continue
        }
        if lineHasWord {
            lines.append(line)
            line = indent
        }
        // A word longer than a whole line: cut it into pieces.
        while displayWidth(line) + displayWidth(word) > width {
            let room = width - displayWidth(line)
            var piece = ""
            var used = 0
            var rest = Substring(word)
            while let c = rest.first, used + columns(c) <= room {
                piece.append(c)
                used += columns(c)
                rest.removeFirst()
            }
            if piece.isEmpty { break }
            lines.append(line + piece)
            line = indent
            word = String(rest)
        }
        line += word
        lineHasWord = !word.isEmpty
    }
    if lineHasWord || lines.isEmpty { lines.append(line) }
    return lines
}

/// True when every scalar of these UTF-8 bytes is printable ASCII or in U+00A0–U+02FF (Latin
/// letters with their accents): such text needs no display escape (`displaySafe` returns it as
/// it is), and each scalar is a grapheme of its own one column wide (none of them combines, and
/// the wide ranges start at U+1100). The report formats take their byte-level fast paths on it
/// and go through Strings for anything else.
func isSimpleText(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var i = 0
    let n = bytes.count
    // Printable ASCII 8 bytes at a time: no high bit, no byte below 0x20, no DEL (SWAR tests).
    if let p = bytes.baseAddress {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while i + 8 <= n {
            let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let del = w ^ (ones &* 0x7F)
            if w & highs != 0 || (w &- ones &* 0x20) & ~w & highs != 0 || (del &- ones) & ~del & highs != 0 { break }
            i += 8
        }
    }
    while i < n {
        let b = bytes[i]
        if b < 0x80 {
            if b < 0x20 || b == 0x7F { return false }
            i += 1
        } else if b >= 0xC2 && b <= 0xCB {
            guard i + 1 < n, bytes[i + 1] & 0xC0 == 0x80, b != 0xC2 || bytes[i + 1] >= 0xA0 else { return false }
            i += 2
        } else {
            return false
        }
    }
    return true
}

/// Columns of simple text (see `isSimpleText`): one per scalar.
func simpleWidth(_ bytes: UnsafeRawBufferPointer) -> Int {
    var n = 0
    for b in bytes where b & 0xC0 != 0x80 { n += 1 }
    return n
}
