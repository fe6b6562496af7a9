import Foundation
import Spindle

// Blocking or CPU work from async code, off Swift's cooperative pool: at most 8 files read at
// once (the pool's one bound), each on a pool thread; the sizes come back in input order.
let paths = Array(CommandLine.arguments.dropFirst())
do {
    let sizes = try await withThreadPool(maxWorkers: 8) { pool in
        try await pool.map(paths) { path in
            guard let contents = FileManager.default.contents(atPath: path) else { throw Unreadable(path: path) }
            return contents.count
        }.collect()
    }
    for (path, size) in zip(paths, sizes) {
        print("\(path): \(size) bytes")
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}

struct Unreadable: Error, CustomStringConvertible {
    var path: String
    var description: String { "cannot read \(path)" }
}
