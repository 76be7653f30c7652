/// `--mask`: buyers' names reduced to initials and e-mails to their first letter and domain, for a
/// wider distribution list. Applied to the raw value, before any escaping.
public enum Masking {
    /// `Dupont Durant` → `D. D.`; `Jean-Pierre Martin` → `J.-P. M.`.
    public static func name(_ name: String) -> String {
        name.split(whereSeparator: { $0.isWhitespace }).map { word in
            word.split(separator: "-", omittingEmptySubsequences: true).map { "\($0.first!)." }.joined(separator: "-")
        }.filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// `durant@e-mail.com` → `d…@e-mail.com`; without `@`, the first letter and `…`.
    public static func email(_ email: String) -> String {
        guard let first = email.first else { return "" }
        guard let at = email.lastIndex(of: "@") else { return "\(first)…" }
        if at == email.startIndex { return String(email[at...]) }
        return "\(first)…" + email[at...]
    }

    /// A file problem with what it quotes of a record masked. The name (field 3) and e-mail
    /// (field 4) are masked as in the report; any other excerpt is shown only when it cannot hold
    /// buyer data (digits and date or amount punctuation; an alias or record code of letters and
    /// digits), since a quote left open in one field swallows the rest of the line.
    public static func problem(_ p: Problem) -> Problem {
        // Only a quoted excerpt (`"…"`) holds bytes of the file; counts and kinds do not.
        guard p.line > 0, let found = p.found, found.hasPrefix("\"") else { return p }
        var masked = p
        if p.field == 3 || p.field == 4 {
            if let (before, token, after) = nextQuoted(Substring(found)) {
                masked.found = before + remasked(token, asName: p.field == 3) + after
            }
            return masked
        }
        let raw = unescape(Substring(found))
        let harmless: (Unicode.Scalar) -> Bool = { c in
            c.isASCII
                && (c.properties.numericType != nil || "/-+.:".unicodeScalars.contains(c)
                    || (p.field <= 2 && (c.properties.isAlphabetic || c == "_")))
        }
        if raw.unicodeScalars.count > 40 || !raw.unicodeScalars.allSatisfy(harmless) || found.contains("… (") {
            masked.found = "\(raw.utf8.count) bytes, not shown (--mask)"
        }
        return masked
    }

    /// Finds the next `"…"` excerpt in `abbreviated`'s syntax, with its optional `… (N bytes)`.
    private static func nextQuoted(_ s: Substring) -> (Substring, Substring, Substring)? {
        guard let open = s.firstIndex(of: "\"") else { return nil }
        var i = s.index(after: open)
        while i < s.endIndex {
            if s[i] == "\\" {
                i = s.index(after: i)
                if i < s.endIndex { i = s.index(after: i) }
                continue
            }
            if s[i] == "\"" {
                var end = s.index(after: i)
                let tail = s[end...]
                if tail.hasPrefix("… ("), let close = tail.firstIndex(of: ")") { end = s.index(after: close) }
                return (s[..<open], s[open..<end], s[end...])
            }
            i = s.index(after: i)
        }
        return nil
    }

    private static func remasked(_ token: Substring, asName: Bool) -> String {
        let raw = unescape(token)
        return abbreviated(Array((asName ? name(raw) : email(raw)).utf8), limit: 60)
    }

    /// Reverses `abbreviated`'s escapes (the quotes, `\t`, `\xNN`, `\u{…}`); drops the size note.
    static func unescape(_ token: Substring) -> String {
        var body = token
        if let close = body.lastIndex(of: "\"") { body = body[..<close] }
        if body.first == "\"" { body = body.dropFirst() }
        var out = String.UnicodeScalarView()
        var scalars = Substring.UnicodeScalarView(body.unicodeScalars)
        while let c = scalars.popFirst() {
            guard c == "\\", let e = scalars.popFirst() else {
                out.append(c)
                continue
            }
            switch e {
            case "t": out.append("\t")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "x":
                let hex = String(String.UnicodeScalarView(scalars.prefix(2)))
                scalars = scalars.dropFirst(2)
                if let v = UInt32(hex, radix: 16), let u = Unicode.Scalar(v) { out.append(u) }
            case "u":
                let digits = scalars.prefix { $0 != "}" }
                scalars = scalars.dropFirst(digits.count + 1)
                if let v = UInt32(String(String.UnicodeScalarView(digits.dropFirst())), radix: 16),
                    let u = Unicode.Scalar(v)
                {
                    out.append(u)
                }
            default: out.append(e)
            }
        }
        return String(out)
    }
}
