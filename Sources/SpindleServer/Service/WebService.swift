import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Spindle

/// Builds the web service of `spindle serve`: the course's Flask service, as a Hummingbird
/// application with bounded pools, deadlines, metrics and graceful shutdown.
///
/// The application's services include the service's pools, which stop after the HTTP server
/// (in-flight requests finish first). Run it with `runService()`, in a `ServiceGroup`, or in
/// tests with HummingbirdTesting's `app.test(.router)` / `.live`.
///
/// - Parameters:
///   - configuration: What to serve and how; validated first.
///   - logger: Where the server and the request log write; by default `spindle.serve` at
///     the level of the `LOG_LEVEL` environment variable, else `info`.
///   - onServerRunning: Called once the server listens, with its channel (read the bound port
///     from `channel.localAddress`).
/// - Throws: ``ServiceConfigurationError`` for a bad configuration; `SpindleError`
///   (`.workerStartFailed`) when the worker processes cannot start.
public func buildApplication(
    configuration: ServiceConfiguration,
    logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    try buildApplication(configuration: configuration, logger: logger, hold: nil, onServerRunning: onServerRunning)
}

/// ``buildApplication(configuration:logger:onServerRunning:)`` whose slow work a test holds
/// with `hold` (see ``ServiceHold``).
func buildApplication(
    configuration: ServiceConfiguration,
    logger: Logger? = nil,
    hold: ServiceHold?,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    try configuration.validate()
    let logger = logger ?? WebService.defaultLogger
    let state = try ServiceState(configuration: configuration, logger: logger, hold: hold)
    let limits = HTTPConnectionLimits(
        idleTimeout: configuration.idleTimeout, headerTimeout: configuration.headerTimeout,
        maxConnections: configuration.maxConnections)
    return Application(
        router: state.makeRouter(),
        server: GuardedHTTP1Channel.builder(limits: limits, logger: logger) { [metrics = state.metrics] rejection in
            metrics.recordRejection(rejection)
        },
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), backlog: 4096),
        services: [state.pools],
        onServerRunning: onServerRunning,
        logger: logger
    )
}

/// The web service running in this process: started with ``start(_:logger:)`` (it then runs
/// in a task of its own until ``stop()``), or served until a signal with
/// ``serve(_:gracePeriod:logger:onListening:)``.
public final class WebService: RunningServer {
    /// The configuration it was started with (``ServiceConfiguration/port`` may be 0;
    /// ``origin`` has the bound one).
    public let configuration: ServiceConfiguration
    /// `http://host:port`, with the port actually bound and no trailing slash.
    public let origin: String
    private let stopAction: @Sendable () async -> Void

    private init(configuration: ServiceConfiguration, origin: String, stop: @escaping @Sendable () async -> Void) {
        self.configuration = configuration
        self.origin = origin
        self.stopAction = stop
    }

    /// The port actually bound.
    public var port: Int { URL(string: origin)?.port ?? 0 }

    /// The URL of `path` (which starts with `/`) on this service.
    public func url(path: String) -> URL {
        URL(string: origin + path)!
    }

    /// Starts serving in a task of its own and returns once the service listens.
    ///
    /// - Throws: What ``buildApplication(configuration:logger:onServerRunning:)`` throws;
    ///   ``WebServiceError`` when the service cannot listen.
    public static func start(_ configuration: ServiceConfiguration, logger: Logger? = nil) async throws -> WebService {
        try await start(configuration, logger: logger, hold: nil)
    }

    /// ``start(_:logger:)`` whose slow work a test holds with `hold` (see ``ServiceHold``).
    static func start(_ configuration: ServiceConfiguration, logger: Logger? = nil, hold: ServiceHold?) async throws -> WebService {
        let host = configuration.host
        do {
            let (origin, stop) = try await ServerLifecycle.start(logger: logger ?? defaultLogger, gracePeriod: nil) {
                (listening: @escaping @Sendable (String) -> Void) in
                [try buildApplication(configuration: configuration, logger: logger, hold: hold) { channel in
                    listening(Self.origin(host: host, channel: channel))
                }]
            }
            return WebService(configuration: configuration, origin: origin, stop: stop)
        } catch let error as ServiceConfigurationError {
            throw error
        } catch let error as SpindleError {
            throw error
        } catch {
            throw WebServiceError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully: the listener closes,
    /// in-flight requests finish (for at most `gracePeriod`, after which they are cancelled),
    /// then the pools stop and their worker processes exit.
    ///
    /// - Parameters:
    ///   - onListening: Called once the service listens; ``stop()`` on the handle it is given
    ///     begins the same graceful shutdown as a signal.
    /// - Throws: As ``start(_:logger:)``.
    public static func serve(
        _ configuration: ServiceConfiguration,
        gracePeriod: Duration = .seconds(10),
        logger: Logger? = nil,
        onListening: @escaping @Sendable (WebService) async -> Void = { _ in }
    ) async throws {
        let logger = logger ?? defaultLogger
        let host = configuration.host
        let application = { (stop: @escaping @Sendable () async -> Void) in
            try buildApplication(configuration: configuration, logger: logger) { channel in
                await onListening(WebService(configuration: configuration, origin: origin(host: host, channel: channel), stop: stop))
            }
        }
        do {
            try await ServerLifecycle.serve(logger: logger, gracePeriod: gracePeriod) { stop in [try application(stop)] }
        } catch let error as ServiceConfigurationError {
            throw error
        } catch let error as SpindleError {
            throw error
        } catch {
            throw WebServiceError("cannot serve on \(configuration.host):\(configuration.port): \(error)")
        }
    }

    /// Shuts the service down gracefully and waits until it is down (pools included).
    public func stop() async {
        await stopAction()
    }

    /// `spindle.serve`, at `LOG_LEVEL` or `info`: request lines (at `debug` by default) stay quiet.
    static var defaultLogger: Logger {
        var logger = Logger(label: "spindle.serve")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        return logger
    }

    private static func origin(host: String, channel: any Channel) -> String {
        let port = channel.localAddress?.port ?? 0
        let linkHost = switch host {
        case "0.0.0.0": "127.0.0.1"
        case "::", "[::]": "[::1]"
        default: host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        }
        return "http://\(linkHost):\(port)"
    }
}

/// Runs `body` with the web service listening, and stops it (gracefully, pools included) when
/// `body` returns or throws.
public func withWebService<Result>(
    _ configuration: ServiceConfiguration,
    logger: Logger? = nil,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (WebService) async throws -> Result
) async throws -> Result {
    try await withRunningServer(start: { try await WebService.start(configuration, logger: logger) }, body)
}

/// The web service could not start or serve; the description says why.
public struct WebServiceError: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
