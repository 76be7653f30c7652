import ArgumentParser
import ExpCardsCore
import SFTP

/// Maps every error to its sysexits code, in one place.
enum Failure {
    static func exitCode(for error: any Error) -> ExitCode {
        switch error {
        case let e as SFTPError:
            switch e.category {
            case .hostKey: return .protocolError
            case .authentication: return .noPermission
            case .network, .remoteFile, .protocolError: return .unavailable
            }
        case let e as ArchiveError:
            switch e {
            case .io, .corruptManifest, .corruptStore, .symlink, .notRegular, .unsafeName, .tooLarge: return .ioError
            case .insecureArchive: return .config
            case .locked: return .tempFail
            case .sizeMismatch: return .unavailable
            }
        case is Settings.Error, is ITNKeyFile.Unsafe: return .config
        case let e as ExitCode: return e
        default: return .software
        }
    }

    /// Writes the error on stderr (one line, unless it is already an exit code) and returns the
    /// code to exit with.
    static func reported(_ error: any Error) -> ExitCode {
        if let code = error as? ExitCode { return code }
        Output.stderr("expcards: error: \(message(for: error))\n")
        return exitCode(for: error)
    }

    /// The error's text, with what expcards can do about it when the library cannot know.
    static func message(for error: any Error) -> String {
        if let e = error as? SFTPError, e.onlyWeakAlgorithmsInCommon {
            return "\(e)\n  --insecure-allow-weak-algorithms (or insecureAllowWeakAlgorithms: true) would accept them; "
                + "ask the server's operator for modern algorithms first"
        }
        return "\(error)"
    }
}
