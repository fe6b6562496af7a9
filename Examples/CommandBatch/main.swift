import Foundation
import Spindle

// A command per item, two at once, each job's output kept whole: `xargs -P 2` from Swift.
//   CommandBatchExample echo {} ::: a b c
do {
    let invocation = try ExecInvocation.parse(Array(CommandLine.arguments.dropFirst()))
    let batch = try CommandBatch(template: invocation.template, options: .init(maxConcurrency: 2))
    let results = try await batch.run(invocation.items ?? [])
    for result in results {
        print(result.standardOutput.text, terminator: "")
    }
    print("\(results.filter(\.succeeded).count) of \(results.count) succeeded")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(64)
}
