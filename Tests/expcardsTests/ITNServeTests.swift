import ExpCardsCore
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `itn serve` through the built binary, on a loopback port, with curl as the HTTP client.
@Suite(.serialized) struct ITNServeTests {
    /// A running server and the port it bound (it is started on port 0 and says which).
    final class Server {
        let running: CLI.Running
        let port: Int
        let archive: String

        init(archive: String, extra: [String] = []) throws {
            self.archive = archive
            running = try CLI.spawn(["itn", "serve", "--listen", "127.0.0.1:0", "--archive", archive] + extra)
            let deadline = Date().addingTimeInterval(60)
            var found: Int?
            while found == nil && Date() < deadline {
                let text = (try? String(contentsOfFile: running.dir + "/stderr", encoding: .utf8)) ?? ""
                if let r = text.range(of: #"listening on 127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                    found = Int(text[r].split(separator: ":").last!)
                } else {
                    usleep(50_000)
                }
            }
            port = try #require(found, "the server did not say where it listens")
        }

        var stderr: String { (try? String(contentsOfFile: running.dir + "/stderr", encoding: .utf8)) ?? "" }
    }

    /// curl's status code and body for one request.
    static func curl(
        _ port: Int, method: String = "POST", path: String = "/itn", body: String? = nil,
        contentType: String = "application/json", headers: [String] = [], extra: [String] = []
    ) throws -> (status: Int, body: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var args = [
            "-s", "-S", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}", "-X", method,
            "http://127.0.0.1:\(port)\(path)",
        ]
        if let body { args += ["-H", "Content-Type: " + contentType, "--data-binary", body] }
        for header in headers { args += ["-H", header] }
        args += extra
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// The aliases in the store, read as `report` reads it (through the core): an unfinished last
    /// line (a kill during a write, never acknowledged) is left out there too.
    static func storedAliases(_ archive: String) throws -> [String] {
        guard let store = try NotificationStore.open(archiveRoot: archive, create: false) else { return [] }
        var aliases: [String] = []
        var problems: [NotificationStore.Problem] = []
        try store.read { result in
            switch result {
            case .success(let r): aliases.append(r.notification.alias)
            case .failure(let p): problems.append(p)
            }
        }
        #expect(problems.isEmpty, "\(problems)")
        return aliases
    }

    /// A client that sends `head` and then stalls, holding its connection open.
    static func stalledClient(_ port: Int, head: String) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(connected == 0)
        _ = head.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        return fd
    }

    @Test func answersEachKindOfRequestAndStoresWhatItAcknowledges() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try Server(archive: dir + "/a")
        defer {
            kill(server.running.pid, SIGKILL)
            _ = server.running.wait()
        }
        // Behind the proxy: the platform's address from X-Real-IP, logged; a header that is no
        // address is not believed.
        let proxied = try Self.curl(
            server.port, body: ITNImportTests.notification("PROXIED1"), headers: ["X-Real-IP: 194.50.38.7"])
        #expect(proxied.status == 200, "\(proxied)")
        _ = try Self.curl(
            server.port, body: ITNImportTests.notification("PROXIED2"), headers: ["X-Forwarded-For: <b>x</b>, 10.0.0.1"]
        )
        let health = try Self.curl(server.port, method: "GET", path: "/health")
        #expect(health.status == 200 && health.body.contains("ok"))
        #expect(try Self.curl(server.port, method: "HEAD", path: "/health", extra: ["--head"]).status == 200)
        let good = try Self.curl(server.port, body: ITNImportTests.notification("SERVE1", token: "SUSPENDED"))
        #expect(good.status == 200 && good.body.contains("stored"), "\(good)")
        let again = try Self.curl(
            server.port, path: "/", body: ITNImportTests.notification("SERVE1", token: "SUSPENDED"))
        #expect(again.status == 200 && again.body.contains("duplicate"), "\(again)")
        let bad = try Self.curl(server.port, body: #"{"paymentMethodToken": "X", "mode": "LIVE"}"#)
        #expect(bad.status == 400 && bad.body.contains("mode: expected TEST or PRODUCTION"), "\(bad)")
        let notJSON = try Self.curl(server.port, body: "{oops")
        #expect(notJSON.status == 400, "\(notJSON)")
        let huge = try Self.curl(server.port, body: "{\"a\": \"" + String(repeating: "x", count: 70_000) + "\"}")
        #expect(huge.status == 413, "\(huge)")
        for method in ["GET", "PUT", "DELETE", "OPTIONS"] {
            let other = try Self.curl(server.port, method: method, path: "/itn")
            #expect(other.status == 405, "\(method): \(other)")
        }
        // Concurrent posts, 40 clients at once (not limited to the cores): every 200 is stored.
        let n = 40
        let port = server.port
        let statuses = Mutex<[Int]>([])
        let group = DispatchGroup()
        for i in 0..<n {
            DispatchQueue.global().async(group: group) {
                let status = (try? Self.curl(port, body: ITNImportTests.notification("CONC\(i)")))?.status ?? 0
                statuses.withLock { $0.append(status) }
            }
        }
        group.wait()
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: n))
        let stored = Set(try Self.storedAliases(server.archive))
        #expect(stored.isSuperset(of: (0..<n).map { "CONC\($0)" }) && stored.contains("SERVE1"))
        #expect(stored.count == n + 3)
        // One log line per request, its method and a one-word outcome, with the alias masked.
        let log = server.stderr
        #expect(log.contains("method=POST") && log.contains("outcome=stored") && log.contains("outcome=duplicate"))
        #expect(log.contains("outcome=refused") && log.contains("outcome=too_large"))
        #expect(log.contains("method=OPTIONS") && log.contains("outcome=method_not_allowed"))
        #expect(log.contains("client=194.50.38.7") && log.contains("client=127.0.0.1") && !log.contains("<b>"))
        #expect(!server.stderr.contains("SERVE1") && server.stderr.contains("alias=SERV…"))
        // SIGTERM: a clean exit.
        kill(server.running.pid, SIGTERM)
        let end = server.running.wait(timeout: 30)
        #expect(end.status == 0, "\(end)")
    }

    @Test func signaturesAreRequiredWhenAKeyIsConfigured() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "k3y-for-tests\n".write(toFile: dir + "/key", atomically: true, encoding: .utf8)
        chmod(dir + "/key", 0o600)
        let server = try Server(archive: dir + "/a", extra: ["--hmac-key-file", dir + "/key"])
        defer {
            kill(server.running.pid, SIGKILL)
            _ = server.running.wait()
        }
        let json = ITNImportTests.notification("SIGNED1")
        let unsigned = try Self.curl(server.port, body: json)
        #expect(unsigned.status == 401, "\(unsigned)")
        let hash = try ITNImportTests().hmac(json, key: "k3y-for-tests")
        let form =
            "kr-answer=" + json.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            + "&kr-hash=" + hash + "&kr-hash-algorithm=sha256_hmac&kr-answer-type=V4"
        let signed = try Self.curl(server.port, body: form, contentType: "application/x-www-form-urlencoded")
        #expect(signed.status == 200, "\(signed)")
        let wrong = try Self.curl(
            server.port,
            body: form.replacingOccurrences(of: "kr-hash=" + hash, with: "kr-hash=" + String(hash.reversed())),
            contentType: "application/x-www-form-urlencoded")
        #expect(wrong.status == 401, "\(wrong)")
        #expect(try Self.storedAliases(server.archive) == ["SIGNED1"])
        #expect(!server.stderr.contains("k3y-for-tests"))
    }

    /// A client that stalls mid-body is cut after the idle timeout, so a SIGTERM still ends the
    /// server promptly and cleanly; what was stored before stays.
    @Test func aStalledClientDoesNotHoldTheShutdown() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try Server(archive: dir + "/a", extra: ["--idle-timeout", "2"])
        defer {
            kill(server.running.pid, SIGKILL)
            _ = server.running.wait()
        }
        #expect(try Self.curl(server.port, body: ITNImportTests.notification("BEFORE")).status == 200)
        let fd = try Self.stalledClient(
            server.port,
            head: "POST /itn HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"pay"
        )
        defer { close(fd) }
        usleep(300_000)
        let started = Date()
        kill(server.running.pid, SIGTERM)
        let end = server.running.wait(timeout: 30)
        #expect(end.status == 0, "\(end)")
        // Within the idle timeout and a margin, not the 30 s of the wait.
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(end.stderr.contains("outcome=aborted"), "\(end)")
        #expect(try Self.storedAliases(server.archive) == ["BEFORE"])
    }

    /// An address already in use: exit 69 (EX_UNAVAILABLE) with the address named.
    @Test func anAddressInUseExitsUnavailable() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try Server(archive: dir + "/a")
        defer {
            kill(first.running.pid, SIGKILL)
            _ = first.running.wait()
        }
        let second = try CLI.spawn(["itn", "serve", "--listen", "127.0.0.1:\(first.port)", "--archive", dir + "/b"])
        let end = second.wait(timeout: 60)
        #expect(end.status == 69, "\(end)")
        #expect(end.stderr.contains("cannot serve on 127.0.0.1:\(first.port)"), "\(end)")
    }

    /// The store shared by separate processes at once: `itn serve` answering curl clients, two
    /// `itn import` loops, `report` runs reading, and a `prune` that rewrites the file under
    /// them. Nothing acknowledged or imported is lost or written twice, the pruned months are
    /// gone, and neither `report` nor `verify` finds a damaged line.
    @Test func serveImportReportAndPruneShareTheStore() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let archive = dir + "/a"
        // Old notifications, two per alias: the prune removes the first of each while the others
        // are written, and keeps the second (an alias's latest is kept whatever its age).
        let old = (0..<50).flatMap {
            [
                ITNImportTests.notification("OLD\($0)", token: "SUSPENDED", serverDate: "2020-01-01T10:00:00Z"),
                ITNImportTests.notification("OLD\($0)", serverDate: "2020-02-01T10:00:00Z"),
            ]
        }
        try (old.joined(separator: "\n") + "\n").write(toFile: dir + "/old", atomically: true, encoding: .utf8)
        #expect(try CLI.run(["itn", "import", "--archive", archive, dir + "/old"]).status == 0)
        let file = dir + "/202612.EXP_CARDS.ENS.P.csv"
        try Samples.company(month: "202612", aliases: [("POST0x0", "20261231"), ("IMP0x0", "20261231")])
            .write(toFile: file, atomically: true, encoding: .utf8)

        let server = try Server(archive: archive)
        let port = server.port
        let acknowledged = Mutex<[String]>([])
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        // The posters stop halfway until the prune is done, so the server, whose file the prune
        // replaced, has to write its second half into the new one.
        let pruned = DispatchSemaphore(value: 0)
        for worker in 0..<3 {
            DispatchQueue.global().async(group: group) {
                for i in 0..<60 {
                    if i == 30 { pruned.wait() }
                    let alias = "POST\(worker)x\(i)"
                    let r = try? Self.curl(port, body: ITNImportTests.notification(alias, token: "SUSPENDED"))
                    if r?.status == 200 {
                        acknowledged.withLock { $0.append(alias) }
                    } else {
                        failures.withLock { $0.append("\(alias): \(String(describing: r))") }
                    }
                }
            }
        }
        for worker in 0..<2 {
            DispatchQueue.global().async(group: group) {
                for round in 0..<6 {
                    let lines = (0..<40).map { ITNImportTests.notification("IMP\(worker)x\(round)x\($0)") }
                    let path = dir + "/in\(worker)x\(round)"
                    let r = Result {
                        try (lines.joined(separator: "\n") + "\n").write(
                            toFile: path, atomically: true, encoding: .utf8)
                        return try CLI.run(["itn", "import", "--archive", archive, path])
                    }
                    if case .success(let run) = r, run.status == 0, run.stderr.contains("40 stored, 0 duplicates") {
                        continue
                    }
                    failures.withLock { $0.append("import \(worker)/\(round): \(r)") }
                }
            }
        }
        DispatchQueue.global().async(group: group) {
            let deadline = Date().addingTimeInterval(60)
            while acknowledged.withLock({ $0.count }) + failures.withLock({ $0.count }) < 90 && Date() < deadline {
                usleep(5_000)
            }
            let r = Result { try CLI.run(["prune", "--archive", archive, "--older-than", "1"]) }
            if case .success(let p) = r, p.status == 0, p.stdout.contains("50 network notifications") {
            } else {
                failures.withLock { $0.append("prune: \(r)") }
            }
            for _ in 0..<3 { pruned.signal() }
        }
        DispatchQueue.global().async(group: group) {
            for round in 0..<6 {
                let r = Result {
                    try CLI.run(["report", "--archive", archive, "--format", "json", file])
                }
                guard case .success(let run) = r, run.status == 0,
                    let object = try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
                    let network = object["network"] as? [String: Any],
                    (network["problems"] as? [Any])?.isEmpty == true
                else {
                    failures.withLock { $0.append("report \(round): \(r)") }
                    continue
                }
            }
        }
        group.wait()
        kill(server.running.pid, SIGTERM)
        #expect(server.running.wait(timeout: 30).status == 0)
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")

        let stored = try Self.storedAliases(archive)
        let imported = (0..<2).flatMap { w in (0..<6).flatMap { r in (0..<40).map { "IMP\(w)x\(r)x\($0)" } } }
        let expected = acknowledged.withLock { $0 } + imported + (0..<50).map { "OLD\($0)" }
        #expect(expected.count == 3 * 60 + 2 * 6 * 40 + 50)
        let missing = Set(expected).subtracting(stored).sorted()
        #expect(
            missing.isEmpty,
            "acknowledged or imported but not in the store: \(missing.count), e.g. \(missing.prefix(5))")
        #expect(stored.count == Set(stored).count, "some notifications were written twice")
        #expect(Set(stored) == Set(expected), "the store holds others: \(Set(stored).subtracting(expected).prefix(5))")
        let verify = try CLI.run(["verify", "--archive", archive])
        #expect(verify.status == 0 && verify.stdout.contains("\(expected.count) notifications"), "\(verify)")
    }

    /// SIGKILL while clients post: every notification answered 200 is in the store. This proves
    /// the append is written before the answer (a killed process loses nothing it acknowledged);
    /// the fsync that protects against a power cut is not something a test can observe.
    @Test func aKillMidStreamLosesNothingThatWasAcknowledged() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try Server(archive: dir + "/a")
        let acknowledged = Mutex<[String]>([])
        let port = server.port
        let group = DispatchGroup()
        for worker in 0..<4 {
            DispatchQueue.global().async(group: group) {
                for i in 0..<200 {
                    let alias = "KILL\(worker)x\(i)"
                    guard let r = try? Self.curl(port, body: ITNImportTests.notification(alias)) else { return }
                    if r.status == 200 {
                        acknowledged.withLock { $0.append(alias) }
                    } else if r.status == 0 {
                        return
                    }
                }
            }
        }
        // Kill once a good number were acknowledged, while the others are in flight.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if acknowledged.withLock({ $0.count }) >= 40 { break }
            usleep(5_000)
        }
        kill(server.running.pid, SIGKILL)
        group.wait()
        _ = server.running.wait()
        let acked = acknowledged.withLock { $0 }
        #expect(acked.count >= 40)
        let stored = Set(try Self.storedAliases(server.archive))
        let lost = acked.filter { !stored.contains($0) }
        #expect(lost.isEmpty, "acknowledged but not stored: \(lost)")
    }
}
