import Foundation

/// Which URLs a link-following crawl may visit: `http`/`https` URLs on the allowed hosts that
/// pass the include and exclude patterns, canonicalised the same way every time.
///
/// Hosts are compared as ``CanonicalURL/authority`` values (`127.0.0.1:8080`), case-insensitively.
/// An include pattern admits a URL when it matches anywhere in its canonical spelling; with
/// several, any one will do. An exclude pattern rejects a URL the same way, and wins over
/// includes. Seeds are not checked: a URL the user names is always crawled.
public struct CrawlScope: Sendable {
    /// The hosts links may lead to; empty means any host.
    public var allowedHosts: Set<String>
    /// Patterns a URL must match one of (none: every URL passes).
    public var include: [String]
    /// Patterns a URL must match none of.
    public var exclude: [String]
    /// Whether query parameters are sorted by name when canonicalising.
    public var sortQuery: Bool

    private let includeExpressions: [CrawlPattern]
    private let excludeExpressions: [CrawlPattern]

    /// Every `http`/`https` URL on any host, canonicalised without sorting queries.
    public static let unrestricted = CrawlScope(unrestrictedHosts: ())

    private init(unrestrictedHosts: Void) {
        allowedHosts = []
        include = []
        exclude = []
        sortQuery = false
        includeExpressions = []
        excludeExpressions = []
    }

    /// A scope.
    ///
    /// - Throws: ``CrawlInputError`` naming the first pattern that is not a valid regular
    ///   expression.
    public init(allowedHosts: Set<String> = [], include: [String] = [], exclude: [String] = [], sortQuery: Bool = false) throws(CrawlInputError) {
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
        self.include = include
        self.exclude = exclude
        self.sortQuery = sortQuery
        includeExpressions = try include.map { pattern throws(CrawlInputError) in try CrawlPattern(pattern, role: "include") }
        excludeExpressions = try exclude.map { pattern throws(CrawlInputError) in try CrawlPattern(pattern, role: "exclude") }
    }

    /// Whether `url`'s host is allowed.
    public func allowsHost(_ url: CanonicalURL) -> Bool {
        allowedHosts.isEmpty || allowedHosts.contains(url.authority)
    }

    /// Whether `url` is in scope: an allowed host, and the include and exclude patterns agree.
    public func admits(_ url: CanonicalURL) -> Bool {
        guard allowsHost(url) else { return false }
        if !includeExpressions.isEmpty && !includeExpressions.contains(where: { $0.matches(url.string) }) {
            return false
        }
        return !excludeExpressions.contains { $0.matches(url.string) }
    }

    /// The canonical form of a link, or nil when it is not an http(s) URL or is out of scope.
    public func admitting(_ link: URL) -> CanonicalURL? {
        guard let scheme = link.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let url = try? CanonicalURL(link, sortQuery: sortQuery), admits(url) else { return nil }
        return url
    }
}

/// A compiled regular expression that may be shared between tasks: `NSRegularExpression` is
/// immutable and documented as safe to use from several threads.
struct CrawlPattern: @unchecked Sendable {
    private let expression: NSRegularExpression

    /// A compiled `pattern`; `role` (include, exclude) names it in the error.
    init(_ pattern: String, role: String) throws(CrawlInputError) {
        do {
            expression = try NSRegularExpression(pattern: pattern)
        } catch {
            throw CrawlInputError("\(role) pattern '\(pattern)' is not a valid regular expression")
        }
    }

    func matches(_ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
