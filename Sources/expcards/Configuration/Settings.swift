import Configuration
import ExpCardsCore
import Foundation
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The effective configuration: defaults, then the configuration file, then `EXPCARDS_*`
/// environment variables, then flags, in increasing precedence. Each value remembers where it
/// came from, for `expcards config`.
struct Settings {
    struct Value<T>: CustomStringConvertible {
        var value: T
        var origin: String
        var description: String { "\(value)" }
    }

    struct Error: Swift.Error, CustomStringConvertible {
        var description: String
    }

    var host = Value(value: "vadftp-secure.sftp.lyra-network.com", origin: "default")
    var port = Value(value: 22, origin: "default")
    var user = Value<String?>(value: nil, origin: "default")
    var passwordFile = Value<String?>(value: nil, origin: "default")
    var identityFile = Value<String?>(value: nil, origin: "default")
    var passphraseFile = Value<String?>(value: nil, origin: "default")
    var knownHostsFile = Value(
        value: (getenv("HOME").map { String(cString: $0) } ?? "") + "/.ssh/known_hosts", origin: "default")
    var hostKey = Value<String?>(value: nil, origin: "default")
    var shops = Value<[String]?>(value: nil, origin: "default (every shop directory found)")
    var archive = Value(value: "", origin: "default")
    var threshold = Value(value: 2, origin: "default")
    var mode = Value<Environment?>(value: nil, origin: "default (both to fetch; production first to report)")
    var timeout = Value(value: 30, origin: "default")
    var retries = Value(value: 3, origin: "default")
    var allowWeakAlgorithms = Value(value: false, origin: "default")
    var parallel = Value(value: 1, origin: "default")
    var currency = Value(value: Currency.euro, origin: "default")
    var shopCurrencies = Value<[String: Currency]>(value: [:], origin: "default")
    var companyDirectory = Value(value: "/ROOT/expired", origin: "default (then /common/expired)")
    var shopDirectory = Value(value: "%s/expired", origin: "default")
    /// --format mail: nil means expcards@ the host name.
    var mailFrom = Value<MailAddress?>(value: nil, origin: "default (expcards@ the host name)")
    var mailTo = Value<[MailAddress]>(value: [], origin: "default (none: --mail-to is required)")
    var subject = Value<String?>(value: nil, origin: "default (the verdict, the counts and the month)")
    /// The shop's HMAC key for ITN signatures, as a file (`itn serve`, `itn import`).
    var itnHmacKeyFile = Value<String?>(value: nil, origin: "default (signatures not required)")
    /// Secrets: never printed, never logged.
    var password: String?
    var passwordOrigin: String?
    var passphrase: String?
    var configFile: String?

    /// Resolves everything. Throws `Settings.Error` for a configuration error (exit 78).
    static func load(
        archive archiveFlag: String?, config configFlag: String?, connection: ConnectionOptions?,
        transfer: TransferOptions? = nil, environment env: [String: String]
    ) async throws -> Settings {
        var s = Settings()
        // The configuration file.
        let configPath: String?
        if let configFlag {
            configPath = configFlag
        } else if let p = env["EXPCARDS_CONFIG"], !p.isEmpty {
            configPath = p
        } else {
            let xdg =
                env["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
                ?? (env["HOME"].map { $0 + "/.config" } ?? "")
            configPath =
                ([xdg + "/expcards", "/etc/expcards"].flatMap { dir in ["yaml", "yml"].map { "\(dir)/config.\($0)" } })
                .first { access($0, F_OK) == 0 }
        }
        var file: FileProvider<YAMLSnapshot>?
        if let configPath {
            guard access(configPath, R_OK) == 0 else {
                throw Error(description: "configuration file \(configPath): \(String(cString: strerror(errno)))")
            }
            do {
                file = try await FileProvider<YAMLSnapshot>(filePath: FilePath(configPath))
            } catch {
                throw Error(description: yamlError(configPath, "\(error)"))
            }
            s.configFile = configPath
        }
        // One reader over the ordered providers (environment, then file); the access reporter
        // says which of them served each key, for `expcards config` and for errors.
        let environment = EnvironmentVariablesProvider(
            environmentVariables: env, secretsSpecifier: .specific(["EXPCARDS_PASSWORD", "EXPCARDS_PASSPHRASE"]))
        var providers: [any ConfigProvider] = [environment.prefixKeys(with: "expcards")]
        var origins = ["environment"]
        if let file {
            providers.append(file)
            origins.append("file \(configPath ?? "")")
        }
        let accesses = AccessRecorder()
        let reader = ConfigReader(providers: providers, accessReporter: accesses)

        func origin(_ index: Int, _ key: String) -> String {
            index == 0 ? "environment EXPCARDS_\(envName(key))" : origins[index]
        }
        func lookup<T>(_ key: String, _ get: (ConfigReader, ConfigKey) throws -> T) throws -> (T, String)? {
            do {
                let value = try get(reader, ConfigKey(key))
                return (value, accesses.servedBy(key).map { origin($0, key) } ?? "configuration")
            } catch {
                // Missing everywhere: not an error here (each setting has its default).
                guard let index = accesses.failedAt(key) ?? accesses.servedBy(key) else { return nil }
                throw Error(description: "\(origin(index, key)): \(key): \(error)")
            }
        }
        func string(_ key: String) throws -> (String, String)? { try lookup(key) { try $0.requiredString(forKey: $1) } }
        func int(_ key: String) throws -> (Int, String)? { try lookup(key) { try $0.requiredInt(forKey: $1) } }
        func bool(_ key: String) throws -> (Bool, String)? { try lookup(key) { try $0.requiredBool(forKey: $1) } }
        func strings(_ key: String) throws -> ([String], String)? {
            try lookup(key) { try $0.requiredStringArray(forKey: $1) }
        }

        if let (v, o) = try string("host") { s.host = .init(value: v, origin: o) }
        if let (v, o) = try int("port") {
            guard Limits.port.contains(v) else { throw Error(description: "\(o): port: 1 to 65535, not \(v)") }
            s.port = .init(value: v, origin: o)
        }
        if let (v, o) = try string("user") { s.user = .init(value: v, origin: o) }
        if let (v, o) = try string("passwordFile") { s.passwordFile = .init(value: v, origin: o) }
        if let (v, o) = try string("identityFile") { s.identityFile = .init(value: v, origin: o) }
        if let (v, o) = try string("passphraseFile") { s.passphraseFile = .init(value: v, origin: o) }
        if let (v, o) = try string("knownHostsFile") { s.knownHostsFile = .init(value: v, origin: o) }
        if let (v, o) = try string("hostKey") { s.hostKey = .init(value: v, origin: o) }
        if let (v, o) = try strings("shops") {
            for shop in v where !(shop.utf8.count == 8 && shop.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }) {
                throw Error(description: "\(o): shops: '\(shop)' is not an 8-digit shop id")
            }
            s.shops = .init(value: v, origin: o)
        }
        if let (v, o) = try string("archive") { s.archive = .init(value: v, origin: o) }
        if let (v, o) = try int("threshold") {
            guard Limits.threshold.contains(v) else {
                throw Error(description: "\(o): threshold: 0 to 24 months, not \(v)")
            }
            s.threshold = .init(value: v, origin: o)
        }
        if let (v, o) = try string("mode") {
            guard let m = ModeArgument(rawValue: v) else {
                throw Error(description: "\(o): mode: production or test, not '\(v)'")
            }
            s.mode = .init(value: m.environment, origin: o)
        }
        if let (v, o) = try int("timeout") {
            guard Limits.timeout.contains(v) else {
                throw Error(description: "\(o): timeout: 1 to 3600 seconds, not \(v)")
            }
            s.timeout = .init(value: v, origin: o)
        }
        if let (v, o) = try int("retries") {
            guard Limits.retries.contains(v) else { throw Error(description: "\(o): retries: 0 to 20, not \(v)") }
            s.retries = .init(value: v, origin: o)
        }
        if let (v, o) = try bool("insecureAllowWeakAlgorithms") { s.allowWeakAlgorithms = .init(value: v, origin: o) }
        if let (v, o) = try int("parallel") {
            guard Limits.parallel.contains(v) else {
                throw Error(description: "\(o): parallel: 1 to 16 connections, not \(v)")
            }
            s.parallel = .init(value: v, origin: o)
        }
        if let (v, o) = try string("currency") {
            guard let c = Currency(code: v) else {
                throw Error(description: "\(o): currency: an ISO 4217 code, not '\(v)'")
            }
            s.currency = .init(value: c, origin: o)
        }
        if let (v, o) = try strings("shopCurrencies") {
            var map: [String: Currency] = [:]
            for item in v {
                let parts = item.split(separator: "=").map(String.init)
                guard parts.count == 2, let c = Currency(code: parts[1]) else {
                    throw Error(description: "\(o): shopCurrencies: '\(item)' is not SHOPID=CODE (e.g. 12345678=CHF)")
                }
                map[parts[0]] = c
            }
            s.shopCurrencies = .init(value: map, origin: o)
        }
        if let (v, o) = try string("companyDirectory") { s.companyDirectory = .init(value: v, origin: o) }
        if let (v, o) = try string("shopDirectory") {
            guard v.contains("%s") else {
                throw Error(description: "\(o): shopDirectory must contain %s for the shop id")
            }
            s.shopDirectory = .init(value: v, origin: o)
        }
        if let (v, o) = try string("mailFrom") {
            guard let a = MailAddress(v) else {
                throw Error(description: "\(o): mailFrom: an e-mail address, not '\(v)'")
            }
            s.mailFrom = .init(value: a, origin: o)
        }
        if let (v, o) = try strings("mailTo") {
            var list: [MailAddress] = []
            for item in v {
                guard let a = MailAddress(item) else {
                    throw Error(description: "\(o): mailTo: '\(item)' is not an e-mail address")
                }
                list.append(a)
            }
            s.mailTo = .init(value: list, origin: o)
        }
        if let (v, o) = try string("subject") { s.subject = .init(value: v, origin: o) }
        if let (v, o) = try string("itnHmacKeyFile") { s.itnHmacKeyFile = .init(value: v, origin: o) }
        // Secrets: a password in the configuration file only when nobody else can read it.
        if let (v, o) = try lookup("password", { try $0.requiredString(forKey: $1, isSecret: true) }) {
            if o.hasPrefix("file"), let configPath, !isPrivate(configPath) {
                throw Error(
                    description: "\(configPath) holds a password but others can read it: chmod 600 \(configPath)")
            }
            s.password = v
            s.passwordOrigin = o
        }
        if let p = env["EXPCARDS_PASSPHRASE"], !p.isEmpty { s.passphrase = p }

        // Flags win.
        if let archiveFlag { s.archive = .init(value: archiveFlag, origin: "flag --archive") }
        if let c = connection {
            if let v = c.host { s.host = .init(value: v, origin: "flag --host") }
            if let v = c.port { s.port = .init(value: v, origin: "flag --port") }
            if let v = c.user { s.user = .init(value: v, origin: "flag --user") }
            if let v = c.passwordFile { s.passwordFile = .init(value: v, origin: "flag --password-file") }
            if let v = c.identity { s.identityFile = .init(value: v, origin: "flag --identity") }
            if let v = c.passphraseFile { s.passphraseFile = .init(value: v, origin: "flag --passphrase-file") }
            if let v = c.knownHosts { s.knownHostsFile = .init(value: v, origin: "flag --known-hosts") }
            if let v = c.hostKey { s.hostKey = .init(value: v, origin: "flag --host-key") }
            if let v = c.timeout { s.timeout = .init(value: v, origin: "flag --timeout") }
            if let v = c.retries { s.retries = .init(value: v, origin: "flag --retries") }
            if c.insecureAllowWeakAlgorithms {
                s.allowWeakAlgorithms = .init(value: true, origin: "flag --insecure-allow-weak-algorithms")
            }
        }
        if let v = transfer?.parallel { s.parallel = .init(value: v, origin: "flag --parallel") }
        if s.archive.value.isEmpty {
            guard let root = ArchivePath.defaultRoot(environment: env) else {
                throw Error(description: "no archive directory: set --archive, EXPCARDS_ARCHIVE or HOME")
            }
            s.archive = .init(value: root, origin: "default")
        }
        // A password file wins over a password from the environment or the file.
        if let path = s.passwordFile.value {
            s.password = try readSecret(path, what: "password")
            s.passwordOrigin = s.passwordFile.origin
        }
        if let path = s.passphraseFile.value { s.passphrase = try readSecret(path, what: "passphrase") }
        return s
    }

    /// A YAML syntax error, told without a byte of the file: the YAML library quotes the line it
    /// stopped at, which may hold a password. Its fixed texts are kept; any line of its message
    /// found in the file (the quote) and the caret under it are dropped; the line's key is named.
    static func yamlError(_ path: String, _ libraryText: String) -> String {
        let content = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let kept = libraryText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { line in
            !line.isEmpty && !line.allSatisfy { $0 == "^" || $0 == " " } && !content.contains(line)
        }
        var text = "configuration file \(path) is not valid YAML"
        let numbers =
            libraryText.firstMatch(of: /line (\d+), column (\d+)/).map { (Int($0.1), Int($0.2)) }
            ?? libraryText.firstMatch(of: /^(\d+):(\d+):/).map { (Int($0.1), Int($0.2)) }
        if case (let line?, let column?)? = numbers {
            text += " at line \(line), column \(column)"
            let lines = content.split(separator: "\n", omittingEmptySubsequences: false)
            if line >= 1, line <= lines.count,
                let key = lines[line - 1].split(separator: ":").first?.trimmingCharacters(in: .whitespaces),
                !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
            {
                text += " (key '\(key)')"
            }
        }
        var reason = kept.map { $0.replacing(#/^\d+:\d+: error: /#, with: "").replacing(#/:$/#, with: "") }.joined(
            separator: "; ")
        // And should the library ever quote a value without its line: no secret's text passes.
        for line in content.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased().contains("pass") || parts[0].lowercased().contains("secret")
            else { continue }
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 3 { reason = reason.replacingOccurrences(of: value, with: "…") }
        }
        return text + (reason.isEmpty ? "" : ": " + reason) + " (the line itself is not shown: it may hold a secret)"
    }

    /// gethostname(2), for the default From and the Message-ID; `localhost` when it fails.
    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let safe = name.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x2E
        }
        return name.isEmpty || !safe ? "localhost" : name
    }

    private static func envName(_ key: String) -> String {
        var out = ""
        for c in key {
            if c.isUppercase { out += "_" }
            out += c.uppercased()
        }
        return out
    }

    /// Mode without group or other read bits.
    static func isPrivate(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        return st.st_mode & 0o044 == 0
    }

    /// The first line of a secret file, which must not be readable by others.
    private static func readSecret(_ path: String, what: String) throws -> String {
        guard isPrivate(path) || access(path, F_OK) != 0 else {
            throw Error(description: "\(what) file \(path) is readable by others: chmod 600 \(path)")
        }
        guard let f = fopen(path, "r") else {
            throw Error(description: "\(what) file \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        while true {
            let c = fgetc(f)
            if c == EOF || c == 0x0A { break }
            bytes.append(UInt8(truncatingIfNeeded: c))
            if bytes.count > 4096 { break }
        }
        if bytes.last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty else { throw Error(description: "\(what) file \(path) is empty") }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Remembers, for each key read, which provider (by its index among the reader's) gave a
/// value, and which one gave a value that could not be converted.
private final class AccessRecorder: AccessReporter, Sendable {
    private struct Seen {
        var served: [String: Int] = [:]
        var failed: [String: Int] = [:]
    }

    private let seen = Mutex(Seen())

    func report(_ event: AccessEvent) {
        let key = event.metadata.key.description
        let index = event.providerResults.firstIndex { result in
            if case .success(let lookup) = result.result { return lookup.value != nil }
            return true
        }
        guard let index else { return }
        let failed: Bool
        if case .failure = event.result { failed = true } else { failed = false }
        seen.withLock { seen in
            if failed { seen.failed[key] = index } else { seen.served[key] = index }
        }
    }

    func servedBy(_ key: String) -> Int? { seen.withLock { $0.served[key] } }
    func failedAt(_ key: String) -> Int? { seen.withLock { $0.failed[key] } }
}
