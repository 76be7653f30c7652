import Foundation

/// The archive root, opened (and checked) once, on first use, for a type built without throwing
/// that uses it from several threads.
final class ArchiveHandle: @unchecked Sendable {  // `opened` is guarded by `lock`
    let root: String
    private let lock = NSLock()
    private var opened: Result<ArchiveDirectory, ArchiveError>?

    /// `opened`: the root, already opened by the caller (who may hold its lock).
    init(root: String, opened: ArchiveDirectory? = nil) {
        self.root = root
        self.opened = opened.map { .success($0) }
    }

    /// The root, created if missing.
    func get() throws(ArchiveError) -> ArchiveDirectory {
        let result = lock.withLock {
            if let opened { return opened }
            let r = Result { () throws(ArchiveError) in try ArchiveDirectory.openRoot(root, create: true)! }
            opened = r
            return r
        }
        return try result.get()
    }

    /// The archive directory `relative`, created if missing.
    func directory(_ relative: String) throws(ArchiveError) -> ArchiveDirectory {
        try get().subdirectory(relative, create: true)!
    }

    /// Whether anything is under `relative/name` (not following it); false on any error.
    func exists(_ relative: String, _ name: String) -> Bool {
        existingRoot().flatMap { try? $0.subdirectory(relative, create: false) }?.info(name) != nil
    }

    /// The root when it exists, opened once; nil otherwise. Creates nothing.
    private func existingRoot() -> ArchiveDirectory? {
        lock.withLock { () -> ArchiveDirectory? in
            if case .success(let root) = opened { return root }
            guard opened == nil, let root = try? ArchiveDirectory.openRoot(self.root, create: false) else { return nil }
            opened = .success(root)
            return root
        }
    }

    /// What is under `relative/name` when it is a regular file (no link followed); nil otherwise
    /// and on any error (the caller then treats the file as absent). Creates nothing.
    func regularFile(_ relative: String, _ name: String) -> ArchiveDirectory.Info? {
        guard let dir = existingRoot().flatMap({ try? $0.subdirectory(relative, create: false) }),
            let info = dir.info(name),
            info.kind == .regular
        else {
            return nil
        }
        return info
    }
}
