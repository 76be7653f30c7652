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
        contentType: String = "application/json"
    ) throws -> (status: Int, body: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var args = [
            "-s", "-S", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}", "-X", method,
            "http://127.0.0.1:\(port)\(path)",
        ]
        if let body { args += ["-H", "Content-Type: " + contentType, "--data-binary", body] }
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

    static func storedAliases(_ archive: String) throws -> [String] {
        var text = (try? String(contentsOfFile: archive + "/itn/notifications.jsonl", encoding: .utf8)) ?? ""
        // An unfinished last line (a kill during a write) was never acknowledged.
        if !text.isEmpty && !text.hasSuffix("\n") { text = String(text[...text.lastIndex(of: "\n")!]) }
        return try text.split(separator: "\n").map {
            let o = try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            return o["alias"] as! String
        }
    }

    @Test func answersEachKindOfRequestAndStoresWhatItAcknowledges() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try Server(archive: dir + "/a")
        defer {
            kill(server.running.pid, SIGKILL)
            _ = server.running.wait()
        }
        let health = try Self.curl(server.port, method: "GET", path: "/health")
        #expect(health.status == 200 && health.body.contains("ok"))
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
        let get = try Self.curl(server.port, method: "GET", path: "/itn")
        #expect(get.status == 405, "\(get)")
        // Concurrent posts: every 200 is in the store.
        let n = 40
        let port = server.port
        let statuses = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: n) { i in
            let status = (try? Self.curl(port, body: ITNImportTests.notification("CONC\(i)")))?.status ?? 0
            statuses.withLock { $0.append(status) }
        }
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: n))
        let stored = Set(try Self.storedAliases(server.archive))
        #expect(stored.isSuperset(of: (0..<n).map { "CONC\($0)" }) && stored.contains("SERVE1"))
        #expect(stored.count == n + 1)
        // One log line per request, with the alias masked.
        #expect(server.stderr.contains("outcome=stored"))
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
