import Testing

@testable import SFTP

/// The KEXINIT parser on bytes: no network.
@Suite("Server KEXINIT parsing")
struct ServerKexInitTests {
    /// An SSH binary packet (RFC 4253 §6) holding a KEXINIT with these name-lists.
    static func packet(_ lists: [String], messageType: UInt8 = 20, padding: Int = 6) -> [UInt8] {
        var payload: [UInt8] = [messageType] + Array(repeating: 0xAB, count: 16)
        for list in lists + Array(repeating: "", count: max(0, 10 - lists.count)) {
            payload += be32(list.utf8.count) + Array(list.utf8)
        }
        payload += [0] + be32(0)
        let length = 1 + payload.count + padding
        return be32(length) + [UInt8(padding)] + payload + Array(repeating: 0, count: padding)
    }

    static func be32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

    static let lists = [
        "curve25519-sha256,ext-info-s,kex-strict-s-v00@openssh.com", "rsa-sha2-512,ssh-ed25519",
        "aes256-gcm@openssh.com", "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com",
        "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "none", "none", "", "",
    ]
    static let greeting = Array("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".utf8) + packet(lists)

    @Test("a whole greeting gives the identification and every list, extension markers left out of kex")
    func whole() throws {
        let parsed = try #require(try ServerKexInit.parse(Self.greeting))
        #expect(parsed.consumed == Self.greeting.count)
        let k = parsed.kexInit
        #expect(k.identification == "SSH-2.0-OpenSSH_9.2p1 Debian-2")
        #expect(k.kex == ["curve25519-sha256", "ext-info-s", "kex-strict-s-v00@openssh.com"])
        #expect(k.offers(.kex) == ["curve25519-sha256"])
        #expect(k.offers(.hostKey) == ["rsa-sha2-512", "ssh-ed25519"])
        #expect(k.offers(.cipher) == ["aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"])
        #expect(k.offers(.mac) == ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"])
    }

    @Test("every shorter prefix asks for more bytes, never guesses")
    func prefixes() throws {
        for count in 0..<Self.greeting.count {
            #expect(try ServerKexInit.parse(Array(Self.greeting.prefix(count))) == nil, "prefix of \(count) bytes")
        }
    }

    @Test("banner lines before the identification are skipped (RFC 4253 §4.2); a bare LF ends a line")
    func bannerLines() throws {
        let bytes = Array("Welcome\r\nauthorised use only\nSSH-2.0-Other\n".utf8) + Self.packet(Self.lists)
        #expect(try ServerKexInit.parse(bytes)?.kexInit.identification == "SSH-2.0-Other")
    }

    @Test(
        "bytes that cannot be an SSH-2 greeting are refused with a reason",
        arguments: [
            ("SSH-1.5-old\r\n", [UInt8](), "another SSH protocol version"),
            ("SSH-2.0-x\r\n", packet(lists, messageType: 21), "message 21"),
            ("SSH-2.0-x\r\n", be32(100_000_000) + [4], "announces 100000000 bytes"),
            ("SSH-2.0-x\r\n", be32(3) + [0, 20, 0], "announces 3 bytes"),
            ("SSH-2.0-x\r\n", be32(12) + [200] + Array(repeating: 0, count: 11), "padding"),
            // A name-list longer than the packet.
            (
                "SSH-2.0-x\r\n",
                be32(30) + [4, 20] + Array(repeating: 0, count: 16) + be32(1000) + Array(repeating: 0, count: 8),
                "truncated"
            ),
        ])
    func malformed(prefix: String, rest: [UInt8], reason: String) {
        do {
            _ = try ServerKexInit.parse(Array(prefix.utf8) + rest)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
        }
    }

    @Test("an endless line before the identification is refused, not buffered forever")
    func endlessLine() {
        #expect(throws: ServerKexInit.Malformed.self) { try ServerKexInit.parse(Array(repeating: 0x41, count: 9000)) }
    }

    @Test("server-sent names are printed neutralised")
    func neutralised() {
        #expect(ServerText.neutralised("pass\u{1B}]0;owned\u{07}word") == "pass\\x1B]0;owned\\x07word")
        #expect(ServerText.neutralised("a\u{202E}b\\c\r\n") == "a\\u{202E}b\\\\c\\r\\n")
        #expect(ServerText.neutralised("hmac-sha2-256é") == "hmac-sha2-256é")
        #expect(ServerText.neutralised(bytes: [0x61, 0xFF, 0x9B]) == "a\u{FFFD}\u{FFFD}")
    }
}
