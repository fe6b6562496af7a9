/// Spindle's version, as `spindle --version` prints it and the crawler sends it in `User-Agent`.
public let spindleVersion = "0.1.0"
