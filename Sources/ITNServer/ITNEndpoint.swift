import Dispatch
import ExpCardsCore
import Hummingbird
import Logging
import NIOCore

/// The HTTP endpoint the platform posts its ITN notifications to (behind the merchant's TLS
/// reverse proxy): `POST /` or `POST /itn`, and `GET /health`.
///
/// Each accepted notification is appended to the store, which fsyncs, before the answer is
/// sent: a 200 means the notification is on disk. Malformed input gets a 400 with the reason,
/// a failed signature a 401, a body over `ITNEnvelope.maximumSize` a 413. The platform does not
/// retry, so every answer is final; the log line of each request says what became of it.
/// The request's context: Hummingbird's, plus the peer's address for the log.
struct ITNRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Who sent it, for the log: the proxy's `X-Real-IP` (or the first `X-Forwarded-For`) when
    /// the peer is the local proxy, else the peer itself. Only logged, never trusted for access:
    /// the proxy is where the platform's addresses are allowed.
    func client(_ request: Request) -> String {
        let peer = remoteAddress?.ipAddress ?? "?"
        let local = peer == "127.0.0.1" || peer == "::1" || peer.hasPrefix("::ffff:127.")
        if local,
            let forwarded = request.headers[.init("X-Real-IP")!]
                ?? request.headers[.init("X-Forwarded-For")!]?.split(separator: ",").first.map(String.init)
        {
            let address = forwarded.filter { $0 != " " && $0 != "\t" }
            // An address is short and plain; anything else is not worth a log line's trust.
            if address.count <= 45, address.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) {
                return address
            }
        }
        return peer
    }
}

public struct ITNEndpoint: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// When set, every notification must be a form whose kr-hash matches it.
        public var hmacKey: [UInt8]?
        /// How long a connection may stay silent (mid-request or between requests) before it is
        /// closed: a stalled client neither holds a connection for ever nor delays a shutdown
        /// longer than this.
        public var idleTimeout: Duration

        public init(host: String, port: Int, hmacKey: [UInt8]?, idleTimeout: Duration = .seconds(30)) {
            self.host = host
            self.port = port
            self.hmacKey = hmacKey
            self.idleTimeout = idleTimeout
        }
    }

    let configuration: Configuration
    let store: NotificationStore
    let logger: Logger
    /// The store's append is blocking file I/O with an fsync: it runs here, never on an event loop.
    let writer = DispatchQueue(label: "expcards.itn.store")

    public init(configuration: Configuration, store: NotificationStore, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
    }

    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight and returns.
    /// `onListening` is called with the bound port (useful with port 0).
    public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        let router = Router(context: ITNRequestContext.self)
        // Up, and the store can take a notification: what a monitor should poll.
        // HEAD too: some monitors probe with it (Hummingbird sends the headers without the body).
        for method in [HTTPRequest.Method.get, .head] {
            router.on("/health", method: method) { [store] _, _ -> Response in
                if let problem = store.unhealthy() {
                    return Self.answer(.serviceUnavailable, #"{"status": "unavailable", "reason": "\#(problem)"}"#)
                }
                return Self.answer(.ok, #"{"status": "ok"}"#)
            }
        }
        for path in ["/", "/itn"] {
            router.post(RouterPath(path)) { request, context -> Response in
                try await self.receive(request, context: context)
            }
            for method in [HTTPRequest.Method.get, .head, .put, .delete, .patch, .options, .trace] {
                router.on(RouterPath(path), method: method) { request, context -> Response in
                    self.logRequest(
                        request, context: context, .methodNotAllowed, outcome: "method_not_allowed", since: .now)
                    var r = Self.answer(.methodNotAllowed, #"{"error": "POST only"}"#)
                    r.headers[.allow] = "POST"
                    return r
                }
            }
        }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let (seconds, attoseconds) = configuration.idleTimeout.components
        let idle = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: idle)),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: quiet)
        try await app.runService()
    }

    /// One log line per request: its method and path, the answer's status, what became of it
    /// (one word: `stored`, `duplicate`, `refused`, `bad_signature`, `too_large`, …), the time
    /// taken and the alias's first characters.
    func logRequest(
        _ request: Request, context: ITNRequestContext, _ status: HTTPResponse.Status?, outcome: String,
        alias: String? = nil, since started: ContinuousClock.Instant
    ) {
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        var metadata: Logger.Metadata = [
            "client": "\(context.client(request))",
            "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "outcome": "\(outcome)",
            "ms": "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000)",
        ]
        if let status { metadata["status"] = "\(status.code)" }
        if let alias { metadata["alias"] = "\(Self.masked(alias))" }
        logger.notice("request", metadata: metadata)
    }

    func receive(_ request: Request, context: ITNRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        func done(_ status: HTTPResponse.Status, _ outcome: String, alias: String? = nil, _ body: String) -> Response {
            logRequest(request, context: context, status, outcome: outcome, alias: alias, since: started)
            return Self.answer(status, body)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: ITNEnvelope.maximumSize)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return done(
                .contentTooLarge, "too_large", #"{"error": "the body is over \#(ITNEnvelope.maximumSize) bytes"}"#)
        } catch {
            // The client went away (or stalled past the idle timeout) mid-body: nobody to answer.
            logRequest(request, context: context, nil, outcome: "aborted", since: started)
            throw error
        }
        let bytes = Array(buffer.readableBytesView)
        let envelope: ITNEnvelope
        let receivedAt = Timestamp.now()
        do {
            envelope = try ITNEnvelope.parse(bytes, contentType: request.headers[.contentType])
            try envelope.checkTime(receivedAt: receivedAt)
        } catch {
            return done(.badRequest, "refused", Self.errorBody(error.description))
        }
        let alias = envelope.notification.alias
        if let key = configuration.hmacKey, !envelope.signatureMatches(key: key) {
            return done(
                .unauthorized, "bad_signature", alias: alias,
                Self.errorBody(envelope.isSigned ? "kr-hash does not match" : "unsigned: a kr-hash is required"))
        }
        let incoming = NotificationStore.Incoming(
            envelope: envelope, receivedAt: receivedAt, via: .serve, signed: configuration.hmacKey != nil)
        let outcome: NotificationStore.Outcome
        do {
            outcome = try await append(incoming)
        } catch {
            logger.error("cannot store a notification: \(error)")
            return done(.serviceUnavailable, "not_stored", alias: alias, #"{"error": "not stored"}"#)
        }
        switch outcome {
        case .stored(let id): return done(.ok, "stored", alias: alias, #"{"status": "stored", "id": "\#(id)"}"#)
        case .duplicate(let id):
            return done(.ok, "duplicate", alias: alias, #"{"status": "duplicate", "id": "\#(id)"}"#)
        }
    }

    private func append(_ incoming: NotificationStore.Incoming) async throws -> NotificationStore.Outcome {
        try await withCheckedThrowingContinuation { continuation in
            writer.async { [store] in
                do {
                    continuation.resume(returning: try store.append([incoming])[0])
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    static func answer(_ status: HTTPResponse.Status, _ json: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: json + "\n")))
    }

    static func errorBody(_ reason: String) -> String {
        var escaped = ""
        for scalar in reason.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value > 0x7E: escaped += "?"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return #"{"error": "\#(escaped)"}"#
    }

    /// An alias in a log line: its first four characters, enough to tell lines apart.
    static func masked(_ alias: String) -> String { String(alias.prefix(4)) + "…" }
}
