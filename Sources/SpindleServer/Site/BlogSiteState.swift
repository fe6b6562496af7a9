import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// What a running blog site shares between requests: the catalog, the rendered pages (cached
/// within a byte budget), the flaky endpoints' memory of which URLs they have seen, and the
/// request log.
///
/// Pages name the site's own origin in their absolute links, and the port is only known once
/// the server is bound, so rendering starts at ``didBind(origin:)``, which the server calls
/// before it accepts its first connection.
// Sendable: the mutable fields are read and written only under `lock`; the rest are `let`s of Sendable types.
final class BlogSiteState: @unchecked Sendable {
    /// The pages that do not depend on a request, rendered once at bind time.
    struct FixedPages: Sendable {
        var renderer: BlogPageRenderer
        var faults: BlogFaultPages
        var home: ByteBuffer
        var robots: ByteBuffer
        var faultIndex: ByteBuffer
        var latin1Header: ByteBuffer
        var latin1Meta: ByteBuffer
        var malformed: ByteBuffer
        var gzip: ByteBuffer
        var png: ByteBuffer
    }

    private enum CacheKey: Hashable {
        case list(Int)
        case post(Int)
    }

    /// How many bytes of rendered pages are kept: all list pages of a 2,000-page site (the
    /// crawl benchmark's, about 125 MB), so a benchmark measures the crawler rather than the
    /// site rendering pages (about 1 ms each) on the same cores; pages beyond the budget are
    /// rendered for each request. Memory is only taken as pages are asked for.
    static let cacheBudget = 160 * 1024 * 1024
    /// How many distinct URLs the flaky endpoints remember; then they forget them all.
    static let maximumRememberedURLs = 100_000

    let configuration: BlogSiteConfiguration
    let catalog: BlogCatalog
    let requestLog = BlogRequestLog()

    private let lock = NIOLock()
    /// Protected by `lock`; set once by `didBind`.
    private var fixed: FixedPages?
    /// Protected by `lock`.
    private var cache: [CacheKey: ByteBuffer] = [:]
    /// Protected by `lock`.
    private var cachedBytes = 0
    /// Protected by `lock`.
    private var seenURLs: Set<String> = []

    init(configuration: BlogSiteConfiguration) {
        self.configuration = configuration
        self.catalog = BlogCatalog(
            seed: configuration.seed,
            pages: configuration.pages,
            postsPerPage: configuration.postsPerPage
        )
    }

    /// Renders the fixed pages for `origin` (`http://host:port`).
    func didBind(origin: String) {
        let renderer = BlogPageRenderer(catalog: catalog, origin: origin, linksFaults: configuration.faults)
        let faults = BlogFaultPages(origin: origin, catalog: catalog)
        let pages = FixedPages(
            renderer: renderer,
            faults: faults,
            home: renderer.homePage(),
            robots: renderer.robotsTxt(crawlDelay: configuration.crawlDelay),
            faultIndex: faults.index(),
            latin1Header: faults.latin1Page(declareInMeta: false),
            latin1Meta: faults.latin1Page(declareInMeta: true),
            malformed: faults.malformedPage(),
            gzip: faults.gzipPage(),
            png: faults.pngImage()
        )
        lock.withLock { fixed = pages }
    }

    /// The fixed pages; `nil` only before the server is bound.
    var fixedPages: FixedPages? {
        lock.withLock { fixed }
    }

    /// List page `page`, or `nil` when out of range.
    func listPage(_ page: Int) -> ByteBuffer? {
        guard (1...catalog.pages).contains(page), let renderer = fixedPages?.renderer else { return nil }
        return cached(.list(page)) { renderer.listPage(page) }
    }

    /// The page of post `id`, or `nil` when the site has no such post.
    func postPage(id: Int) -> ByteBuffer? {
        guard let post = catalog.post(id: id), let renderer = fixedPages?.renderer else { return nil }
        return cached(.post(id)) { renderer.postPage(post) }
    }

    /// True the first time `url` is asked about (and again after the memory fills up and is
    /// cleared).
    func isFirstVisit(_ url: String) -> Bool {
        lock.withLock {
            if seenURLs.count >= Self.maximumRememberedURLs { seenURLs.removeAll() }
            return seenURLs.insert(url).inserted
        }
    }

    /// Renders outside the lock: two requests racing for an uncached page both render it, which
    /// is cheaper than making every request wait on one renderer.
    private func cached(_ key: CacheKey, render: () -> ByteBuffer) -> ByteBuffer {
        if let page = lock.withLock({ cache[key] }) { return page }
        let page = render()
        lock.withLock {
            if cache[key] == nil, cachedBytes + page.readableBytes <= Self.cacheBudget {
                cache[key] = page
                cachedBytes += page.readableBytes
            }
        }
        return page
    }
}
