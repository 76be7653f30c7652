/// What the archive holds on disk, for `report` and `verify`.
public enum ArchiveContents {
    /// Every file in `<root>/<dir>/expired/` that a report may read: not hidden (partial
    /// downloads, the lock, temporary files) and not a kept earlier version (`.replaced-`).
    public static func reportableFiles(root: String) -> [String] {
        allFiles(root: root).filter { path in
            let name = FileSystem.base(of: path)
            return !name.contains(".replaced-")
        }
    }

    /// Every visible file under `<root>/*/expired/`, sorted.
    public static func allFiles(root: String) -> [String] {
        var out: [String] = []
        for top in FileSystem.list(root) where !top.hasPrefix(".") {
            let dir = root + "/" + top + "/expired"
            for name in FileSystem.list(dir) where !name.hasPrefix(".") {
                if FileSystem.size(dir + "/" + name) != nil { out.append(dir + "/" + name) }
            }
        }
        return out.sorted()
    }

    /// Removes a file of the archive (for `prune`).
    public static func remove(_ path: String) throws(ArchiveError) {
        if unlinkFile(path) != 0 { throw FileSystem.fail(path, "delete") }
    }
}

#if canImport(Glibc)
import Glibc
private func unlinkFile(_ p: String) -> Int32 { unlink(p) }
#elseif canImport(Darwin)
import Darwin
private func unlinkFile(_ p: String) -> Int32 { unlink(p) }
#endif
