import SpindleCrawler
import SpindleServer

/// A selection record as the blog site's expected records describe it: what the bench and the
/// tour compare a crawl's records with.
struct SiteLink: Hashable {
    var page: String
    var href: String?
    var text: String

    init(_ link: BlogPostLink) {
        (page, href, text) = (link.pageURL, link.href, link.title)
    }

    init?(_ record: CrawlRecord) {
        guard case .selection(let page, let href, let text) = record else { return nil }
        (self.page, self.href, self.text) = (page, href, text)
    }
}
