import Foundation
import NIOCore

/// Renders the blog site's pages in the shape of the course's crawl target (cnblogs.com's
/// `sitehome` list): a header, a list of `article.post-item` entries whose titles are
/// `a.post-item-title` anchors, a sidebar, a pager (previous, first, a window around the current
/// page, last, next), and a footer.
///
/// Links inside the site are a realistic mix of absolute URLs (naming ``origin``) and
/// root-relative paths; links that leave the site point at the reserved `.example` domain, so
/// they never resolve. Rendering is pure: the same catalog and origin give the same bytes.
struct BlogPageRenderer: Sendable {
    let catalog: BlogCatalog
    /// `http://host:port`, with no trailing slash.
    let origin: String
    /// Whether pages link the fault endpoints.
    let linksFaults: Bool

    /// The origin of every off-site link: a reserved domain that never resolves.
    static let elsewhere = "https://www.blogs.example"

    /// The absolute URL of list page `page`.
    func listPageURL(_ page: Int) -> String { "\(origin)/sitehome/p/\(page)" }

    /// The href a list page gives the post: absolute or root-relative, as the catalog decided.
    func href(of post: BlogPost) -> String {
        post.hasAbsoluteHref ? origin + post.path : post.path
    }

    // MARK: Pages

    /// `/sitehome/p/{page}`; `page` must be in range.
    func listPage(_ page: Int) -> ByteBuffer {
        var html = ""
        html.reserveCapacity(64 * 1024)
        html += BlogPageChrome.head(title: "博客园 - 开发者的网上家园 - 第 \(page) 页", canonical: listPageURL(page))
        html += BlogPageChrome.header(linksFaults: linksFaults)
        html += """
            <div id="main">
            <div id="main_flow">
            <div class="card headline">
                <h2>网站首页 · 第 \(page) 页 / 共 \(catalog.pages) 页</h2>
                <p class="headline-desc">Posts from developers: threads, processes, coroutines &amp; everything in between.</p>
            </div>
            <div id="post_list" class="post-list">

            """
        for post in catalog.posts(onPage: page) {
            appendArticle(for: post, to: &html)
        }
        html += "</div>\n"
        appendPager(current: page, to: &html)
        html += "</div>\n"
        appendSidebar(page: page, to: &html)
        html += "</div>\n"
        html += BlogPageChrome.footer(origin: origin)
        return ByteBuffer(string: html)
    }

    /// `/post/{id}.html`.
    func postPage(_ post: BlogPost) -> ByteBuffer {
        let title = HTMLEscaping.escape(post.title)
        let author = HTMLEscaping.escape(post.author)
        var html = BlogPageChrome.head(title: "\(title) - \(author) - 博客园", canonical: origin + post.path)
        html += BlogPageChrome.header(linksFaults: linksFaults)
        html += """
            <div id="main">
            <div id="post_detail">
            <div class="post">
                <h1 class="postTitle">
                    <a id="cb_post_title_url" class="postTitle2" href="\(origin)\(post.path)"><span role="heading">\(title)</span></a>
                </h1>
                <div class="postBody">
                    <div id="cnblogs_post_body" class="blogpost-body">

            """
        for paragraph in catalog.body(of: post) {
            html += "            <p>\(HTMLEscaping.escape(paragraph))</p>\n"
        }
        html += """
                    </div>
                </div>
                <div class="postDesc">posted @ <span id="post-date">\(post.published)</span>&nbsp;
                    <a href="\(Self.elsewhere)/u/\(post.authorSlug)/">\(author)</a>&nbsp;
                    阅读(<span id="post_view_count">\(post.views)</span>)&nbsp; 评论(<span id="post_comment_count">\(post.comments)</span>)
                </div>
            </div>
            <div id="post_next_prev">

            """
        if let previous = catalog.post(id: post.id - 1) {
            html += "    <a href=\"\(previous.path)\" class=\"p_n_p_prefix\">« 上一篇：\(HTMLEscaping.escape(previous.title))</a><br>\n"
        }
        if let next = catalog.post(id: post.id + 1) {
            html += "    <a href=\"\(origin)\(next.path)\" class=\"p_n_p_prefix\">» 下一篇：\(HTMLEscaping.escape(next.title))</a>\n"
        }
        html += """
            </div>
            <p class="back"><a href="/sitehome/p/\(post.page)" class="back-to-list">← 返回第 \(post.page) 页</a></p>
            </div>
            </div>

            """
        html += BlogPageChrome.footer(origin: origin)
        return ByteBuffer(string: html)
    }

    /// `/`: a short page that links the first list page (and the fault index when faults are on).
    func homePage() -> ByteBuffer {
        var html = BlogPageChrome.head(title: "博客园 - 开发者的网上家园", canonical: origin + "/")
        html += BlogPageChrome.header(linksFaults: linksFaults)
        html += """
            <div id="main">
            <p>\(catalog.pages) pages of \(catalog.postsPerPage) posts. Start at
            <a href="/sitehome/p/1" class="start">the first page</a>.</p>
            </div>

            """
        html += BlogPageChrome.footer(origin: origin)
        return ByteBuffer(string: html)
    }

    /// `/robots.txt`: disallows `/admin/` for everyone and everything for one named bot; with
    /// faults on, also `/faults/private/`. `Crawl-delay` only when configured.
    func robotsTxt(crawlDelay: Double?) -> ByteBuffer {
        var text = """
            # robots.txt of the Spindle fixture blog site
            User-agent: BadBot
            Disallow: /

            User-agent: *
            Disallow: /admin/

            """
        if linksFaults { text += "Disallow: \(BlogSiteFault.privateDirectory)\n" }
        if let crawlDelay { text += "Crawl-delay: \(crawlDelay)\n" }
        return ByteBuffer(string: text)
    }

    // MARK: Parts

    private func appendArticle(for post: BlogPost, to html: inout String) {
        let id = post.id
        let author = HTMLEscaping.escape(post.author)
        html += """
                <article class="post-item" data-post-id="\(id)">
                    <section class="post-item-body">
                        <div class="post-item-text">
                            <a class="post-item-title" href="\(href(of: post))" target="_blank">\(post.leadingPadding)\(HTMLEscaping.escape(post.title))\(post.trailingPadding)</a>
                            <p class="post-item-summary">
                                <a href="\(Self.elsewhere)/u/\(post.authorSlug)/" target="_blank"><img src="https://pic.blogs.example/face/\(post.authorSlug).png" class="avatar" alt="\(author)" /></a>
                                \(HTMLEscaping.escape(post.summary))
                            </p>
                        </div>
                        <footer class="post-item-foot">
                            <a href="\(Self.elsewhere)/u/\(post.authorSlug)/" class="post-item-author"><span>\(author)</span></a>
                            <span class="post-meta-item"><span>\(post.published)</span></span>
                            <a id="digg_control_\(id)" title="推荐" class="post-meta-item btn" href="javascript:void(0)" onclick="DiggPost('\(post.authorSlug)',\(id),0,1);return false;">
                                <svg width="16" height="16" xmlns="http://www.w3.org/2000/svg"><use xlink:href="#icon_digg"></use></svg>
                                <span id="digg_count_\(id)">\(post.diggs)</span>
                            </a>
                            <a title="评论" class="post-meta-item btn" href="\(post.path)#commentform">
                                <svg width="16" height="16" xmlns="http://www.w3.org/2000/svg"><use xlink:href="#icon_comment"></use></svg>
                                <span>\(post.comments)</span>
                            </a>
                            <a title="阅读" class="post-meta-item btn" href="\(post.path)">
                                <svg width="16" height="16" xmlns="http://www.w3.org/2000/svg"><use xlink:href="#icon_views"></use></svg>
                                <span>\(post.views)</span>
                            </a>
                            <span class="post-tags">
            """
        for tag in post.tags {
            let escaped = HTMLEscaping.escape(tag)
            html += "<a href=\"\(Self.elsewhere)/tag/\(escaped.addingSlugEscapes)/\" class=\"post-tag\">\(escaped)</a> "
        }
        html += "</span>\n            </footer>\n        </section>\n    </article>\n"
    }

    /// How many list pages either side of the current one the pager links, besides the first,
    /// the last, the previous and the next.
    static let pagerRadius = 3

    /// The list pages the pager of page `current` links by number, in order: the first, the
    /// last, and those within ``pagerRadius`` of `current` (`current` itself included).
    ///
    /// A window, as real blogs have, keeps a list page the same size however many pages the
    /// site has, while every page stays reachable from any other by following pager links.
    static func pagerPages(current: Int, pageCount: Int) -> [Int] {
        let window = max(1, current - pagerRadius)...min(pageCount, current + pagerRadius)
        var pages = Array(window)
        if window.lowerBound > 1 { pages.insert(1, at: 0) }
        if window.upperBound < pageCount { pages.append(pageCount) }
        return pages
    }

    /// `‹ 1 … 4 5 6 [7] 8 9 10 … 200 ›`: previous, first, a window around the current page,
    /// last, next; an ellipsis stands for each gap.
    private func appendPager(current: Int, to html: inout String) {
        html += "<div class=\"pager\">\n"
        if current > 1 { html += "<a href=\"/sitehome/p/\(current - 1)\" class=\"p_prev\">&lt;</a>\n" }
        var previous = 0
        for page in Self.pagerPages(current: current, pageCount: catalog.pages) {
            if page > previous + 1 { html += "<span class=\"p_gap\">…</span>\n" }
            html += page == current
                ? "<a href=\"/sitehome/p/\(page)\" class=\"p_\(page) current\">\(page)</a>\n"
                : "<a href=\"/sitehome/p/\(page)\" class=\"p_\(page)\">\(page)</a>\n"
            previous = page
        }
        if current < catalog.pages { html += "<a href=\"/sitehome/p/\(current + 1)\" class=\"p_next\">&gt;</a>\n" }
        html += "</div>\n"
    }

    /// Links to posts on other pages (valid, same-site), a tag cloud and a calendar.
    private func appendSidebar(page: Int, to html: inout String) {
        html += "<div id=\"sidebar\">\n<div class=\"sidebar-block\">\n<h4>推荐博客 · Recommended</h4>\n<ul>\n"
        var random = SplitMix64(seed: catalog.seed ^ 0x51DE_BA12, stream: UInt64(page))
        for _ in 0..<10 {
            let post = catalog.post(page: random.inRange(1...catalog.pages), index: random.below(catalog.postsPerPage))
            html += "<li><a class=\"sidebar-item-title\" href=\"\(post.path)\">\(HTMLEscaping.escape(post.title))</a> <span class=\"sidebar-count\">(\(post.views))</span></li>\n"
        }
        html += "</ul>\n</div>\n<div class=\"sidebar-block\">\n<h4>热门标签 · Tags</h4>\n<p class=\"tag-cloud\">\n"
        for topic in Vocabulary.topics {
            let escaped = HTMLEscaping.escape(topic)
            html += "<a href=\"\(Self.elsewhere)/tag/\(escaped.addingSlugEscapes)/\" class=\"tag-size-\(random.inRange(1...5))\">\(escaped)</a>\n"
        }
        html += "</p>\n</div>\n"
        html += BlogPageChrome.calendar
        html += "</div>\n"
    }
}

extension String {
    /// Spaces, slashes and `#` made URL-safe for the made-up tag links.
    fileprivate var addingSlugEscapes: String {
        replacingOccurrences(of: " ", with: "%20")
            .replacingOccurrences(of: "/", with: "%2F")
            .replacingOccurrences(of: "#", with: "%23")
    }
}
