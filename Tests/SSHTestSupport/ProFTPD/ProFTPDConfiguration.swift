import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension TestProFTPDServer {
    /// proftpd.conf: mod_sftp alone on one loopback port, every file proftpd writes in `workDirectory`.
    func configuration() -> String {
        var lines = [
            "ServerType standalone",
            "ServerName \"expcards test\"",
            // Only this address and port, and no FTP: with SFTPEngine on, the port speaks SSH.
            "DefaultAddress \(host)",
            "SocketBindTight on",
            "Port \(port)",
            "PidFile \(workDirectory)/proftpd.pid",
            "ScoreboardFile \(workDirectory)/proftpd.scoreboard",
            // Every request with its local path; no xferlog (its lines name the wrong file when
            // a client opens the next file before closing the last, as libssh2 pipelines).
            "LogFormat requests \"%m|%f\"",
            "ExtendedLog \(requestLogPath) ALL requests",
            "TransferLog NONE",
            "WtmpLog off",
            "UseReverseDNS off",
            // No delay after failed logins (a test waits for none), no control socket in /run.
            "DelayEngine off",
            "ControlsEngine off",
            "MaxInstances 100",
            "AuthPAM off",
            "AuthOrder mod_auth_file.c",
            "AuthUserFile \(userFilePath)",
            "AuthGroupFile \(groupFilePath)",
            "RequireValidShell off",
            "UseFtpUsers off",
            "ModulePath \(Self.modulePath)",
            "LoadModule mod_sftp.c",
            "SFTPEngine on",
            "SFTPLog \(sftpLogPath)",
            "SFTPAuthMethods publickey password",
            "SFTPAuthorizedUserKeys file:\(authorizedKeysDirectory)/%u",
            "SFTPCompression off",
        ]
        lines += options.hostKeyTypes.map { "SFTPHostKey \(hostKeyPath($0))" }
        if let limit = options.maxSessionsPerUser { lines.append("MaxClientsPerUser \(limit)") }
        if options.banner != nil { lines.append("SFTPDisplayBanner \(workDirectory)/banner") }
        for directory in options.deniedDirectories {
            lines += [
                "<Directory \(localPath(directory))>", "  <Limit ALL>", "    DenyAll", "  </Limit>", "</Directory>",
            ]
        }
        if isChrooted {
            lines += ["User nobody", "Group nogroup", "DefaultRoot ~"]
        } else {
            // Not root: proftpd must be told to stay the user it is (and cannot chroot).
            let user = getpwuid(geteuid()).map { String(cString: $0.pointee.pw_name) } ?? "nobody"
            let group = getgrgid(getegid()).map { String(cString: $0.pointee.gr_name) } ?? "nogroup"
            lines += ["User \(user)", "Group \(group)"]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
