import CLibSSH2

/// The server's host key as libssh2 reports it after the handshake.
struct HostKey {
    var blob: [UInt8]
    var type: HostKeyType
    /// OpenSSH notation: `SHA256:` + base64 of the SHA-256 of the key blob, without padding.
    var fingerprint: String

    init(session: OpaquePointer) throws {
        var length = 0
        var rawType: Int32 = 0
        guard let key = libssh2_session_hostkey(session, &length, &rawType), length > 0 else {
            throw LibSSH2Error.last(session, operation: "reading the server's host key")
        }
        blob = Array(UnsafeRawBufferPointer(start: key, count: length))
        type = HostKeyType(rawValue: rawType)
        guard let digest = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) else {
            throw LibSSH2Error.last(session, operation: "hashing the server's host key")
        }
        let bytes = UnsafeRawBufferPointer(start: digest, count: 32)
        fingerprint = "SHA256:" + Base64.encode(bytes, padding: false)
    }
}

/// The host key types libssh2 reports, with the names each API wants.
struct HostKeyType: Equatable, Sendable {
    var rawValue: Int32

    static let rsa = HostKeyType(rawValue: LIBSSH2_HOSTKEY_TYPE_RSA)
    static let ecdsa256 = HostKeyType(rawValue: LIBSSH2_HOSTKEY_TYPE_ECDSA_256)
    static let ecdsa384 = HostKeyType(rawValue: LIBSSH2_HOSTKEY_TYPE_ECDSA_384)
    static let ecdsa521 = HostKeyType(rawValue: LIBSSH2_HOSTKEY_TYPE_ECDSA_521)
    static let ed25519 = HostKeyType(rawValue: LIBSSH2_HOSTKEY_TYPE_ED25519)
    static let dss = HostKeyType(rawValue: LIBSSH2_HOSTKEY_TYPE_DSS)

    /// Most preferred first, as OpenSSH orders them.
    static let all: [HostKeyType] = [.ed25519, .ecdsa256, .ecdsa384, .ecdsa521, .rsa, .dss]

    /// The SSH algorithm name, as in known_hosts and in `ssh -v` output.
    var name: String {
        switch rawValue {
        case LIBSSH2_HOSTKEY_TYPE_RSA: "ssh-rsa"
        case LIBSSH2_HOSTKEY_TYPE_DSS: "ssh-dss"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: "ecdsa-sha2-nistp256"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: "ecdsa-sha2-nistp384"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: "ecdsa-sha2-nistp521"
        case LIBSSH2_HOSTKEY_TYPE_ED25519: "ssh-ed25519"
        default: "unknown"
        }
    }

    /// The host key algorithms that prove this type of key: an RSA key signs with SHA-2
    /// (rsa-sha2-512, rsa-sha2-256, RFC 8332) or with SHA-1 (ssh-rsa, weak).
    var algorithms: [String] {
        rawValue == LIBSSH2_HOSTKEY_TYPE_RSA ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [name]
    }

    /// The key-type bits `libssh2_knownhost_checkp` matches on.
    var knownHostBits: Int32 {
        switch rawValue {
        case LIBSSH2_HOSTKEY_TYPE_RSA: LIBSSH2_KNOWNHOST_KEY_SSHRSA
        case LIBSSH2_HOSTKEY_TYPE_DSS: LIBSSH2_KNOWNHOST_KEY_SSHDSS
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: LIBSSH2_KNOWNHOST_KEY_ECDSA_256
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: LIBSSH2_KNOWNHOST_KEY_ECDSA_384
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: LIBSSH2_KNOWNHOST_KEY_ECDSA_521
        case LIBSSH2_HOSTKEY_TYPE_ED25519: LIBSSH2_KNOWNHOST_KEY_ED25519
        default: LIBSSH2_KNOWNHOST_KEY_UNKNOWN
        }
    }
}

enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: UnsafeRawBufferPointer, padding: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            let produced = min(bytes.count - index, 3) + 1
            for shift in [18, 12, 6, 0].prefix(produced) {
                out.append(alphabet[Int(triple >> UInt32(shift) & 0x3f)])
            }
            if padding { out.append(contentsOf: repeatElement(UInt8(ascii: "="), count: 4 - produced)) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func encode(_ bytes: [UInt8], padding: Bool) -> String {
        bytes.withUnsafeBytes { encode($0, padding: padding) }
    }
}
