/// The report as one RFC 5322 message for `sendmail -t -oi`: a `multipart/mixed` holding a
/// `multipart/alternative` (the text report, and the HTML rendering) and the CSV report attached.
///
/// Bounded in memory and size, however large the report (see `Limits`). Lines end with `\n`
/// (what sendmail and msmtp read on a pipe; they write CRLF on the wire); no line is longer than
/// 78 characters outside the base64 and quoted-printable bodies, which stay within 76.
public enum MailReport {
    public struct Limits: Sendable {
        /// Cards, and subscriptions, listed in the HTML; the rest are counted in a note.
        public var htmlRows = 5_000
        /// The CSV attached as it is up to this size, gzip-compressed beyond, replaced by a note
        /// giving the command that rebuilds it when even compressed it is larger.
        public var attachmentBytes = 10_000_000
        /// The text alternative is cut, at a line end, past this size, with a line saying so.
        public var textBytes = 2_000_000
        public init() {}
    }

    public struct Options: Sendable {
        public var from: MailAddress
        public var to: [MailAddress]
        /// Nil: `defaultSubject`.
        public var subject: String?
        /// The Date header's instant, in seconds since 1970 (an input: tests fix it).
        public var date: Int64
        /// The Message-ID's right-hand part (the host name).
        public var host: String
        /// The Message-ID's left-hand part and the MIME boundaries' tail: random by default.
        public var token: String
        public var csvDialect: CSVReport.Dialect = .rfc4180
        public var mask = false
        public var limits = Limits()
        /// The command that rebuilds the CSV from the archive, for the notes on what is left out.
        public var rebuildCommand = "expcards report --format csv"
        /// A line put before the report in both alternatives (e.g. that the fetch failed).
        public var headline: String?

        public init(
            from: MailAddress, to: [MailAddress], date: Int64, host: String, token: String = MailReport.randomToken()
        ) {
            self.from = from
            self.to = to
            self.date = date
            self.host = host
            self.token = token
        }
    }

    /// 32 hex digits from the system's random source.
    public static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let s = String(g.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }.joined()
    }

    /// `[expcards] WARNING 12 expired, 24 expiring · ACME 2026-11`; with the network's
    /// notifications, `12 expired, 24 expiring, 20 to contact`.
    public static func defaultSubject(_ r: ExpiryReport) -> String {
        let word = r.problemCount > 0 ? "PROBLEMS" : r.warningCount > 0 ? "WARNING" : "OK"
        let expired = r.summary[.expired]?.aliases ?? 0
        let expiring = r.summary[.expiring]?.aliases ?? 0
        var subject = "[expcards] \(word) \(expired) expired, \(expiring) expiring"
        if let network = r.network { subject += ", \(network.callCount) to contact" }
        var scope: [String] = []
        if let company = r.companyLabel {
            scope.append(company)
        } else if r.shopLabels.count == 1, let (shop, label) = r.shopLabels.first {
            scope.append("\(label) (\(shop))")
        }
        if let env = r.environment, env != .production { scope.append(env.rawValue) }
        if let month = r.month { scope.append(month.description) }
        if !scope.isEmpty { subject += " · " + scope.joined(separator: " ") }
        return subject
    }

    /// `expiring-cards-<company>-<YYYY-MM>.csv`, in characters every file system and client takes.
    public static func attachmentName(_ r: ExpiryReport) -> String {
        let who = r.companyLabel ?? (r.shopLabels.count == 1 ? r.shopLabels.first!.value : "all")
        let safe = String(
            who.unicodeScalars.map { s -> Character in
                s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || s == "-" || s == "_" || s == ".")
                    ? Character(s) : "_"
            })
        return "expiring-cards-\(safe)" + (r.month.map { "-\($0)" } ?? "") + ".csv"
    }

    public static func render(_ r: ExpiryReport, _ o: Options) -> String {
        var out: [UInt8] = []
        write(r, o) { out += $0 }
        return String(decoding: out, as: UTF8.self)
    }

    public static func write(_ r: ExpiryReport, _ o: Options, to output: (UnsafeRawBufferPointer) -> Void) {
        let message = build(r, o)
        message.withUnsafeBytes { output($0) }
    }

    static func build(_ r: ExpiryReport, _ o: Options) -> [UInt8] {
        let subject = (o.subject ?? defaultSubject(r)).unicodeScalars.map {
            $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0)
        }
        let subjectText = String(subject)

        // The parts' contents, each within its bound.
        var text = TextPart(limit: o.limits.textBytes)
        if let headline = o.headline {
            text.bytes = Array((displaySafe(headline) + "\n").utf8)
            text.headline = text.bytes.count
        }
        TextReport.write(r, color: false, mask: o.mask) { text.append($0) }
        let textBytes = text.finish()
        var csv = BoundedAttachment(limit: o.limits.attachmentBytes)
        CSVReport.write(r, dialect: o.csvDialect, mask: o.mask) { csv.append($0) }
        let attachment = csv.finish()
        let name = attachmentName(r)
        var leftOutNote = "the attached \(htmlEscaped(name)) lists them all."
        if case .tooLarge = attachment {
            leftOutNote = "<code>\(htmlEscaped(o.rebuildCommand))</code> lists them all."
        }
        let verdict = textBytes.dropFirst(text.headlineBytes).prefix { $0 != 0x0A }
        let html = HTMLReport.render(
            r, headline: o.headline, verdict: String(decoding: verdict, as: UTF8.self), title: subjectText,
            mask: o.mask,
            maxRows: o.limits.htmlRows, leftOutNote: leftOutNote)

        let mixed = "=_mixed_" + o.token
        let alternative = "=_alt_" + o.token
        var m: [UInt8] = []
        func put(_ s: String) {
            m += Array(s.utf8)
            m.append(0x0A)
        }
        put(MIMEEncoding.addresses("From", [o.from]))
        put(MIMEEncoding.addresses("To", o.to))
        put(MIMEEncoding.unstructured("Subject", subjectText))
        put("Date: " + MailDate.format(secondsSinceEpoch: o.date))
        put("Message-ID: <\(o.token).expcards@\(o.host)>")
        put("MIME-Version: 1.0")
        // RFC 3834: a report from a job, not from a person (no vacation replies).
        put("Auto-Submitted: auto-generated")
        put("Content-Type: multipart/mixed;\n boundary=\"\(mixed)\"")
        put("")
        put("This is a MIME message: the report as text and HTML, and the CSV attached.")
        put("--" + mixed)
        put("Content-Type: multipart/alternative;\n boundary=\"\(alternative)\"")
        put("")
        put("--" + alternative)
        put("Content-Type: text/plain; charset=utf-8")
        put("Content-Transfer-Encoding: quoted-printable")
        put("")
        MIMEEncoding.quotedPrintable(textBytes, into: &m)
        // The line end before a boundary belongs to the boundary (RFC 2046 §5.1.1): one more
        // keeps the part's own last line end.
        m.append(0x0A)
        put("--" + alternative)
        put("Content-Type: text/html; charset=utf-8")
        put("Content-Transfer-Encoding: quoted-printable")
        put("")
        MIMEEncoding.quotedPrintable(html.utf8, into: &m)
        m.append(0x0A)
        put("--" + alternative + "--")
        put("")
        put("--" + mixed)
        switch attachment {
        case .plain(let bytes):
            put("Content-Type: text/csv; charset=utf-8; header=present;\n name=\"\(name)\"")
            put("Content-Disposition: attachment;\n filename=\"\(name)\"")
            put("Content-Transfer-Encoding: base64")
            put("")
            MIMEEncoding.base64(bytes, into: &m)
        case .gzip(let bytes):
            put("Content-Type: application/gzip;\n name=\"\(name).gz\"")
            put("Content-Disposition: attachment;\n filename=\"\(name).gz\"")
            put("Content-Transfer-Encoding: base64")
            put("")
            MIMEEncoding.base64(bytes, into: &m)
        case .tooLarge:
            put("Content-Type: text/plain; charset=utf-8")
            put("Content-Disposition: inline")
            put("Content-Transfer-Encoding: quoted-printable")
            put("")
            let megabytes = (csv.totalBytes + 999_999) / 1_000_000
            let note =
                "The CSV report (\(megabytes) MB) is too large to attach, even compressed (the limit is"
                + " \(o.limits.attachmentBytes / 1_000_000) MB). Rebuild it from the archive with:\n\n    \(o.rebuildCommand)\n"
            MIMEEncoding.quotedPrintable(Array(note.utf8), into: &m)
        }
        put("--" + mixed + "--")
        return m
    }
}

/// The text alternative gathered up to a limit: past it, cut at the last line end, and a line
/// saying what was left out.
struct TextPart {
    let limit: Int
    var bytes: [UInt8] = []
    var leftOut = 0
    var cut = false
    /// The headline's bytes at the start, before the report's.
    var headlineBytes: Int { headline }
    var headline = 0

    init(limit: Int) { self.limit = limit }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        if cut {
            leftOut += chunk.count
            return
        }
        if bytes.count + chunk.count <= limit {
            bytes += chunk
            return
        }
        let room = limit - bytes.count
        bytes += chunk[0..<room]
        let end = bytes.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        leftOut = chunk.count - room + (bytes.count - end)
        bytes.removeSubrange(end...)
        cut = true
    }

    mutating func finish() -> [UInt8] {
        if cut {
            bytes += Array(
                "\n[The text report stops here: \(leftOut) more bytes left out; the attachment lists every card.]\n"
                    .utf8)
        }
        return bytes
    }
}
