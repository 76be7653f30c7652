import Foundation
import Testing

@testable import ExpCardsCore

/// The guide's example notification (section 3.3.1), as nested JSON.
let guideNotification = """
    {"merchantLegalId": "45251785700028", "paymentMethodToken": "6af9d54d49794395bafb8a41941399e2",
     "mode": "PRODUCTION", "paymentMethodTokenStatus": "ACTIVE",
     "meansOfPayment": {"status": "ACTIVE", "method": "VISA"},
     "card": {"lastFour": "0114", "expiryMonth": "09", "expiryYear": "2025"}, "source": "ISSUER"}
    """

func envelope(_ json: String, contentType: String? = "application/json") throws(ITNError) -> ITNEnvelope {
    try ITNEnvelope.parse(Array(json.utf8), contentType: contentType)
}

/// The error a body gives, or nil when it is accepted.
func refusal(_ json: String, contentType: String? = "application/json") -> ITNError? {
    do throws(ITNError) {
        _ = try envelope(json, contentType: contentType)
        return nil
    } catch {
        return error
    }
}

/// `guideNotification` with one field changed (a nil value removes it).
func guide(_ changes: [String: Any?]) -> String {
    var object = try! JSONSerialization.jsonObject(with: Data(guideNotification.utf8)) as! [String: Any]
    for (key, value) in changes {
        let parts = key.split(separator: ".").map(String.init)
        if parts.count == 2 {
            var inner = object[parts[0]] as? [String: Any] ?? [:]
            inner[parts[1]] = value ?? nil
            object[parts[0]] = inner
        } else {
            object[key] = value ?? nil
        }
    }
    return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
}

@Suite struct ITNEnvelopeTests {
    @Test func theGuidesExampleReadsAsEveryFieldSays() throws {
        let e = try envelope(guideNotification)
        let n = e.notification
        #expect(n.merchantLegalId == "45251785700028")
        #expect(n.alias == "6af9d54d49794395bafb8a41941399e2")
        #expect(n.mode == .production)
        #expect(n.aliasStatus == .active)
        #expect(n.tokenStatus == .active)
        #expect(n.method == .visa)
        #expect(n.lastFour == "0114")
        #expect(n.cardExpiry == YearMonth(year: 2025, month: 9))
        #expect(n.source == .issuer)
        #expect(n.cancellationDate == nil)
        #expect(e.explicitTime == nil)
        #expect(!e.isSigned)
    }

    @Test func flatDottedKeysMeanTheSameAsNestedObjects() throws {
        let flat = """
            {"merchantLegalId": "45251785700028", "paymentMethodToken": "6af9d54d49794395bafb8a41941399e2",
             "mode": "PRODUCTION", "paymentMethodTokenStatus": "ACTIVE", "meansOfPayment.status": "ACTIVE",
             "meansOfPayment.method": "VISA", "card.lastFour": "0114", "card.expiryMonth": "09",
             "card.expiryYear": "2025", "source": "ISSUER"}
            """
        #expect(try envelope(flat).notification == envelope(guideNotification).notification)
        // Both at once agree: accepted; disagree: refused, naming the field.
        let both = guide(["card.lastFour": "0114"]).dropLast() + #", "card.lastFour": "0114"}"#
        #expect(try envelope(String(both)).notification.lastFour == "0114")
        let clash = guide([:]).dropLast() + #", "card.lastFour": "9999"}"#
        #expect(refusal(String(clash))?.field == "card.lastFour")
    }

    @Test func digitsMayComeAsNumbers() throws {
        let n = try envelope(guide(["card.expiryMonth": 9, "card.expiryYear": 2027])).notification
        #expect(n.cardExpiry == YearMonth(year: 2027, month: 9))
        #expect(refusal(guide(["card.expiryMonth": 9.5]))?.field == "card.expiryMonth")
        #expect(refusal(guide(["card.lastFour": true]))?.field == "card.lastFour")
        #expect(refusal(guide(["mode": ["PRODUCTION"]]))?.field == "mode")
    }

    /// 0 and 1 are numbers, not booleans (on Linux their NSNumber also casts to Bool); an alias
    /// or a status as a number is refused, and so is a number beyond 64 bits' signed range.
    @Test func zeroAndOneAreNumbersAndOnlyDigitFieldsTakeNumbers() throws {
        let january = try envelope(guide(["card.expiryMonth": 1, "card.expiryYear": 2030])).notification
        #expect(january.cardExpiry == YearMonth(year: 2030, month: 1))
        #expect(refusal(guide(["card.expiryMonth": 0]))?.message.contains("01 to 12") == true)
        #expect(refusal(guide(["card.expiryMonth": true]))?.message.contains("true or false") == true)
        #expect(refusal(#"{"card": {"expiryMonth": 1.0}}"#)?.message.contains("fraction") == true)
        #expect(refusal(#"{"card": {"expiryMonth": 1e0}}"#)?.message.contains("fraction") == true)
        let huge = refusal(#"{"paymentMethodToken": 18446744073709551615, "mode": "TEST"}"#)
        #expect(huge?.field == "paymentMethodToken" && huge?.message.contains("too large") == true)
        let alias = refusal(guide(["paymentMethodToken": 12]))
        #expect(alias?.field == "paymentMethodToken" && alias?.message.contains("got a number") == true)
        #expect(refusal(guide(["mode": 1]))?.field == "mode")
    }

    /// A time outside 2000–2099 is refused (the store writes four-digit years, and 9999-12-31
    /// at -01:00 is in year 10000 in UTC); a serverDate over a day after its reception too.
    @Test func timesAreBounded() throws {
        let far = refusal(guide(["serverDate": "9999-12-31T23:59:59-01:00"]))
        #expect(
            far?.field == "serverDate" && far?.message.contains("2000 to 2099") == true, "\(String(describing: far))")
        #expect(refusal(guide(["cancellationDate": "1999-12-31T23:59:59Z"]))?.field == "cancellationDate")
        #expect(refusal(guide(["cancellationDate": "2099-12-31T23:59:59+00:00"])) == nil)

        let received = Timestamp(rfc3339: "2026-12-01T10:00:00Z")!
        let skewed = try envelope(guide(["serverDate": "2026-12-02T09:59:00Z"]))
        try skewed.checkTime(receivedAt: received)
        let ahead = try envelope(guide(["serverDate": "2026-12-02T10:00:01Z"]))
        let late = #expect(throws: ITNError.self) { try ahead.checkTime(receivedAt: received) }
        #expect(late?.field == "serverDate")
        try envelope(guideNotification).checkTime(receivedAt: received)
    }

    /// A body sniffed (no content type): an array or a byte-order mark is JSON, not a form.
    @Test func sniffingTakesAnArrayOrAByteOrderMarkForJSON() throws {
        #expect(refusal("[1, 2]", contentType: nil)?.message == "the JSON document is not an object")
        let bom = "\u{FEFF}" + guideNotification
        #expect(try envelope(bom, contentType: nil).notification.alias == "6af9d54d49794395bafb8a41941399e2")
    }

    @Test(
        arguments: [
            ("paymentMethodToken", nil, "missing"),
            ("paymentMethodToken", "has space", "printable ASCII"),
            ("paymentMethodToken", String(repeating: "a", count: 51), "1 to 50"),
            ("mode", nil, "missing"),
            ("mode", "production", "TEST or PRODUCTION"),
            ("paymentMethodTokenStatus", nil, "missing"),
            ("paymentMethodTokenStatus", "SUSPENDED", "ACTIVE, CANCELLED"),
            ("meansOfPayment.status", nil, "missing"),
            ("meansOfPayment.status", "CLOSED", "ACTIVE, SUSPENDED, DELETED"),
            ("meansOfPayment.method", "AMEX", "CB, VISA, MASTERCARD"),
            ("source", "BANK", "ISSUER, GATEWAY"),
            ("merchantLegalId", "452517857", "14 digits"),
            ("card.lastFour", "114", "4 digits"),
            ("card.lastFour", "01a4", "4 digits"),
            ("card.expiryMonth", "13", "01 to 12"),
            ("card.expiryMonth", "00", "01 to 12"),
            ("card.expiryMonth", nil, "missing while card.expiryYear"),
            ("card.expiryYear", "25", "4 digits"),
            ("card.expiryYear", nil, "missing while card.expiryMonth"),
            ("cancellationDate", "2023-10-16", "yyyy-MM-dd'T'HH:mm:ssXXX"),
            ("serverDate", "16/10/2023 11:12:08", "RFC 3339"),
        ] as [(String, String?, String)])
    func eachFieldIsCheckedAndTheErrorNamesIt(field: String, value: String?, expected: String) {
        let error = refusal(guide([field: value]))
        #expect(error?.field == field, "\(field) = \(value ?? "nil")")
        #expect(error?.message.contains(expected) == true, "\(error?.description ?? "accepted")")
    }

    @Test func anErrorNeverQuotesTheAliasOrCardDetails() {
        let alias = "SECRETALIAS" + String(repeating: "x", count: 45)
        #expect(refusal(guide(["paymentMethodToken": alias]))?.description.contains("SECRET") == false)
        #expect(refusal(guide(["card.lastFour": "98765"]))?.description.contains("98765") == false)
    }

    @Test func unknownKeysAndNullsAreIgnored() throws {
        let n = try envelope(guide(["futureField": "x", "source": NSNull(), "card.extra": ["a": 1]])).notification
        #expect(n.source == nil)
        #expect(n.alias == "6af9d54d49794395bafb8a41941399e2")
    }

    @Test func cancellationDateInBothTheGuidesLayouts() throws {
        let iso = try envelope(
            guide(["paymentMethodTokenStatus": "CANCELLED", "cancellationDate": "2023-10-16T11:12:08+02:00"]))
        #expect(iso.notification.aliasStatus == .cancelled)
        #expect(iso.notification.cancellationDate?.rfc3339 == "2023-10-16T09:12:08.000Z")
        let example = try envelope(guide(["cancellationDate": "16/10/2023 11:12:08"]))
        #expect(example.notification.cancellationDate?.rfc3339 == "2023-10-16T11:12:08.000Z")
    }

    @Test func serverDateIsTheNotificationsOwnTime() throws {
        let e = try envelope(guide(["serverDate": "2026-11-03T10:15:00.250+01:00"]))
        #expect(e.explicitTime?.rfc3339 == "2026-11-03T09:15:00.250Z")
    }

    @Test func badBodies() {
        #expect(refusal("")?.description.contains("empty") == true)
        #expect(refusal("{not json")?.description == "not valid JSON")
        #expect(refusal("[1, 2]")?.description.contains("not an object") == true)
        let huge = "{\"a\": \"" + String(repeating: "x", count: ITNEnvelope.maximumSize) + "\"}"
        #expect(refusal(huge)?.description.contains("at most") == true)
    }

    @Test func contentTypeParametersAndSniffing() throws {
        #expect(
            try envelope(guideNotification, contentType: "application/json; charset=utf-8").notification.mode
                == .production)
        #expect(try envelope(guideNotification, contentType: nil).notification.mode == .production)
        #expect(try envelope(guideNotification, contentType: "text/plain").notification.mode == .production)
    }
}

@Suite struct ITNFormEnvelopeTests {
    static let key = Array("shop-hmac-key-0123".utf8)

    /// A form as the platform's IPN posts it: the JSON in kr-answer, its HMAC in kr-hash.
    static func form(
        _ json: String = guideNotification, key: [UInt8]? = ITNFormEnvelopeTests.key,
        hash: String? = nil, algorithm: String = "sha256_hmac"
    ) -> String {
        func escaped(_ s: String) -> String {
            s.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        }
        var fields = ["kr-answer=" + escaped(json), "kr-answer-type=V4%2FTokenNotification"]
        if let key {
            fields.append("kr-hash=" + (hash ?? ITNEnvelope.signature(of: Array(json.utf8), key: key)))
            fields.append("kr-hash-algorithm=" + algorithm)
        }
        return fields.joined(separator: "&")
    }

    @Test func theFormCarriesTheSameNotification() throws {
        let e = try envelope(Self.form(), contentType: "application/x-www-form-urlencoded")
        #expect(e.notification == (try envelope(guideNotification).notification))
        #expect(e.isSigned)
        #expect(e.signatureMatches(key: Self.key))
        #expect(!e.signatureMatches(key: Array("another key".utf8)))
        // Sniffed when no type is given (import lines).
        #expect(try envelope(Self.form(), contentType: nil).signatureMatches(key: Self.key))
    }

    @Test func aChangedAnswerOrHashNoLongerMatches() throws {
        let signed = ITNEnvelope.signature(of: Array(guideNotification.utf8), key: Self.key)
        let tampered = guideNotification.replacingOccurrences(of: "0114", with: "0115")
        let e = try envelope(Self.form(tampered, hash: signed), contentType: nil)
        #expect(!e.signatureMatches(key: Self.key))
        var flipped = Array(signed.utf8)
        flipped[0] = flipped[0] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let f = try envelope(Self.form(hash: String(decoding: flipped, as: UTF8.self)), contentType: nil)
        #expect(!f.signatureMatches(key: Self.key))
        #expect(!(try envelope(Self.form(hash: "zz"), contentType: nil)).signatureMatches(key: Self.key))
        #expect(!(try envelope(Self.form(key: nil), contentType: nil)).signatureMatches(key: Self.key))
        #expect(!(try envelope(Self.form(key: nil), contentType: nil)).isSigned)
    }

    @Test func formErrors() {
        #expect(refusal("kr-hash=00", contentType: nil)?.field == "kr-answer")
        #expect(refusal(Self.form(algorithm: "md5"), contentType: nil)?.field == "kr-hash-algorithm")
        #expect(refusal("kr-answer=%7&x=1", contentType: nil)?.description.contains("two hex digits") == true)
        #expect(refusal("kr-answer=a&kr-answer=b", contentType: nil)?.description.contains("twice") == true)
        #expect(refusal(Self.form("{\"mode\": \"TEST\"}"), contentType: nil)?.field == "paymentMethodToken")
    }
}

@Suite struct TimestampTests {
    @Test func rfc3339RoundTripsAndOffsetsApply() {
        #expect(Timestamp(rfc3339: "1970-01-01T00:00:00Z")?.milliseconds == 0)
        #expect(Timestamp(rfc3339: "2026-12-03T10:00:00.5Z")?.rfc3339 == "2026-12-03T10:00:00.500Z")
        #expect(Timestamp(rfc3339: "2026-12-03T10:00:00-0130")?.rfc3339 == "2026-12-03T11:30:00.000Z")
        #expect(Timestamp(rfc3339: "1969-12-31T23:59:59.999Z")?.milliseconds == -1)
        #expect(Timestamp(rfc3339: "1969-12-31T23:59:59.999Z")?.rfc3339 == "1969-12-31T23:59:59.999Z")
        #expect(
            Timestamp(rfc3339: "2026-12-03T10:00:00.123456789Z")?.milliseconds
                == Timestamp(rfc3339: "2026-12-03T10:00:00.123Z")?.milliseconds)
        for bad in [
            "2026-12-03T10:00:00", "2026-12-03T24:00:00Z", "2026-02-30T10:00:00Z", "2026-12-03T10:00:00+2:00",
            "2026-12-03T10:00:00.Z", "2026-12-03T10:00:00Zjunk", "garbage",
        ] {
            #expect(Timestamp(rfc3339: bad) == nil, "\(bad)")
        }
        let now = Timestamp.now()
        #expect(Timestamp(rfc3339: now.rfc3339) == now)
    }
}
