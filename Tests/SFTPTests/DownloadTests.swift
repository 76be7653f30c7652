import Foundation
import SFTP
import SSHTestSupport
import Testing

@Suite("Downloads against a real sshd")
struct DownloadTests {
    @Test("each fixture downloads with its exact content")
    func fixtures() throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try server.connect()
        defer { client.close() }

        #expect(try collect(client, server.remotePath("/ROOT/expired/ROOT_20260101.txt")) == Array("root file\n".utf8))
        #expect(
            try collect(client, server.remotePath("/ROOT/expired/ROOT_20260102.txt"))
                == Array(String(repeating: "x", count: 100_000).utf8))
        #expect(try collect(client, "shop1/expired/SHOP1_20260101.txt") == Array("shop one\n".utf8))
        #expect(try collect(client, "shop2/expired/SHOP2_20260101.txt") == Array("shop two\n".utf8))
        #expect(try collect(client, "shop2/expired/empty.txt") == [])
        #expect(try client.download("shop2/expired/empty.txt") { _ in } == 0)
    }

    @Test("a 64 MiB file arrives byte-identical (SHA-256)")
    func largeFile() throws {
        let server = try makeServer()
        defer { server.stop() }
        let local = try server.writeRandomFile("shop1/expired/BIG.bin", size: 64 << 20)
        let client = try server.connect()
        defer { client.close() }

        let copy = server.workDirectory + "/BIG.copy"
        #expect(try download(client, "shop1/expired/BIG.bin", to: copy) == 64 << 20)
        #expect(try TestSSHServer.sha256(ofFile: copy) == TestSSHServer.sha256(ofFile: local))
    }

    @Test("a transfer stopped by the sink resumes from an offset, and the session stays usable")
    func resume() throws {
        let server = try makeServer()
        defer { server.stop() }
        let size = 9 << 20 + 12_345
        let local = try server.writeRandomFile("shop1/expired/PART.bin", size: size)
        let client = try server.connect()
        defer { client.close() }

        struct Interrupted: Error {}
        let copy = server.workDirectory + "/PART.copy"
        let fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var written = 0
        #expect(throws: Interrupted.self) {
            try client.download("shop1/expired/PART.bin") { chunk in
                if written > 3 << 20 { throw Interrupted() }
                written += write(fd, chunk.baseAddress!, chunk.count)
            }
        }
        close(fd)
        #expect(written > 0 && written < size)

        let rest = try download(client, "shop1/expired/PART.bin", to: copy, from: UInt64(written), append: true)
        #expect(Int(rest) == size - written)
        #expect(try TestSSHServer.sha256(ofFile: copy) == TestSSHServer.sha256(ofFile: local))
        // An offset at or past the end yields nothing.
        #expect(try client.download("shop1/expired/PART.bin", from: UInt64(size)) { _ in } == 0)
    }

    @Test("a missing file and an unreadable file are remote-file errors")
    func remoteFileErrors() throws {
        let server = try makeServer()
        defer { server.stop() }
        try server.write("shop1/expired/SECRET.txt", "secret\n", mode: 0o000)
        let client = try server.connect()
        defer { client.close() }

        let missing = sftpError { try client.download("shop1/expired/NOPE.txt") { _ in } }
        #expect(missing == .sftp(path: "shop1/expired/NOPE.txt", status: .noSuchFile, message: ""))
        let unreadable = sftpError { try client.download("shop1/expired/SECRET.txt") { _ in } }
        #expect(unreadable == .sftp(path: "shop1/expired/SECRET.txt", status: .permissionDenied, message: ""))
        #expect(unreadable?.category == .remoteFile)
        #expect(unreadable?.description == "shop1/expired/SECRET.txt: permission denied")
        #expect(try collect(client, "shop1/expired/SHOP1_20260101.txt").count == 9)
    }
}
