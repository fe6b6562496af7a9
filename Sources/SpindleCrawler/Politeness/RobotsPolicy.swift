import Foundation

/// The rules of one site's `robots.txt` (RFC 9309, plus the `Crawl-delay` extension): which
/// paths a crawler may fetch and how long it should wait between requests.
///
/// ```swift
/// let robots = RobotsPolicy(response: robotsPage.status, body: robotsPage.body)
/// if let note = robots.note { logger.warning("\(note)") }
/// robots.isAllowed(url, userAgent: "Spindle/1.0")      // true or false
/// robots.crawlDelay(userAgent: "Spindle/1.0")          // .seconds(2) or nil
/// ```
///
/// Matching:
/// - The group for a crawler is every group naming its product token (`Spindle` in
///   `Spindle/1.0 (+https://…)`), compared case-insensitively, merged; failing that, the `*`
///   groups; failing that, everything is allowed. A group may name several agents.
/// - Of the `Allow` and `Disallow` rules that match a path, the longest pattern wins; on a tie,
///   `Allow` wins. `*` matches any run of characters, a final `$` anchors the end. Paths and
///   patterns are compared after percent-encoding normalisation (`%7E` and `~` are the same).
/// - An empty `Disallow:` allows everything; `/robots.txt` itself is always allowed.
/// - Comments, blank lines, a byte-order mark, unknown fields and lines without a `:` are
///   ignored, as are rules before the first `User-agent`. Only the first 500 KiB are read.
///
/// Unavailable robots.txt: a 4xx (404 included) means there are no rules, as RFC 9309 says. A
/// 5xx or an unreachable server is also treated as allowing everything, with ``note`` saying so
/// for the log. That differs from RFC 9309 and Google (which stop crawling the site for a
/// while): Spindle crawls sites its user points it at, and a flaky robots.txt should not silently
/// turn a crawl into nothing; the note makes the choice visible, and a crawler that wants the
/// strict reading can check ``availability`` and skip the host.
public struct RobotsPolicy: Hashable, Sendable {
    /// Where the rules came from.
    public enum Availability: Hashable, Sendable {
        /// A robots.txt was fetched (2xx) and parsed.
        case parsed
        /// The server answered with this 4xx status: there are no rules.
        case missing(status: Int)
        /// A 5xx status or a fetch error (the reason): treated as allowing everything.
        case unreachable(reason: String)
    }

    struct Rule: Hashable, Sendable {
        var allows: Bool
        var pattern: [UInt8]
        var anchoredAtEnd: Bool
        /// The pattern's length as written (normalised), which decides precedence.
        var length: Int
    }

    struct Group: Hashable, Sendable {
        var agents: [String] = []
        var rules: [Rule] = []
        var crawlDelay: Double?
    }

    /// Where the rules came from.
    public let availability: Availability
    let groups: [Group]

    /// The most of a robots.txt that is read (RFC 9309 asks for at least 500 KiB).
    public static let maxSize = 500 * 1024

    /// Allows everything: no robots.txt, or not asked.
    public static let allowAll = RobotsPolicy(availability: .missing(status: 404), groups: [])

    init(availability: Availability, groups: [Group]) {
        self.availability = availability
        self.groups = groups
    }

    /// Parses the text of a robots.txt.
    public init(parsing text: String) {
        self.init(availability: .parsed, groups: RobotsParser.groups(in: text))
    }

    /// Parses a robots.txt body as bytes: UTF-8 (invalid bytes replaced), a leading BOM
    /// ignored, at most ``maxSize`` bytes read (cut at the last line break before the limit).
    public init(body: [UInt8]) {
        var bytes = body[...]
        if bytes.count > Self.maxSize {
            bytes = bytes.prefix(Self.maxSize)
            if let lastBreak = bytes.lastIndex(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) {
                bytes = bytes[..<lastBreak]
            }
        }
        self.init(parsing: String(decoding: bytes, as: UTF8.self))
    }

    /// The policy for a robots.txt fetch that got an HTTP response: the parsed rules for 2xx,
    /// no rules for 4xx, and allow-all marked ``Availability/unreachable(reason:)`` otherwise
    /// (5xx, or a 3xx that was not followed).
    public init(response status: Int, body: [UInt8]) {
        switch status {
        case 200..<300:
            self.init(body: body)
        case 400..<500:
            self.init(availability: .missing(status: status), groups: [])
        default:
            self.init(availability: .unreachable(reason: "HTTP \(status)"), groups: [])
        }
    }

    /// The policy when robots.txt could not be fetched at all (`reason`, such as a timeout):
    /// allow-all, marked ``Availability/unreachable(reason:)``.
    public static func unreachable(_ reason: String) -> RobotsPolicy {
        RobotsPolicy(availability: .unreachable(reason: reason), groups: [])
    }

    /// A sentence for the log when the rules are assumed rather than read, otherwise `nil`.
    public var note: String? {
        guard case .unreachable(let reason) = availability else { return nil }
        return "robots.txt could not be read (\(reason)); crawling as if it allowed everything"
    }

    /// Whether `userAgent` may fetch `path` (a path with an optional query, such as `/a/b?x=1`).
    public func isAllowed(path: String, userAgent: String) -> Bool {
        let normalised = Array(PercentEncoding.normalize(path.isEmpty ? "/" : path, as: .query).utf8)
        if normalised == Array("/robots.txt".utf8) { return true }
        var best: Rule?
        for rule in rules(for: userAgent) where RobotsParser.matches(rule, normalised) {
            guard let current = best else { best = rule; continue }
            if rule.length > current.length || (rule.length == current.length && rule.allows && !current.allows) {
                best = rule
            }
        }
        return best?.allows ?? true
    }

    /// Whether `userAgent` may fetch `url` (its path and query are checked; robots.txt rules
    /// apply to the origin they were fetched from).
    public func isAllowed(_ url: CanonicalURL, userAgent: String) -> Bool {
        isAllowed(path: url.pathAndQuery, userAgent: userAgent)
    }

    /// The `Crawl-delay` of the group that applies to `userAgent`, if it sets one. Values over
    /// a day are read as a day.
    public func crawlDelay(userAgent: String) -> Duration? {
        guard let seconds = matchingGroups(userAgent).lazy.compactMap(\.crawlDelay).first else { return nil }
        return .milliseconds(Int64((min(seconds, 86_400) * 1000).rounded()))
    }

    private func rules(for userAgent: String) -> [Rule] {
        matchingGroups(userAgent).flatMap(\.rules)
    }

    private func matchingGroups(_ userAgent: String) -> [Group] {
        let token = RobotsParser.productToken(userAgent)
        let named = groups.filter { $0.agents.contains(token) }
        return named.isEmpty ? groups.filter { $0.agents.contains("*") } : named
    }
}
