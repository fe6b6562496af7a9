import AsyncAlgorithms
import Foundation
import NIOConcurrencyHelpers

extension TourSections {
    /// The course's coroutines: a generator consumer driven with `send`, gevent's synchronous
    /// versus asynchronous tasks, and spawn/joinall with return values. docs/coroutines.md shows
    /// the same code with its output.
    static let coroutines = TourSection(title: "coroutines") { tour in
        tour.say("""
            The course built a producer-consumer from a generator: the producer send()s an item \
            into the consumer, which yields back '200 OK'. In Swift the two are tasks joined by \
            two AsyncChannels; a send waits until the other side takes it, which is the \
            generator's lock-step, as backpressure.
            """)
        let transcript = await CoroutineExamples.producerConsumer(items: 5)
        for line in transcript { tour.line("  " + line) }
        guard transcript == CoroutineExamples.expectedTranscript(items: 5) else {
            throw TourCheckFailed("the producer and consumer did not take turns: \(transcript)")
        }

        let pause: Duration = tour.quick ? .milliseconds(50) : .milliseconds(500)
        tour.say("""
            gevent's "synchronous vs asynchronous": ten tasks that each wait \(tour.format(pause)), \
            awaited one after another, then spawned together and joined (a task group).
            """)
        let (syncOrder, syncTime) = await tour.time { await CoroutineExamples.synchronous(tasks: 10, pause: pause) }
        tour.line("  synchronous:  \(syncOrder.map { "task \($0) done" }.joined(separator: ", ")) in \(tour.format(syncTime))")
        let (asyncOrder, asyncTime) = await tour.time { await CoroutineExamples.asynchronous(tasks: 10, pause: pause) }
        tour.line("  asynchronous: \(asyncOrder.count) tasks done (in the order they woke: \(asyncOrder.map(String.init).joined(separator: " "))) in \(tour.format(asyncTime))")
        guard asyncOrder.sorted() == Array(0..<10), asyncTime.seconds < syncTime.seconds / 3 else {
            throw TourCheckFailed("the ten tasks did not overlap: \(tour.format(asyncTime)) against \(tour.format(syncTime))")
        }
        tour.record("coroutines.speedup", syncTime.seconds / asyncTime.seconds)

        tour.say("gevent.spawn(eat), gevent.spawn(play), joinall, then g.value: a task group that collects what each task returns.")
        let scale = tour.quick ? 0.1 : 1.0
        let (values, joinTime) = await tour.time { await CoroutineExamples.spawnAndJoin(scale: scale) }
        tour.line("  values: \(values.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ", ")) in \(tour.format(joinTime)) (the longest task, not the sum)")
        guard values == ["eat": "eat", "play": "play"] else {
            throw TourCheckFailed("joinall lost a value: \(values)")
        }
    }
}

/// The coroutine examples of the tour; docs/coroutines.md quotes them.
enum CoroutineExamples {
    /// The course's generator pair: the producer sends 1...items, the consumer answers each
    /// with "200 OK". Returns the lines both sides printed, in the order they printed them.
    static func producerConsumer(items: Int) async -> [String] {
        let transcript = Transcript()
        let toConsumer = AsyncChannel<Int>()
        let toProducer = AsyncChannel<String>()

        await withTaskGroup(of: Void.self) { group in
            group.addTask {  // consumer(): `n = yield r`
                for await n in toConsumer {
                    transcript.append("[CONSUMER] Consuming \(n)...")
                    await toProducer.send("200 OK")
                }
                toProducer.finish()
            }
            group.addTask {  // produce(c): `r = c.send(n)`
                var replies = toProducer.makeAsyncIterator()
                for n in 1...items {
                    transcript.append("[PRODUCER] Producing \(n)...")
                    await toConsumer.send(n)
                    let reply = await replies.next() ?? "(consumer gone)"
                    transcript.append("[PRODUCER] Consumer return: \(reply)")
                }
                toConsumer.finish()  // c.close()
            }
        }
        return transcript.lines
    }

    /// The lines the generator version prints, for comparison.
    static func expectedTranscript(items: Int) -> [String] {
        (1...items).flatMap { n in
            ["[PRODUCER] Producing \(n)...", "[CONSUMER] Consuming \(n)...", "[PRODUCER] Consumer return: 200 OK"]
        }
    }

    /// gevent's `task(pid)`: wait, then report done.
    static func task(_ pid: Int, pause: Duration) async -> Int {
        try? await Task.sleep(for: pause)
        return pid
    }

    /// `for i in range(10): task(i)`: one after another.
    static func synchronous(tasks: Int, pause: Duration) async -> [Int] {
        var done: [Int] = []
        for pid in 0..<tasks {
            done.append(await task(pid, pause: pause))
        }
        return done
    }

    /// `joinall([spawn(task, i) for i in range(10)])`: all at once, in the order they finish.
    static func asynchronous(tasks: Int, pause: Duration) async -> [Int] {
        await withTaskGroup(of: Int.self) { group in
            for pid in 0..<tasks {
                group.addTask { await task(pid, pause: pause) }
            }
            var done: [Int] = []
            for await pid in group { done.append(pid) }
            return done
        }
    }

    /// `g1 = spawn(eat, 'egon'); g2 = spawn(play, 'egon'); joinall([g1, g2])`, then
    /// `g1.value`, `g2.value`: eat waits 2 units and returns "eat", play 3 and returns "play".
    static func spawnAndJoin(scale: Double) async -> [String: String] {
        func eat(_ name: String) async -> String {
            try? await Task.sleep(for: .seconds(0.2 * scale))
            return "eat"
        }
        func play(_ name: String) async -> String {
            try? await Task.sleep(for: .seconds(0.3 * scale))
            return "play"
        }
        return await withTaskGroup(of: (String, String).self) { group in
            group.addTask { ("eat", await eat("egon")) }
            group.addTask { ("play", await play("egon")) }
            var values: [String: String] = [:]
            for await (name, value) in group { values[name] = value }
            return values
        }
    }
}

/// Lines appended from several tasks, kept in the order they were appended.
final class Transcript: Sendable {
    private let storage = NIOLockedValueBox<[String]>([])

    func append(_ line: String) {
        storage.withLockedValue { $0.append(line) }
    }

    var lines: [String] { storage.withLockedValue { $0 } }
}
