import Foundation

/// What a crawl extracts from each page.
public enum RecordExtraction: Hashable, Sendable {
    /// One ``CrawlRecord/selection(page:href:text:)`` per element the selector matches: the
    /// element's `href` made absolute (nil when it has none) and its trimmed text.
    case selection(CSSSelector)
    /// One ``CrawlRecord/page(page:status:bytes:title:)`` per page: status, body size and
    /// `<title>` (the course's `print(url, len(r.text))`).
    case pageSummary

    /// The shape of the records, which fixes the columns of a CSV file.
    public var shape: RecordShape {
        switch self {
        case .selection: .selection
        case .pageSummary: .page
        }
    }
}

/// The one place a crawl turns a fetched body into records and links: every engine and the
/// frontier crawl call it, so they all yield the same records for the same page.
///
/// Records and links come from one pass over the body: a streaming parse when every selector
/// is decided at start tags (see ``HTMLStreamExtractor``), the page's tree otherwise. A body
/// that is not HTML (by its `Content-Type`) yields no selection, no link, and a page record
/// without a title.
public struct PageExtractor: Sendable {
    /// The records to make.
    public let extraction: RecordExtraction
    /// The links to return: the `href` of every element it matches; nil returns none.
    public let follow: CSSSelector?
    /// One streaming pass for the records and the links, made once; nil when a selector needs
    /// the tree.
    private let stream: HTMLStreamExtractor?

    /// An extractor of `extraction`'s records and of the links `follow` selects.
    public init(extraction: RecordExtraction, follow: CSSSelector? = nil) {
        self.extraction = extraction
        self.follow = follow
        var queries: [HTMLStreamQuery] = []
        if case .selection(let selector) = extraction {
            queries.append(HTMLStreamQuery(selector))
        }
        if let follow {
            queries.append(HTMLStreamQuery(follow, text: false))
        }
        stream = HTMLStreamExtractor(queries, title: extraction == .pageSummary)
    }

    /// The records of `page`, naming `pageURL` as their page, and the absolute `href`s of the
    /// links ``follow`` selects, in document order.
    public func extract(_ page: FetchedPage, pageURL: String) -> (records: [CrawlRecord], links: [URL]) {
        guard page.isHTML else {
            let records: [CrawlRecord] = extraction == .pageSummary
                ? [.page(page: pageURL, status: page.status, bytes: page.bytes, title: nil)] : []
            return (records, [])
        }
        if let stream {
            let result = stream.extract(page)
            let records: [CrawlRecord]
            switch extraction {
            case .pageSummary:
                records = [.page(page: pageURL, status: page.status, bytes: page.bytes, title: result.title)]
            case .selection:
                records = result.matches[0].map { .selection(page: pageURL, href: $0.href?.absoluteString, text: $0.text) }
            }
            let links = follow == nil ? [] : result.matches[stream.queries.count - 1].compactMap(\.href)
            return (records, links)
        }
        let document = HTMLDocument(html: page.decoded().text, url: page.url)
        let records: [CrawlRecord]
        switch extraction {
        case .pageSummary:
            records = [.page(page: pageURL, status: page.status, bytes: page.bytes, title: document.title)]
        case .selection(let selector):
            // A translated selector is valid XPath; if libxml2 still rejects it, the page
            // yields nothing rather than failing the crawl.
            records = ((try? document.select(selector)) ?? []).map { element in
                .selection(page: pageURL, href: element.absoluteURL(for: "href")?.absoluteString, text: element.trimmedText)
            }
        }
        guard let follow else { return (records, []) }
        return (records, ((try? document.select(follow)) ?? []).compactMap { $0.absoluteURL(for: "href") })
    }
}
