import Crypto
import Foundation

/// One line of the store: a notification, when and how it came, and its identity.
public struct NotificationRecord: Sendable, Hashable {
    public var notification: TokenNotification
    /// When expcards received it (`itn serve`) or imported it.
    public var receivedAt: Timestamp
    /// The document's own time when it has one, else `receivedAt`: what "latest" orders by.
    public var notifiedAt: Timestamp
    /// Whether `notifiedAt` is the document's own (`serverDate`) time.
    public var timeIsExplicit: Bool
    public var via: NotificationStore.Via
    /// Whether its signature was checked and matched.
    public var signed: Bool
    /// SHA-256 (hex) of the notification's fields and, when explicit, its time: the same
    /// notification twice has the same id.
    public var id: String

    public init(
        notification: TokenNotification, receivedAt: Timestamp, explicitTime: Timestamp?, via: NotificationStore.Via,
        signed: Bool
    ) {
        self.notification = notification
        self.receivedAt = receivedAt
        self.notifiedAt = explicitTime ?? receivedAt
        self.timeIsExplicit = explicitTime != nil
        self.via = via
        self.signed = signed
        self.id = Self.identity(notification, explicitTime: explicitTime)
    }

    /// The fields in a fixed order, separated by a byte no field may hold.
    static func identity(_ n: TokenNotification, explicitTime: Timestamp?) -> String {
        let parts: [String] = [
            "itn1", n.merchantLegalId ?? "", n.alias, n.mode.itnMode, n.aliasStatus.rawValue,
            n.cancellationDate.map { String($0.milliseconds) } ?? "", n.tokenStatus.rawValue, n.method?.rawValue ?? "",
            n.lastFour ?? "", n.cardExpiry?.description ?? "", n.source?.rawValue ?? "",
            explicitTime.map { String($0.milliseconds) } ?? "",
        ]
        return Hex.encode(Array(SHA256.hash(data: Array(parts.joined(separator: "\u{1F}").utf8))))
    }

    // MARK: The line

    /// The store's line: a JSON object with sorted keys, every key present, and a newline.
    var line: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(480)
        let w = JSONWriter(flushAt: Int.max / 2) { out += $0 }
        write(to: w)
        w.finish()
        return out
    }

    /// Writes the store's line to `w` (one writer for a whole batch: no buffer per field).
    func write(to w: JSONWriter) {
        let n = notification
        w.raw("{\"alias\": ")
        w.string(n.alias)
        w.raw(", \"aliasStatus\": ")
        w.string(n.aliasStatus.rawValue)
        w.raw(", \"cancellationDate\": ")
        w.string(n.cancellationDate?.rfc3339)
        w.raw(", \"cardExpiry\": ")
        w.string(n.cardExpiry?.description)
        w.raw(", \"id\": ")
        w.string(id)
        w.raw(", \"lastFour\": ")
        w.string(n.lastFour)
        w.raw(", \"merchantLegalId\": ")
        w.string(n.merchantLegalId)
        w.raw(", \"method\": ")
        w.string(n.method?.rawValue)
        w.raw(", \"mode\": ")
        w.string(n.mode.itnMode)
        w.raw(", \"notifiedAt\": ")
        w.string(notifiedAt.rfc3339)
        w.raw(", \"receivedAt\": ")
        w.string(receivedAt.rfc3339)
        w.raw(signed ? ", \"signed\": true" : ", \"signed\": false")
        w.raw(", \"source\": ")
        w.string(n.source?.rawValue)
        w.raw(timeIsExplicit ? ", \"timeIsExplicit\": true" : ", \"timeIsExplicit\": false")
        w.raw(", \"tokenStatus\": ")
        w.string(n.tokenStatus.rawValue)
        w.raw(", \"via\": ")
        w.string(via.rawValue)
        w.raw("}\n")
    }

    /// The line's keys, in the order `write(to:)` writes them.
    static let lineKeys = [
        "alias", "aliasStatus", "cancellationDate", "cardExpiry", "id", "lastFour", "merchantLegalId", "method",
        "mode", "notifiedAt", "receivedAt", "signed", "source", "timeIsExplicit", "tokenStatus", "via",
    ]
    /// `"key": ` and `, "key": `, made once.
    private static let keyBytes: [[UInt8]] = lineKeys.enumerated().map { i, k in
        Array(((i == 0 ? "{" : ", ") + "\"" + k + "\": ").utf8)
    }

    /// A line's values by key (`lineKeys`' order): text, or a Bool for `signed` and
    /// `timeIsExplicit`; nil for null or absent.
    struct LineValues {
        var values = [Any?](repeating: nil, count: NotificationRecord.lineKeys.count)
        func text(_ k: Int) -> String? { values[k] as? String }
    }

    /// Reads a line the store wrote, checking that its id matches its content. The error says
    /// what is wrong, never the line.
    init(line: ArraySlice<UInt8>) throws(ITNError) {
        if let values = Self.lineValuesFast(line) {
            try self.init(values: values)
        } else {
            try self.init(values: try Self.lineValuesJSON(line))
        }
    }

    /// The store's own layout read directly: it is written by `write(to:)` only, keys in a fixed
    /// order, so a report reading a million lines need not build a JSON object per line (5 times
    /// faster than JSONSerialization here). Nil at the first byte that is not that layout (an
    /// escape, another order, another writer): `lineValuesJSON` then reads the line.
    static func lineValuesFast(_ line: ArraySlice<UInt8>) -> LineValues? {
        line.withUnsafeBufferPointer { b -> LineValues? in
            var values = LineValues()
            var i = 0
            func expect(_ literal: [UInt8]) -> Bool {
                guard b.count - i >= literal.count else { return false }
                for (k, byte) in literal.enumerated() where b[i + k] != byte { return false }
                i += literal.count
                return true
            }
            for k in 0..<keyBytes.count {
                guard expect(keyBytes[k]), i < b.count else { return nil }
                switch b[i] {
                case UInt8(ascii: "\""):
                    let start = i + 1
                    var end = start
                    while end < b.count, b[end] != UInt8(ascii: "\"") {
                        if b[end] == UInt8(ascii: "\\") || b[end] < 0x20 { return nil }
                        end += 1
                    }
                    guard end < b.count else { return nil }
                    values.values[k] = String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
                    i = end + 1
                case UInt8(ascii: "n"): guard expect(Array("null".utf8)) else { return nil }
                case UInt8(ascii: "t"):
                    guard expect(Array("true".utf8)) else { return nil }
                    values.values[k] = true
                case UInt8(ascii: "f"):
                    guard expect(Array("false".utf8)) else { return nil }
                    values.values[k] = false
                default: return nil
                }
            }
            guard expect([UInt8(ascii: "}")]), i == b.count else { return nil }
            return values
        }
    }

    /// Any JSON object: what the fast path does not read.
    static func lineValuesJSON(_ line: ArraySlice<UInt8>) throws(ITNError) -> LineValues {
        let object: [String: Any]
        do {
            guard let o = try JSONSerialization.jsonObject(with: Data(line), options: []) as? [String: Any] else {
                throw ITNError("not a JSON object")
            }
            object = o
        } catch let e as ITNError {
            throw e
        } catch {
            throw ITNError("not valid JSON")
        }
        var values = LineValues()
        for (k, key) in lineKeys.enumerated() {
            switch object[key] {
            case let s as String: values.values[k] = s
            case let b as Bool: values.values[k] = b
            default: break
            }
        }
        return values
    }

    private init(values v: LineValues) throws(ITNError) {
        func index(_ k: String) -> Int { Self.lineKeys.firstIndex(of: k)! }
        func text(_ k: String) -> String? { v.text(index(k)) }
        func need<T>(_ k: String, _ value: T?) throws(ITNError) -> T {
            guard let value else { throw ITNError(field: k, "missing or not valid") }
            return value
        }
        var n = TokenNotification(
            alias: try need("alias", text("alias")),
            mode: try need("mode", text("mode").flatMap(Environment.init(itnMode:))),
            aliasStatus: try need("aliasStatus", text("aliasStatus").flatMap(TokenNotification.AliasStatus.init)),
            tokenStatus: try need("tokenStatus", text("tokenStatus").flatMap(TokenNotification.TokenStatus.init)))
        n.merchantLegalId = text("merchantLegalId")
        n.method = text("method").flatMap(TokenNotification.Method.init)
        n.source = text("source").flatMap(TokenNotification.Source.init)
        n.lastFour = text("lastFour")
        n.cardExpiry = text("cardExpiry").flatMap { YearMonth($0) }
        if let c = text("cancellationDate") {
            n.cancellationDate = try need("cancellationDate", Timestamp(rfc3339: c))
        }
        let received = try need("receivedAt", text("receivedAt").flatMap { Timestamp(rfc3339: $0) })
        let notified = try need("notifiedAt", text("notifiedAt").flatMap { Timestamp(rfc3339: $0) })
        let explicit = try need("timeIsExplicit", v.values[index("timeIsExplicit")] as? Bool)
        self.init(
            notification: n, receivedAt: received, explicitTime: explicit ? notified : nil,
            via: try need("via", text("via").flatMap(NotificationStore.Via.init)),
            signed: try need("signed", v.values[index("signed")] as? Bool))
        guard text("id") == id else {
            throw ITNError(field: "id", "does not match the notification's content (the line was changed)")
        }
    }
}
