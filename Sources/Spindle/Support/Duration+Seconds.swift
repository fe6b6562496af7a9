extension Duration {
    /// The duration in seconds, as a `Double`: `Duration.milliseconds(1500).seconds == 1.5`.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
