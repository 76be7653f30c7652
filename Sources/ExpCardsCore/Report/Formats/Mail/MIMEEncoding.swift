import Foundation

/// The few MIME encodings the report's mail needs (RFC 2045 quoted-printable and base64, RFC 2047
/// encoded words, RFC 5322 folding). Written here rather than taken from a library: no package
/// on this machine builds MIME messages without a server framework (Vapor's multipart-kit does
/// form-data, not RFC 5322 mail), and these are a hundred lines with their tests.
enum MIMEEncoding {
    /// Quoted-printable (RFC 2045 §6.7) of text whose line ends are `\n`: lines of at most 76
    /// characters, soft breaks `=` before that; `=`, controls, non-ASCII, a space or tab before a
    /// line end, and an `F` or `.` starting a line (mbox's `From `, SMTP's lone dot) encoded.
    static func quotedPrintable(_ bytes: some Sequence<UInt8>, into out: inout [UInt8]) {
        let hex = Array("0123456789ABCDEF".utf8)
        var lineLength = 0
        var pending: UInt8?  // a space or tab held until we know whether a line end follows
        func emit(_ piece: [UInt8]) {
            if lineLength + piece.count > 75 {
                out += [0x3D, 0x0A]  // soft line break
                lineLength = 0
            }
            out += piece
            lineLength += piece.count
        }
        func encoded(_ b: UInt8) -> [UInt8] { [0x3D, hex[Int(b >> 4)], hex[Int(b & 0xF)]] }
        for b in bytes {
            if let p = pending {
                pending = nil
                emit(b == 0x0A ? encoded(p) : [p])
            }
            switch b {
            case 0x0A:
                out.append(0x0A)
                lineLength = 0
            case 0x20, 0x09:
                pending = b
            case 0x46 where lineLength == 0, 0x2E where lineLength == 0:
                emit(encoded(b))
            case 0x21...0x7E where b != 0x3D:
                emit([b])
            default:
                emit(encoded(b))
            }
        }
        if let p = pending { emit(encoded(p)) }
    }

    /// Base64 in lines of 76 characters, each ended by `\n`.
    static func base64(_ bytes: [UInt8], into out: inout [UInt8]) {
        let text = Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
        out += Array(text.utf8)
        if !bytes.isEmpty { out.append(0x0A) }
    }

    static func isPrintableASCII(_ s: String) -> Bool { s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } }

    /// An unstructured header's value (RFC 5322 §2.2.3), folded: as it is when printable ASCII and
    /// short, else RFC 2047 `=?utf-8?b?…?=` words of at most 39 bytes of UTF-8 each (64 characters,
    /// under RFC 2047's 75), never splitting a character.
    static func unstructured(_ name: String, _ value: String) -> String {
        if isPrintableASCII(value), name.utf8.count + 2 + value.utf8.count <= 78 { return name + ": " + value }
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in value.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 39 {
                words.append(encodedWord(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append(encodedWord(chunk)) }
        return name + ": " + words.joined(separator: "\n ")
    }

    static func encodedWord(_ utf8: [UInt8]) -> String { "=?utf-8?b?" + Data(utf8).base64EncodedString() + "?=" }

    /// An address list header, one address a line after the first.
    static func addresses(_ name: String, _ list: [MailAddress]) -> String {
        name + ": " + list.map(\.header).joined(separator: ",\n ")
    }
}

/// An e-mail address as given (`ops@example.com` or `Ops Team <ops@example.com>`), checked so
/// that it cannot break the header it goes in.
public struct MailAddress: Sendable, Hashable, CustomStringConvertible {
    public let displayName: String?
    public let address: String

    /// Nil when the address has no `@`, holds a control character, a space or a non-ASCII
    /// character (the message does not ask for SMTPUTF8), or the display name holds `<>"`.
    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        var name: String?
        var addr = t
        if t.hasSuffix(">"), let open = t.lastIndex(of: "<") {
            let n = t[..<open].trimmingCharacters(in: .whitespaces)
            name = n.isEmpty ? nil : n
            addr = String(t[t.index(after: open)..<t.index(before: t.endIndex)])
        }
        let bytes = Array(addr.utf8)
        guard let at = bytes.lastIndex(of: 0x40), at > 0, at < bytes.count - 1,
            bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !"<>()[],;:\\\"".utf8.contains($0) })
        else { return nil }
        if let name,
            name.unicodeScalars.contains(where: {
                $0.value < 0x20 || $0.value == 0x7F || "<>\"".unicodeScalars.contains($0)
            })
        {
            return nil
        }
        displayName = name
        address = addr
    }

    public var description: String { displayName.map { "\($0) <\(address)>" } ?? address }

    /// For a header: a display name quoted, or RFC 2047-encoded when not ASCII.
    var header: String {
        guard let displayName else { return address }
        if MIMEEncoding.isPrintableASCII(displayName) {
            return "\"\(displayName.replacingOccurrences(of: "\\", with: "\\\\"))\" <\(address)>"
        }
        return MIMEEncoding.encodedWord(Array(displayName.utf8)) + " <\(address)>"
    }

    /// The part after `@`.
    public var domain: String { String(address[address.index(after: address.lastIndex(of: "@")!)...]) }
}
