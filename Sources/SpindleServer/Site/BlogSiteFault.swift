/// The misbehaving endpoints a ``BlogSite`` serves under `/faults/` when
/// ``BlogSiteConfiguration/faults`` is on, each linked from the `/faults/` index page so a
/// link-following crawl meets them all. Tests name them through this enum; ``path`` is where
/// each one starts.
public enum BlogSiteFault: String, CaseIterable, Sendable {
    /// Sends the head and part of the body (declaring a longer `Content-Length`), then stalls for
    /// ``stallDuration`` before sending the rest. The stall ends early when the site stops.
    case stall
    /// Declares a `Content-Length`, sends part of the body, then closes the connection.
    case reset
    /// Answers 500 the first time a URL (path and query) is asked for, 200 after that.
    case flakyServerError = "flaky-500"
    /// Answers 429 with `Retry-After: 1` the first time a URL (path and query) is asked for,
    /// 200 after that.
    case rateLimited = "rate-limited"
    /// `/faults/redirect-loop/a` redirects to `.../b`, which redirects back to `.../a`.
    case redirectLoop = "redirect-loop"
    /// ``redirectChainHops`` redirects (`.../1` → `.../2` → `.../3` → `/sitehome/p/1`), ending at
    /// the first list page.
    case redirectChain = "redirect-chain"
    /// A body of ``hugeBodySize`` bytes with a `Content-Length` that says so, streamed in chunks.
    case hugeBody = "huge"
    /// A body of ``hugeBodySize`` bytes in chunked encoding, with no `Content-Length`.
    case hugeChunkedBody = "huge-chunked"
    /// A page in ISO-8859-1 declared by the `Content-Type` header
    /// (`text/html; charset=iso-8859-1`): its title bytes include 0xE9 for "é".
    case latin1Header = "latin1"
    /// A page in ISO-8859-1 declared only by `<meta charset="iso-8859-1">` (the header says
    /// `text/html` with no charset).
    case latin1Meta = "latin1-meta"
    /// Broken markup (unclosed and stray tags, unquoted attributes) that still holds two
    /// `a.post-item-title` links.
    case malformedMarkup = "malformed"
    /// A PNG image (`Content-Type: image/png`), not HTML.
    case binary = "image"
    /// A page under ``privateDirectory``, which `/robots.txt` disallows; a polite crawler never
    /// asks for it (the site serves it anyway, and the request log tells).
    case privatePage = "private"
    /// A page served with `Content-Encoding: gzip`, whatever the request's `Accept-Encoding`.
    case gzip

    /// The path each fault starts at.
    public var path: String {
        switch self {
        case .stall: "/faults/stall.html"
        case .reset: "/faults/reset.html"
        case .flakyServerError: "/faults/flaky-500.html"
        case .rateLimited: "/faults/rate-limited.html"
        case .redirectLoop: "/faults/redirect-loop/a"
        case .redirectChain: "/faults/redirect-chain/1"
        case .hugeBody: "/faults/huge.html"
        case .hugeChunkedBody: "/faults/huge-chunked.html"
        case .latin1Header: "/faults/latin1.html"
        case .latin1Meta: "/faults/latin1-meta.html"
        case .malformedMarkup: "/faults/malformed.html"
        case .binary: "/faults/image.png"
        case .privatePage: "\(Self.privateDirectory)secret.html"
        case .gzip: "/faults/gzip.html"
        }
    }

    /// One line on what the endpoint does, as the `/faults/` index shows it.
    public var summary: String {
        switch self {
        case .stall: "part of the body, then nothing for 30 s"
        case .reset: "part of the body, then the connection closes"
        case .flakyServerError: "500 the first time, then 200"
        case .rateLimited: "429 with Retry-After: 1 the first time, then 200"
        case .redirectLoop: "a → b → a → …"
        case .redirectChain: "three redirects, then the first list page"
        case .hugeBody: "20 MiB with Content-Length"
        case .hugeChunkedBody: "20 MiB, chunked, no Content-Length"
        case .latin1Header: "ISO-8859-1, declared in the Content-Type header"
        case .latin1Meta: "ISO-8859-1, declared only in <meta charset>"
        case .malformedMarkup: "broken markup with two post-item-title links"
        case .binary: "a PNG image"
        case .privatePage: "disallowed by robots.txt"
        case .gzip: "Content-Encoding: gzip"
        }
    }

    /// The directory `/robots.txt` disallows when faults are on.
    public static let privateDirectory = "/faults/private/"
    /// The size of the ``hugeBody`` and ``hugeChunkedBody`` bodies: 20 MiB.
    public static let hugeBodySize = 20 * 1024 * 1024
    /// How long ``stall`` stalls.
    public static let stallDuration: Duration = .seconds(30)
    /// How many redirects ``redirectChain`` makes before the final page.
    public static let redirectChainHops = 3
    /// The title of the one `a.post-item-title` link on the two ISO-8859-1 pages, as text.
    public static let latin1Title = "Café crème & brûlée: naïve façade, ½ price"
    /// The titles of the two `a.post-item-title` links on the malformed page, as text.
    public static let malformedTitles = ["Unclosed <p> & friends", "The second link survives"]
    /// The title of the one `a.post-item-title` link on the gzip page, as text.
    public static let gzipTitle = "Served gzip-compressed"
}
