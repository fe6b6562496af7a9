import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// A server running in this process: the web service, the blog site or the echo server, each
/// started by its type's `start`, served until a signal by its `serve`, and used scoped by its
/// `withX { }` function.
public protocol RunningServer: Sendable {
    /// Shuts the server down gracefully and returns once it is down.
    func stop() async
}

/// The one lifecycle of Spindle's servers, on swift-service-lifecycle: the server's services
/// run in a `ServiceGroup`, in a task of its own (``start(logger:gracePeriod:services:)``) or
/// in the caller's task until SIGINT or SIGTERM (``serve(logger:gracePeriod:services:)``);
/// stopping is the group's graceful shutdown, after which whatever still runs past the grace
/// period is cancelled.
enum ServerLifecycle {
    /// The server's services returned before it was listening.
    struct StoppedBeforeListening: Error, CustomStringConvertible {
        var description: String { "the server stopped before it was listening" }
    }

    /// Runs the services `makeServices` returns in a task of its own and returns once they call
    /// `listening` (at once or later, from any task), with what they passed and the action that
    /// stops them: graceful shutdown, then cancellation after `gracePeriod` (nil: no limit),
    /// returning when the services have returned.
    ///
    /// - Throws: What `makeServices` throws; what the services throw before they listen;
    ///   ``StoppedBeforeListening`` when they return without listening.
    static func start<Listening: Sendable>(
        logger: Logger,
        gracePeriod: Duration?,
        services makeServices: (_ listening: @escaping @Sendable (Listening) -> Void) throws -> [any Service]
    ) async throws -> (listening: Listening, stop: @Sendable () async -> Void) {
        let (listening, continuation) = AsyncThrowingStream.makeStream(of: Listening.self)
        let services = try makeServices { continuation.yield($0) }
        let group = ServiceGroup(configuration: configuration(services, onSignals: false, gracePeriod: gracePeriod, logger: logger))
        let task = Task {
            do {
                try await group.run()
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        let stop: @Sendable () async -> Void = {
            await group.triggerGracefulShutdown()
            _ = await task.result
        }
        do {
            guard let value = try await listening.first(where: { _ in true }) else { throw StoppedBeforeListening() }
            return (value, stop)
        } catch {
            await stop()
            throw error
        }
    }

    /// Runs the services `makeServices` returns until SIGINT or SIGTERM, or until the `stop`
    /// action it is given is called (it starts the same graceful shutdown and returns at once);
    /// what still runs `gracePeriod` after the shutdown began is cancelled (nil: no limit).
    ///
    /// - Throws: What `makeServices` or the services throw.
    static func serve(
        logger: Logger,
        gracePeriod: Duration?,
        services makeServices: (_ stop: @escaping @Sendable () async -> Void) throws -> [any Service]
    ) async throws {
        // The group needs the services, whose stop action needs the group; it is set before
        // any service runs, so a stop always finds it.
        let groupBox = NIOLockedValueBox<ServiceGroup?>(nil)
        let services = try makeServices {
            await groupBox.withLockedValue { $0 }?.triggerGracefulShutdown()
        }
        let group = ServiceGroup(
            configuration: configuration(services, onSignals: true, gracePeriod: gracePeriod, logger: logger))
        groupBox.withLockedValue { $0 = group }
        try await group.run()
    }

    private static func configuration(
        _ services: [any Service], onSignals: Bool, gracePeriod: Duration?, logger: Logger
    ) -> ServiceGroupConfiguration {
        var configuration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: onSignals ? [.sigterm, .sigint] : [], logger: logger)
        configuration.maximumGracefulShutdownDuration = gracePeriod
        return configuration
    }
}

/// Runs `body` with the server `start` returns, and stops the server when `body` returns or
/// throws: the `withX { }` of every server.
func withRunningServer<Server: RunningServer, Result>(
    start: () async throws -> Server,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (Server) async throws -> Result
) async throws -> Result {
    let server = try await start()
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
