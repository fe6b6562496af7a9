import NIOCore
import SpindleServer
import SpindleTestSupport
import Testing

@Suite("EchoLoadClient")
struct EchoLoadClientTests {
    @Test func aCorrectServerGivesRoundTripsAndNoErrors() async throws {
        try await withEchoServer(EchoServerConfiguration(port: 0)) { server in
            let report = try await EchoLoadClient.run(
                EchoLoadConfiguration(port: server.port, connections: 20, duration: .seconds(3), message: "Hello, Echo!"))
            #expect(report.connected == 20)
            #expect(report.roundTrips > 0)
            #expect(report.errors == 0)
            #expect(report.roundTripsPerSecond > 0)
            #expect(report.latencyMicroseconds(atPercentile: 50) <= report.latencyMicroseconds(atPercentile: 99))
            #expect(report.latencyMicroseconds(atPercentile: 99) <= report.latencyMicroseconds(atPercentile: 99.9))
            #expect(report.latency.totalCount == UInt64(report.roundTrips))
        }
    }

    @Test func wrongRepliesAreCounted() async throws {
        let server = try await MisbehavingServer.start(.echoUnchanged)
        let port = try #require(server.localAddress?.port)
        let report = try await EchoLoadClient.run(
            EchoLoadConfiguration(port: port, connections: 5, duration: .seconds(1), message: "hello"))
        try await server.close()
        #expect(report.roundTrips == 0)
        #expect(report.wrongReplies > 0)
        #expect(report.errors == report.wrongReplies)
    }

    @Test func aMessageWithoutLettersIsRightWhenEchoedUnchanged() async throws {
        // The expected reply is derived from the message: digits are not upper-cased.
        let server = try await MisbehavingServer.start(.echoUnchanged)
        let port = try #require(server.localAddress?.port)
        let report = try await EchoLoadClient.run(
            EchoLoadConfiguration(port: port, connections: 2, duration: .seconds(3), message: "12345"))
        try await server.close()
        #expect(report.wrongReplies == 0)
        #expect(report.roundTrips > 0)
    }

    @Test func connectionsClosedByTheServerAreCounted() async throws {
        let server = try await MisbehavingServer.start(.hangUp)
        let port = try #require(server.localAddress?.port)
        // The run ends as soon as every connection has ended, so the long duration costs
        // nothing when the closes are seen; it only keeps a busy machine from ending the run
        // before they are.
        let report = try await EchoLoadClient.run(
            EchoLoadConfiguration(port: port, connections: 5, duration: .seconds(20)))
        try await server.close()
        #expect(report.elapsed < .seconds(20), "the closes were not noticed before the end of the run")
        #expect(report.roundTrips == 0)
        #expect(report.disconnects + report.connectFailures == 5)
        #expect(report.errors == 5)
    }

    @Test func noServerIsAClearError() async throws {
        let refusing = try RefusingPort()
        let port = refusing.port
        await #expect(throws: EchoLoadError.self) {
            _ = try await EchoLoadClient.run(EchoLoadConfiguration(port: port, connections: 3, duration: .milliseconds(100)))
        }
        withExtendedLifetime(refusing) {}
    }

    @Test func badConfigurationsNameTheProblem() async throws {
        for configuration in [
            EchoLoadConfiguration(connections: 0),
            EchoLoadConfiguration(duration: .zero),
            EchoLoadConfiguration(message: ""),
            EchoLoadConfiguration(port: 0),
        ] {
            await #expect(throws: EchoLoadError.self) { _ = try await EchoLoadClient.run(configuration) }
        }
    }
}
