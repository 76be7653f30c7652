import Foundation

/// The one place the fetch starts threads: runs each of `extra` on a thread of its own and
/// `here` on the calling thread, and returns once all have finished.
enum WorkerThreads {
    /// libssh2, OpenSSL and the parser run on these threads: more room than Foundation's default.
    static let stackSize = 4 << 20

    static func run<T>(_ extra: [@Sendable () -> Void], here: () throws -> T) rethrows -> T {
        let done = DispatchGroup()
        for body in extra {
            done.enter()
            let thread = Thread {
                body()
                done.leave()
            }
            thread.stackSize = stackSize
            thread.start()
        }
        defer { done.wait() }
        return try here()
    }
}
