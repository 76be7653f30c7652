import Foundation
import SFTP
import SSHTestSupport
import Testing

@Suite("Listing and stat against a real sshd")
struct ListingTests {
    @Test("lists /ROOT/expired and each <shopId>/expired with kinds, sizes and mtimes")
    func listFixtures() throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try server.connect()
        defer { client.close() }

        let root = try client.list(server.remotePath("/ROOT/expired")).sorted { $0.name < $1.name }
        #expect(root.map(\.name) == ["ROOT_20260101.txt", "ROOT_20260102.txt"])
        #expect(root.map(\.kind) == [.file, .file])
        #expect(root.map(\.size) == [10, 100_000])
        #expect(root.allSatisfy { $0.permissions == 0o644 })
        let now = Int64(Date().timeIntervalSince1970)
        #expect(root.allSatisfy { abs($0.mtime - now) < 600 })

        let shop1 = try client.list("shop1/expired")
        #expect(shop1.map(\.name) == ["SHOP1_20260101.txt"])

        let shop2 = Dictionary(uniqueKeysWithValues: try client.list("shop2/expired").map { ($0.name, $0) })
        #expect(Set(shop2.keys) == ["SHOP2_20260101.txt", "empty.txt", "latest", "archive"])
        #expect(shop2["latest"]?.kind == .symlink)
        #expect(shop2["archive"]?.kind == .directory)
        #expect(shop2["empty.txt"]?.size == 0)
    }

    @Test("stat follows a symlink, lstat does not")
    func statAndLstat() throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try server.connect()
        defer { client.close() }

        #expect(try client.stat("shop2/expired/latest").kind == .file)
        #expect(try client.stat("shop2/expired/latest").size == 9)
        #expect(try client.lstat("shop2/expired/latest").kind == .symlink)
        #expect(try client.stat(server.remotePath("/ROOT/expired")).kind == .directory)
    }

    @Test("a missing directory is a remote-file error naming the path")
    func missingDirectory() throws {
        let server = try makeServer()
        defer { server.stop() }
        let client = try server.connect()
        defer { client.close() }

        let error = sftpError { _ = try client.list("shop9/expired") }
        #expect(error == .sftp(path: "shop9/expired", status: .noSuchFile, message: ""))
        #expect(error?.category == .remoteFile)
        #expect(error?.description.contains("shop9/expired: no such file or directory") == true)
        // The session is still usable after a remote-file error.
        #expect(try client.list("shop1/expired").count == 1)
    }

    @Test("a directory of many entries with long names is listed completely")
    func largeDirectory() throws {
        let server = try makeServer()
        defer { server.stop() }
        let names = (0..<600).map { String(format: "%04d_", $0) + String(repeating: "n", count: 200) }
        for name in names { try server.write("big/\(name)", "") }
        let client = try server.connect()
        defer { client.close() }
        #expect(try client.list("big").map(\.name).sorted() == names)
    }
}
