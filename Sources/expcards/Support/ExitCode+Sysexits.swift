import ArgumentParser

/// sysexits(3) codes, documented in the man page. When several apply, the first of
/// `ExitCode.precedence` wins.
extension ExitCode {
    static let usage = ExitCode(64)  // EX_USAGE
    static let dataError = ExitCode(65)  // EX_DATAERR
    static let noInput = ExitCode(66)  // EX_NOINPUT
    static let unavailable = ExitCode(69)  // EX_UNAVAILABLE
    static let ioError = ExitCode(74)  // EX_IOERR
    static let tempFail = ExitCode(75)  // EX_TEMPFAIL
    static let protocolError = ExitCode(76)  // EX_PROTOCOL: host key unknown or mismatched
    static let noPermission = ExitCode(77)  // EX_NOPERM: authentication rejected
    static let config = ExitCode(78)  // EX_CONFIG
    static let software = ExitCode(70)  // EX_SOFTWARE: an internal error

    static let precedence: [ExitCode] = [
        .usage, .config, .protocolError, .noPermission, .unavailable, .software, .ioError, .tempFail, .dataError,
        .noInput,
    ]

    /// The code that wins among several.
    static func worst(_ codes: [ExitCode]) -> ExitCode {
        precedence.first(where: codes.contains) ?? .success
    }
}
