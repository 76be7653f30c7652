/// The algorithm lists offered to the server, most preferred first, in each category.
///
/// By default: OpenSSH 9's client defaults that the linked libssh2 supports. Certificates are
/// never offered (known_hosts' `@cert-authority` is not supported, so a certificate could not
/// be checked). Everything else libssh2 supports counts as weak (CBC modes, arcfour, 3DES,
/// blowfish, cast128, MD5, RIPEMD and 96-bit MACs, SHA-1 key exchanges, ssh-dss, and ssh-rsa
/// with its SHA-1 signatures, which OpenSSH dropped in 8.8) and is appended only when allowed.
struct AlgorithmPreferences: Equatable, Sendable {
    var lists: [AlgorithmCategory: [String]]

    subscript(category: AlgorithmCategory) -> [String] { lists[category] ?? [] }

    /// `ssh -G` of OpenSSH 9.2, without certificates and security keys (sk-*).
    static let modern: [AlgorithmCategory: [String]] = [
        .kex: [
            "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", "curve25519-sha256",
            "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
            "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
            "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256",
        ],
        .hostKey: [
            "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
            "rsa-sha2-512", "rsa-sha2-256",
        ],
        .cipher: [
            "chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
            "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
        ],
        .mac: [
            "umac-64-etm@openssh.com", "umac-128-etm@openssh.com", "hmac-sha2-256-etm@openssh.com",
            "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com", "umac-64@openssh.com",
            "umac-128@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1",
        ],
    ]

    /// Ciphers that authenticate the data themselves: with one of them no MAC is negotiated.
    static let aead: Set<String> = [
        "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
    ]

    /// What libssh2 1.11 added over 1.10 among the modern algorithms (for the hint under 1.10).
    static let addedInOneEleven: [AlgorithmCategory: Set<String>] = [
        .cipher: ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com"],
        .mac: ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com"],
        .hostKey: ["rsa-sha2-512", "rsa-sha2-256"],
        .kex: [],
    ]

    /// Names in a kex list that announce protocol extensions, not algorithms (libssh2 1.11 adds
    /// the client's own to every list it is given).
    static func isExtensionMarker(_ name: String) -> Bool {
        name.hasPrefix("ext-info-") || name.hasPrefix("kex-strict-")
    }

    /// Algorithms never offered, even when weak ones are allowed.
    static func isNeverOffered(_ name: String) -> Bool {
        name == "none" || name.contains("-cert-v01@openssh.com") || isExtensionMarker(name)
    }

    /// The lists for a session. `supported`: what the linked libssh2 implements, per category,
    /// in its order. `recordedHostKeys`: the key types known_hosts holds for this host, which
    /// come first so that the key the server presents is one that can be checked.
    init(supported: [AlgorithmCategory: [String]], allowWeak: Bool, recordedHostKeys: [HostKeyType] = []) {
        var lists: [AlgorithmCategory: [String]] = [:]
        for category in AlgorithmCategory.allCases {
            let available = supported[category] ?? []
            let modern = Self.modern[category] ?? []
            var list = modern.filter(available.contains)
            if allowWeak {
                list += available.filter { !modern.contains($0) && !Self.isNeverOffered($0) }
            }
            lists[category] = list
        }
        let allowedHostKeys = lists[.hostKey] ?? []
        let recorded = recordedHostKeys.flatMap(\.algorithms).filter(allowedHostKeys.contains)
        lists[.hostKey] = recorded + allowedHostKeys.filter { !recorded.contains($0) }
        self.lists = lists
    }

    /// The algorithms libssh2 would add over these lists: those it supports but are not offered.
    func weak(supported: [AlgorithmCategory: [String]], _ category: AlgorithmCategory) -> [String] {
        (supported[category] ?? []).filter { !self[category].contains($0) && !Self.isNeverOffered($0) }
    }
}
