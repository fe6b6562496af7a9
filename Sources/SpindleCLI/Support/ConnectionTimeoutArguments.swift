import ArgumentParser

/// The connection timeouts of `spindle serve` and `spindle site`: what keeps silent, slow and idle
/// clients from holding connections.
struct ConnectionTimeoutArguments: ParsableArguments {
    @Option(help: "Close a connection with no request in progress after this long (default: 60s).", transform: DurationArgument.parse)
    var idleTimeout = DurationArgument.seconds(60)

    @Option(
        help: "Answer 408 and close a connection whose request line and headers have not all arrived after this long (default: 10s).",
        transform: DurationArgument.parse)
    var headerTimeout = DurationArgument.seconds(10)
}
