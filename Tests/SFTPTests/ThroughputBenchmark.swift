import Foundation
import Logging
import SFTP
import SSHTestSupport
import Testing

/// 256 MiB from the local sshd: this client against OpenSSH's `sftp -c aes128-ctr`, both
/// writing to a file. Off by default (about a minute); run it with
/// `SFTP_BENCHMARK=1 swift test -c release --filter ThroughputBenchmark`.
@Suite("Throughput", .enabled(if: ProcessInfo.processInfo.environment["SFTP_BENCHMARK"] != nil, "set SFTP_BENCHMARK=1"))
struct ThroughputBenchmark {
    @Test("256 MiB: SFTPClient vs OpenSSH sftp")
    func compare() throws {
        let size = 256 << 20
        let rounds = Int(ProcessInfo.processInfo.environment["SFTP_BENCHMARK_ROUNDS"] ?? "5") ?? 5
        let server = try TestSSHServer()
        defer { server.stop() }
        let source = try server.writeRandomFile("BENCH.bin", size: size)
        let reference = try TestSSHServer.sha256(ofFile: source)
        let output = server.workDirectory + "/bench.out"

        func rate(_ body: () throws -> Void) rethrows -> Double {
            unlink(output)
            let start = Date()
            try body()
            return Double(size) / Date().timeIntervalSince(start) / 1e6
        }
        var ours: [Double] = []
        var openssh: [Double] = []
        for _ in 0..<rounds {
            openssh.append(
                try rate {
                    try TestSSHServer.run(
                        "/usr/bin/sftp",
                        [
                            "-q", "-c", "aes128-ctr", "-i", server.userPrivateKeyPath, "-o", "BatchMode=yes",
                            "-o", "UserKnownHostsFile=\(server.knownHostsPath)", "-P", String(server.port),
                            "\(server.username)@\(server.host):BENCH.bin", output,
                        ])
                })
            #expect(try TestSSHServer.sha256(ofFile: output) == reference)
            ours.append(
                try rate {
                    let client = try server.connect(timeout: 30)
                    try download(client, "BENCH.bin", to: output)
                    client.close()
                })
            #expect(try TestSSHServer.sha256(ofFile: output) == reference)
        }
        let median = { (values: [Double]) in values.sorted()[values.count / 2] }
        print(
            "256 MiB, \(rounds) rounds, MB/s — SFTPClient median \(Int(median(ours))) \(ours.map { Int($0) }); "
                + "OpenSSH sftp median \(Int(median(openssh))) \(openssh.map { Int($0) })")
        #expect(median(ours) >= 0.9 * median(openssh))
    }
}
