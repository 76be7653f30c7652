/// One category in which the client and the server had no algorithm in common, with what each
/// side offered: the explanation of a failed handshake.
public struct AlgorithmMismatch: Sendable, Equatable {
    public var category: AlgorithmCategory
    /// The server's list, neutralised for printing.
    public var serverOffers: [String]
    /// What this client offered (the linked libssh2's algorithms allowed by the policy).
    public var clientOffers: [String]
    /// Algorithms both sides have that the client refused as weak.
    public var weakInCommon: [String]
    /// Algorithms of the server's that a libssh2 1.11 build would offer (empty when the linked
    /// libssh2 is 1.11 or later).
    public var withNewerLibSSH2: [String]

    /// Compares what was offered with the server's KEXINIT, as RFC 4253 §7.1 agrees on each
    /// category: the first of the client's names that the server also has. A MAC is needed
    /// only when the agreed cipher does not authenticate by itself (AEAD).
    static func find(
        offered: AlgorithmPreferences, server: ServerKexInit, supported: [AlgorithmCategory: [String]],
        linkedIsAtLeastOneEleven: Bool
    ) -> [AlgorithmMismatch] {
        func agree(_ client: [String], _ server: [String]) -> String? { client.first(where: server.contains) }
        var failed: [AlgorithmCategory] = []
        if agree(offered[.kex], server.offers(.kex)) == nil { failed.append(.kex) }
        if agree(offered[.hostKey], server.hostKey) == nil { failed.append(.hostKey) }
        let ciphers = [server.cipherClientToServer, server.cipherServerToClient].map { agree(offered[.cipher], $0) }
        if ciphers.contains(nil) { failed.append(.cipher) }
        let macs = [server.macClientToServer, server.macServerToClient]
        let macFails = zip(ciphers, macs).contains { cipher, serverMACs in
            guard let cipher else { return false }  // already reported as a cipher mismatch
            return !AlgorithmPreferences.aead.contains(cipher) && agree(offered[.mac], serverMACs) == nil
        }
        if macFails { failed.append(.mac) }

        return failed.map { category in
            let serverOffers = server.offers(category)
            let weak = offered.weak(supported: supported, category).filter(serverOffers.contains)
            let newer =
                linkedIsAtLeastOneEleven
                ? [] : serverOffers.filter { AlgorithmPreferences.addedInOneEleven[category]?.contains($0) ?? false }
            return AlgorithmMismatch(
                category: category, serverOffers: serverOffers.map(ServerText.neutralised),
                clientOffers: offered[category], weakInCommon: weak, withNewerLibSSH2: newer)
        }
    }

    /// The text of `SFTPError.noCommonAlgorithm`.
    static func describe(host: String, port: Int, mismatches: [AlgorithmMismatch], libssh2Version: String) -> String {
        let names = mismatches.map { $0.category == .cipher ? "cipher" : "\($0.category.rawValue) algorithm" }
        var text =
            "SSH handshake with \(SFTPError.hostPort(host, port)) failed: no \(names.joined(separator: ", no ")) in common."
        for m in mismatches {
            text +=
                "\n  \(m.category.rawValue): the server offers \(list(m.serverOffers)); "
                + "this build (libssh2 \(libssh2Version)) offers \(list(m.clientOffers))"
            if !m.weakInCommon.isEmpty {
                text +=
                    "; in common only weak algorithms, refused by default: \(m.weakInCommon.joined(separator: ", "))"
            }
        }
        if isBeforeOneEleven(libssh2Version) {
            let helped = mismatches.flatMap(\.withNewerLibSSH2)
            text +=
                "\n  libssh2 \(libssh2Version) lacks the AEAD ciphers (chacha20-poly1305, AES-GCM), the ETM MACs and "
                + "rsa-sha2 host keys, which libssh2 1.11 supports"
            if !helped.isEmpty && mismatches.allSatisfy({ !$0.withNewerLibSSH2.isEmpty }) {
                text +=
                    ": a build with libssh2 1.11 would agree on \(helped.joined(separator: ", ")) "
                    + "(README, \"libssh2 1.10 or 1.11\": make libssh2, then make install LIBSSH2=1.11)"
            } else {
                text += "; a build with libssh2 1.11 would not help with this server"
            }
        }
        return text
    }

    private static func list(_ names: [String]) -> String { names.isEmpty ? "(nothing)" : names.joined(separator: ",") }

    static func isBeforeOneEleven(_ version: String) -> Bool {
        let parts = version.split(separator: ".").compactMap { Int($0.prefix { $0.isNumber }) }
        guard parts.count >= 2 else { return false }
        return parts[0] < 1 || (parts[0] == 1 && parts[1] < 11)
    }
}
