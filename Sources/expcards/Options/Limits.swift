/// The allowed range of each numeric setting, one place for flags and configuration alike.
enum Limits {
    static let port = 1...65535
    /// Seconds.
    static let timeout = 1...3600
    static let retries = 0...20
    /// SSH connections.
    static let parallel = 1...16
    /// Months.
    static let threshold = 0...24
}
