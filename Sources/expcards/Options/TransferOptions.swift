import ArgumentParser

/// How downloads use the server: `fetch` and `run` only.
struct TransferOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "SFTP connections downloading at the same time, each its own files; 1 to 16 (default 1: the platform's limits are unknown).",
            valueName: "n"))
    var parallel: Int?

    func validate() throws {
        if let parallel, !Limits.parallel.contains(parallel) {
            throw ValidationError("--parallel wants 1 to 16, not \(parallel).")
        }
    }
}
