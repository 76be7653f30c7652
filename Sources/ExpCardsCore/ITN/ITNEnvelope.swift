import Crypto
import Foundation

/// What one HTTP body, or one line of an import file, holds: the notification and how it came.
///
/// The guide gives the fields of a notification but not its HTTP packaging. Two are accepted
/// (lenient about packaging, strict about meaning):
/// - a bare JSON document (`Content-Type: application/json`);
/// - the form the platform's other notifications (its REST API's IPN) use,
///   `application/x-www-form-urlencoded` with the JSON in `kr-answer`, its HMAC-SHA-256 in
///   `kr-hash` (hex), `kr-hash-algorithm=sha256_hmac` and `kr-answer-type`.
///
/// In the JSON, the dotted names of the guide (`card.lastFour`) may be nested objects or flat
/// keys, or both when they agree. Unknown keys are ignored; a known key with a value of the wrong
/// kind or form is an error.
public struct ITNEnvelope: Sendable {
    public var notification: TokenNotification
    /// The document's own time (`serverDate`, as the platform's IPN documents carry), if any.
    public var explicitTime: Timestamp?
    /// Whether it came in the form with a `kr-hash`.
    public var isSigned: Bool { signature != nil }

    struct Signature: Sendable {
        var hash: [UInt8]?
        var signedBytes: [UInt8]
    }
    var signature: Signature?

    /// Bodies larger than this are refused before parsing (the server refuses them earlier).
    public static let maximumSize = 64 * 1024

    /// Parses a body. `contentType` is the request's (its parameters ignored); nil, or a type
    /// that is neither JSON nor a form, means the body is sniffed: `{`, `[` or a BOM first is JSON.
    public static func parse(_ body: [UInt8], contentType: String?) throws(ITNError) -> ITNEnvelope {
        guard body.count <= maximumSize else {
            throw ITNError("the body is \(body.count) bytes; at most \(maximumSize) are accepted")
        }
        let first = body.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        guard let first else { throw ITNError("the body is empty") }
        let media = contentType.map { String($0.split(separator: ";").first ?? "").trimmed.lowercased() }
        let isForm: Bool
        switch media {
        case "application/json"?: isForm = false
        case "application/x-www-form-urlencoded"?: isForm = true
        default:
            // A form starts with a name: `{`, `[` or a UTF-8 byte-order mark is JSON.
            isForm = first != UInt8(ascii: "{") && first != UInt8(ascii: "[") && first != 0xEF
        }
        if !isForm {
            return try ITNEnvelope(try fields(ofJSON: body))
        }
        let form = try FormBody(body)
        guard let answer = form.values["kr-answer"] else {
            throw ITNError(field: "kr-answer", "missing: a form body carries the notification's JSON in kr-answer")
        }
        if let algorithm = form.values["kr-hash-algorithm"], algorithm != Array("sha256_hmac".utf8) {
            throw ITNError(field: "kr-hash-algorithm", "expected sha256_hmac")
        }
        var envelope = try ITNEnvelope(try fields(ofJSON: answer))
        if let hash = form.values["kr-hash"] {
            envelope.signature = Signature(hash: Hex.decode(hash), signedBytes: answer)
        }
        return envelope
    }

    private init(_ fields: NotificationFields) throws(ITNError) {
        notification = try fields.notification()
        explicitTime = try fields.serverDate()
    }

    private static func fields(ofJSON bytes: [UInt8]) throws(ITNError) -> NotificationFields {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw ITNError("not valid JSON")
        }
        guard let dictionary = object as? [String: Any] else { throw ITNError("the JSON document is not an object") }
        var fields = NotificationFields()
        try fields.flatten(dictionary, prefix: "")
        return fields
    }

    /// How far ahead of its reception a notification's own time (`serverDate`) may be: clocks
    /// drift, but a notification dated later would stay its alias's latest, hiding the ones that
    /// follow, until that date.
    public static let clockTolerance: Int64 = 24 * 3_600_000

    /// Refuses a `serverDate` more than `clockTolerance` after `receivedAt` (the time of its
    /// reception or import).
    public func checkTime(receivedAt: Timestamp) throws(ITNError) {
        guard let t = explicitTime, t.milliseconds - receivedAt.milliseconds > Self.clockTolerance else { return }
        throw ITNError(field: "serverDate", "expected a time before its reception (it is over a day later)")
    }

    /// HMAC-SHA-256 of the `kr-answer` bytes with `key`, compared in constant time with `kr-hash`
    /// (64 hex digits). False when the notification is unsigned or the hash is not hex.
    public func signatureMatches(key: [UInt8]) -> Bool {
        guard let signature, let hash = signature.hash, hash.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(
            hash, authenticating: signature.signedBytes, using: SymmetricKey(data: key))
    }

    /// The `kr-hash` a body signed with `key` carries (for tests, the demo and senders).
    public static func signature(of answer: [UInt8], key: [UInt8]) -> String {
        Hex.encode(Array(HMAC<SHA256>.authenticationCode(for: answer, using: SymmetricKey(data: key))))
    }
}

enum Hex {
    static func decode(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 2)
        var i = 0
        while i < bytes.count {
            guard let h = nibble(bytes[i]), let l = nibble(bytes[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - 48
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - 87
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - 55
        default: return nil
        }
    }

    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}
