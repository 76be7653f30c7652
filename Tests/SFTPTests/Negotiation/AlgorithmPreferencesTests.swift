import CLibSSH2
import Testing

@testable import SFTP

/// The lists offered and the explanation of a failed negotiation: pure logic, no network.
@Suite("Algorithm preferences")
struct AlgorithmPreferencesTests {
    /// What Debian 12's libssh2 1.10 reports (libssh2_session_supported_algs).
    static let libssh2OneTen: [AlgorithmCategory: [String]] = [
        .kex: [
            "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
            "ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
            "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1",
            "diffie-hellman-group1-sha1", "diffie-hellman-group-exchange-sha1",
        ],
        .hostKey: [
            "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-ed25519", "ssh-rsa", "ssh-dss",
        ],
        .cipher: [
            "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes256-cbc", "rijndael-cbc@lysator.liu.se", "aes192-cbc",
            "aes128-cbc", "blowfish-cbc", "arcfour128", "arcfour", "cast128-cbc", "3des-cbc",
        ],
        .mac: [
            "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1", "hmac-sha1-96", "hmac-md5", "hmac-md5-96", "hmac-ripemd160",
            "hmac-ripemd160@openssh.com",
        ],
    ]
    /// 1.11.1 adds these (and lists its extension markers among the kex methods).
    static let libssh2OneEleven: [AlgorithmCategory: [String]] = [
        .kex: libssh2OneTen[.kex]! + ["ext-info-c", "kex-strict-c-v00@openssh.com"],
        .hostKey: [
            "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ssh-ed25519",
            "ssh-ed25519-cert-v01@openssh.com",
            "rsa-sha2-512", "rsa-sha2-256", "rsa-sha2-512-cert-v01@openssh.com", "ssh-rsa", "ssh-dss",
        ],
        .cipher: ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com"] + libssh2OneTen[
            .cipher]!,
        .mac: [
            "hmac-sha2-256", "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512", "hmac-sha2-512-etm@openssh.com",
            "hmac-sha1", "hmac-sha1-etm@openssh.com", "hmac-sha1-96", "hmac-md5",
        ],
    ]
    static let weakNames = [
        "cbc", "arcfour", "3des", "md5", "-96", "group1-sha1", "group14-sha1", "exchange-sha1", "ssh-dss", "ssh-rsa",
        "ripemd", "cert-v01", "ext-info", "kex-strict",
    ]

    @Test("by default, only OpenSSH 9's client algorithms, in its order", arguments: [libssh2OneTen, libssh2OneEleven])
    func modernOnly(supported: [AlgorithmCategory: [String]]) {
        let p = AlgorithmPreferences(supported: supported, allowWeak: false)
        for category in AlgorithmCategory.allCases {
            #expect(!p[category].isEmpty)
            for name in p[category] {
                #expect(!Self.weakNames.contains { name.contains($0) }, "\(category): \(name)")
                #expect(supported[category]!.contains(name))
            }
            let modern = AlgorithmPreferences.modern[category]!
            #expect(p[category] == modern.filter(p[category].contains), "OpenSSH's order")
        }
        #expect(p[.kex].first == "curve25519-sha256")
        #expect(
            p[.cipher].first
                == (supported[.cipher]!.contains("chacha20-poly1305@openssh.com")
                    ? "chacha20-poly1305@openssh.com" : "aes128-ctr"))
    }

    @Test("weak algorithms come after the modern ones only when allowed; certificates and markers never")
    func weakWhenAllowed() {
        let p = AlgorithmPreferences(supported: Self.libssh2OneEleven, allowWeak: true)
        #expect(
            p[.cipher].prefix(6) == [
                "chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-gcm@openssh.com",
                "aes256-gcm@openssh.com",
            ])
        #expect(p[.cipher].contains("3des-cbc") && p[.cipher].contains("arcfour"))
        #expect(p[.kex].contains("diffie-hellman-group1-sha1") && p[.kex].contains("diffie-hellman-group14-sha1"))
        #expect(p[.mac].contains("hmac-md5") && p[.mac].contains("hmac-sha1-96"))
        #expect(p[.hostKey].suffix(2) == ["ssh-rsa", "ssh-dss"])
        #expect(!p[.hostKey].contains { $0.contains("cert") })
        #expect(!p[.kex].contains { AlgorithmPreferences.isExtensionMarker($0) })
    }

    @Test("an RSA key in known_hosts asks for rsa-sha2-512 and rsa-sha2-256 first, ssh-rsa only when weak is allowed")
    func recordedRSA() {
        let modern = AlgorithmPreferences(supported: Self.libssh2OneEleven, allowWeak: false, recordedHostKeys: [.rsa])
        #expect(modern[.hostKey] == ["rsa-sha2-512", "rsa-sha2-256", "ssh-ed25519", "ecdsa-sha2-nistp256"])
        let weak = AlgorithmPreferences(supported: Self.libssh2OneEleven, allowWeak: true, recordedHostKeys: [.rsa])
        #expect(weak[.hostKey].prefix(3) == ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"])
        // libssh2 1.10 has no rsa-sha2: an RSA record then asks for nothing it cannot check.
        let old = AlgorithmPreferences(supported: Self.libssh2OneTen, allowWeak: false, recordedHostKeys: [.rsa])
        #expect(!old[.hostKey].contains { $0.contains("rsa") })
        let ed = AlgorithmPreferences(supported: Self.libssh2OneTen, allowWeak: false, recordedHostKeys: [.ed25519])
        #expect(ed[.hostKey].first == "ssh-ed25519")
    }

    static func server(
        kex: String = "curve25519-sha256", hostKey: String = "ssh-ed25519", cipher: String = "aes128-ctr",
        mac: String = "hmac-sha2-256"
    ) -> ServerKexInit {
        func split(_ s: String) -> [String] { s.split(separator: ",").map(String.init) }
        return ServerKexInit(
            identification: "SSH-2.0-test", kex: split(kex), hostKey: split(hostKey),
            cipherClientToServer: split(cipher), cipherServerToClient: split(cipher), macClientToServer: split(mac),
            macServerToClient: split(mac))
    }

    @Test("a mismatch names its category, the server's offer, ours, the weak ones in common and what 1.11 would add")
    func mismatches() {
        let supported = Self.libssh2OneTen
        let offered = AlgorithmPreferences(supported: supported, allowWeak: false)
        #expect(
            AlgorithmMismatch.find(
                offered: offered, server: Self.server(), supported: supported, linkedIsAtLeastOneEleven: false
            ).isEmpty)

        let gcm = AlgorithmMismatch.find(
            offered: offered, server: Self.server(cipher: "aes256-gcm@openssh.com"), supported: supported,
            linkedIsAtLeastOneEleven: false)
        #expect(gcm.map(\.category) == [.cipher])
        #expect(gcm.first?.serverOffers == ["aes256-gcm@openssh.com"])
        #expect(gcm.first?.clientOffers == ["aes128-ctr", "aes192-ctr", "aes256-ctr"])
        #expect(gcm.first?.withNewerLibSSH2 == ["aes256-gcm@openssh.com"])
        let text = SFTPError.noCommonAlgorithm(host: "h", port: 2222, mismatches: gcm, libssh2Version: "1.10.0")
            .description
        #expect(text.contains("[h]:2222") && text.contains("no cipher in common"))
        #expect(text.contains("the server offers aes256-gcm@openssh.com"))
        #expect(text.contains("would agree on aes256-gcm@openssh.com") && text.contains("LIBSSH2=1.11"))

        let weak = AlgorithmMismatch.find(
            offered: offered, server: Self.server(kex: "diffie-hellman-group14-sha1", cipher: "aes128-cbc,3des-cbc"),
            supported: supported, linkedIsAtLeastOneEleven: false)
        #expect(weak.map(\.category) == [.kex, .cipher])
        #expect(weak.map(\.weakInCommon) == [["diffie-hellman-group14-sha1"], ["aes128-cbc", "3des-cbc"]])
        let weakError = SFTPError.noCommonAlgorithm(host: "h", port: 22, mismatches: weak, libssh2Version: "1.10.0")
        #expect(weakError.onlyWeakAlgorithmsInCommon)
        #expect(weakError.description.contains("no key exchange algorithm, no cipher in common"))
        #expect(weakError.description.contains("would not help"))

        let pq = AlgorithmMismatch.find(
            offered: offered, server: Self.server(kex: "sntrup761x25519-sha512@openssh.com"), supported: supported,
            linkedIsAtLeastOneEleven: true)
        #expect(pq.map(\.category) == [.kex] && pq.first?.weakInCommon == [] && pq.first?.withNewerLibSSH2 == [])
        #expect(
            !SFTPError.noCommonAlgorithm(host: "h", port: 22, mismatches: pq, libssh2Version: "1.11.1").description
                .contains("1.11 would"))
        #expect(
            SFTPError.noCommonAlgorithm(host: "h", port: 22, mismatches: pq, libssh2Version: "1.11.1").category
                == .protocolError)
    }

    @Test("no MAC is needed with an AEAD cipher; one is with any other")
    func aeadNeedsNoMAC() {
        let supported = Self.libssh2OneEleven
        let offered = AlgorithmPreferences(supported: supported, allowWeak: false)
        let etmOnly = "hmac-sha2-256-etm@openssh.com"
        #expect(
            AlgorithmMismatch.find(
                offered: offered, server: Self.server(cipher: "aes256-gcm@openssh.com", mac: "umac-128@openssh.com"),
                supported: supported, linkedIsAtLeastOneEleven: true
            ).isEmpty)
        #expect(
            AlgorithmMismatch.find(
                offered: offered, server: Self.server(mac: etmOnly), supported: supported,
                linkedIsAtLeastOneEleven: true
            ).isEmpty)
        let old = AlgorithmPreferences(supported: Self.libssh2OneTen, allowWeak: false)
        let m = AlgorithmMismatch.find(
            offered: old, server: Self.server(mac: etmOnly), supported: Self.libssh2OneTen,
            linkedIsAtLeastOneEleven: false)
        #expect(m.map(\.category) == [.mac] && m.first?.withNewerLibSSH2 == [etmOnly])
    }

    @Test("the linked libssh2's own lists give a modern offer in every category")
    func linkedLibrary() throws {
        _ = LibSSH2.initialised
        let session = try #require(libssh2_session_init_ex(nil, nil, nil, nil))
        defer { libssh2_session_free(session) }
        let supported = SessionAlgorithms.supported(session)
        let p = AlgorithmPreferences(supported: supported, allowWeak: false)
        for category in AlgorithmCategory.allCases {
            #expect(!p[category].isEmpty, "\(category)")
            #expect(
                !p[category].contains { name in Self.weakNames.contains { name.contains($0) } },
                "\(category): \(p[category])")
        }
        #expect(LibSSH2.isAtLeast(1, 11) == supported[.cipher]!.contains("aes256-gcm@openssh.com"))
    }
}
