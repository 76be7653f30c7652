/// What a server announces before any encryption: its identification line and, in its
/// SSH_MSG_KEXINIT (RFC 4253 §7.1), the algorithms it accepts in each category. Names are
/// kept as sent; print them through `ServerText.neutralised`.
struct ServerKexInit: Equatable, Sendable {
    /// The server's `SSH-2.0-...` line, without its line end.
    var identification: String
    var kex: [String]
    var hostKey: [String]
    var cipherClientToServer: [String]
    var cipherServerToClient: [String]
    var macClientToServer: [String]
    var macServerToClient: [String]

    /// Both directions, each name once, client-to-server order first.
    func offers(_ category: AlgorithmCategory) -> [String] {
        func union(_ a: [String], _ b: [String]) -> [String] { a + b.filter { !a.contains($0) } }
        switch category {
        case .kex: return kex.filter { !AlgorithmPreferences.isExtensionMarker($0) }
        case .hostKey: return hostKey
        case .cipher: return union(cipherClientToServer, cipherServerToClient)
        case .mac: return union(macClientToServer, macServerToClient)
        }
    }

    struct Malformed: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    /// Parses what the server sent so far. Returns nil while more bytes are needed; throws when
    /// the bytes cannot be an SSH-2 server's greeting. Bounded: at most `maxLines` lines before
    /// the identification (RFC 4253 §4.2 allows a banner there), `maxLineLength` bytes each, and
    /// a first packet of at most `maxPacketLength` bytes.
    static func parse(_ bytes: [UInt8]) throws -> (kexInit: ServerKexInit, consumed: Int)? {
        let maxLines = 1024
        let maxLineLength = 8192
        let maxPacketLength = 256 * 1024
        var position = 0
        var identification: String?
        var lines = 0
        while identification == nil {
            guard let newline = bytes[position...].firstIndex(of: 0x0A) else {
                if bytes.count - position > maxLineLength {
                    throw Malformed(
                        description: "a line before the SSH identification is longer than \(maxLineLength) bytes")
                }
                return nil
            }
            var end = newline
            if end > position, bytes[end - 1] == 0x0D { end -= 1 }
            let line = bytes[position..<end]
            if newline - position > maxLineLength {
                throw Malformed(
                    description: "a line before the SSH identification is longer than \(maxLineLength) bytes")
            }
            position = newline + 1
            if line.starts(with: Array("SSH-".utf8)) {
                let text = String(decoding: line, as: UTF8.self)
                guard text.hasPrefix("SSH-2.0-") || text.hasPrefix("SSH-1.99-") else {
                    throw Malformed(
                        description: "the server speaks another SSH protocol version: \(ServerText.neutralised(text))")
                }
                identification = text
            } else {
                lines += 1
                if lines > maxLines {
                    throw Malformed(description: "more than \(maxLines) lines before the SSH identification")
                }
            }
        }
        // The first binary packet, unencrypted: uint32 packet_length, byte padding_length, payload, padding.
        guard bytes.count - position >= 5 else { return nil }
        var reader = ByteReader(bytes[position...])
        let packetLength = Int(try reader.uint32())
        guard packetLength >= 1 + 4, packetLength <= maxPacketLength else {
            throw Malformed(description: "the server's first packet announces \(packetLength) bytes")
        }
        guard bytes.count - position - 4 >= packetLength else { return nil }
        let padding = Int(try reader.byte())
        guard padding < packetLength - 1 else {
            throw Malformed(description: "the server's first packet has \(padding) bytes of padding in \(packetLength)")
        }
        var payload = ByteReader(try reader.bytes(packetLength - 1 - padding))
        let type = try payload.byte()
        guard type == 20 else {
            throw Malformed(description: "the server's first packet is message \(type), not KEXINIT (20)")
        }
        _ = try payload.bytes(16)  // cookie
        let kex = try payload.nameList()
        let hostKey = try payload.nameList()
        let cipherCS = try payload.nameList()
        let cipherSC = try payload.nameList()
        let macCS = try payload.nameList()
        let macSC = try payload.nameList()
        for _ in 0..<4 { _ = try payload.nameList() }  // compression and languages
        _ = try payload.byte()  // first_kex_packet_follows
        _ = try payload.uint32()  // reserved
        let result = ServerKexInit(
            identification: identification ?? "", kex: kex, hostKey: hostKey,
            cipherClientToServer: cipherCS, cipherServerToClient: cipherSC,
            macClientToServer: macCS, macServerToClient: macSC)
        return (result, position + 4 + packetLength)
    }
}

/// Big-endian SSH wire types (RFC 4251 §5) over a slice, every read bounds-checked.
private struct ByteReader {
    private var rest: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { rest = bytes }

    mutating func byte() throws -> UInt8 { try bytes(1).first! }

    mutating func uint32() throws -> UInt32 {
        try bytes(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func bytes(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, rest.count >= count else {
            throw ServerKexInit.Malformed(description: "the server's KEXINIT is truncated")
        }
        let taken = rest.prefix(count)
        rest = rest.dropFirst(count)
        return taken
    }

    /// A comma-separated list of US-ASCII names; empty names are dropped.
    mutating func nameList() throws -> [String] {
        let length = Int(try uint32())
        let text = try bytes(length)
        return text.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true).map {
            String(decoding: $0, as: UTF8.self)
        }
    }
}
