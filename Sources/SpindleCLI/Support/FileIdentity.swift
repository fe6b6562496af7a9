import Foundation

/// Whether two paths name one file, for refusing an output that would overwrite an input.
enum FileIdentity {
    /// True when `a` and `b` are the same file: the same device and inode when both exist (so
    /// hard and symbolic links count), otherwise the same absolute path once `.`, `..` and the
    /// symbolic links of the existing folders are resolved.
    static func same(_ a: String, _ b: String) -> Bool {
        var first = stat()
        var second = stat()
        if stat(a, &first) == 0, stat(b, &second) == 0 {
            return first.st_dev == second.st_dev && first.st_ino == second.st_ino
        }
        return resolved(a) == resolved(b)
    }

    private static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
