import Foundation
import NIOCore
@testable import SpindleCrawler
@testable import SpindleServer
import Testing

/// Markup that puts the tree walk's shortcuts to the test: class lists split by tabs and
/// newlines, a repeated class attribute, look-alike text in a comment, a script and an
/// attribute, unclosed and misnested tags, a prefixed element name, uppercase tags and an
/// empty class.
private let trickyPage = """
    <!DOCTYPE html>
    <HTML><head><title>t</title>
    <script>var s = '<a class="post-item-title" id="in-script">no</a>';</script></head>
    <body>
    <!-- <a class="post-item-title" id="in-comment">no</a> -->
    <div id="main" class="content\twide">
      <A ID="upper" CLASS="Post-Item-Title post-item-title">upper-case tag and attribute names</A>
      <a id="tabs" class="\tpost-item-title\nfeatured\r">tabs</a>
      <a id="twice" class="other" class="post-item-title">first class attribute wins</a>
      <a id="empty" class="">empty</a>
      <a id="bare" class>bare</a>
      <p id="p1" class="post">unclosed <a id="in-p" class="post-item-title post" title='class="post-item-title"'>x</a>
      <p id="p2" class="post"><b id="b1" class="post">bold <i id="i1" class="post">both</b> after</i>
      <svg:a id="prefixed" class="post-item-title">prefixed</svg:a>
      <span id="post" class="post-item-titles">almost</span>
      <ul id="list" class="post"><li id="li1" class="post-item-title">one<li id="li2" class="post">two</ul>
    </div>
    <div id="side" class="post"><a id="side-a" class="featured post-item-title">side</a></div>
    </body></HTML>
    """

/// A list page of the blog site, as `spindle site` serves it.
private let blogListPage: String = {
    let renderer = BlogPageRenderer(
        catalog: BlogCatalog(seed: 7, pages: 30, postsPerPage: 20), origin: "http://127.0.0.1:8080", linksFaults: true)
    return String(decoding: renderer.listPage(12).readableBytesView, as: UTF8.self)
}()

private func ids(_ elements: [HTMLElement]) -> [String] {
    elements.map { $0.attribute("id") ?? "<\($0.name)>" }
}

@Suite("CSSSelector tree walk")
struct CSSSelectorMatcherTests {
    static let simpleSelectors = [
        "a", "A", "li", "p", "svg", "title", "nope", "*.post", ".post", ".post-item-title", "a.post-item-title",
        "A.post-item-title", "a.post-item-title.featured", ".featured.post-item-title", "a.Post-Item-Title",
        "#main", "div#main", "div#main.content", "div#main.wide.content", "#upper", "a#upper", "#Main",
        "b.post", "i.post", "li.post-item-title", ".post-item-titles", "span.post-item-title", "#post.post-item-titles",
        "#main#main", "#main#side", "p.post", "ul.post", "_x", "a.content", " a", "a ", "\ta.post-item-title\n",
    ]

    @Test("a single compound selects exactly what its XPath translation selects, from the document", arguments: simpleSelectors)
    func walkMatchesXPathFromDocument(source: String) throws {
        let selector = try CSSSelector(source)
        #expect(selector.matcher != nil, "\(source) should be walked, not evaluated as XPath")
        for html in [trickyPage, blogListPage] {
            let document = HTMLDocument(html: html)
            let walked = try document.select(selector)
            let evaluated = try document.select(xpath: selector.xpath)
            #expect(walked == evaluated, "\(source): walk \(ids(walked)), XPath \(ids(evaluated))")
        }
    }

    @Test("from an element, the walk stays inside it and leaves the element itself out", arguments: ["#main", "#side", "#p2", "#list", "body"])
    func walkMatchesXPathFromElement(context: String) throws {
        let document = HTMLDocument(html: trickyPage)
        let element = try #require(try document.selectFirst(context))
        for source in Self.simpleSelectors {
            let selector = try CSSSelector(source)
            let walked = try element.select(selector)
            let evaluated = try element.select(xpath: selector.xpath)
            #expect(walked == evaluated, "\(context) \(source): walk \(ids(walked)), XPath \(ids(evaluated))")
            #expect(!walked.contains(element))
        }
    }

    @Test("the tricky page's class matches are the expected ones")
    func knownMatches() throws {
        let document = HTMLDocument(html: trickyPage)
        let titles = ids(try document.select("a.post-item-title"))
        let featured = ids(try document.select(".featured"))
        let main = ids(try document.select("#main.content.wide"))
        // libxml2's HTML parser drops the `svg:` prefix, so that element is an `a` too.
        #expect(titles == ["upper", "tabs", "in-p", "prefixed", "side-a"])
        #expect(featured == ["tabs", "side-a"])
        #expect(main == ["main"])
    }

    @Test(
        "selectors beyond one plain compound are left to XPath",
        arguments: [
            "a b", "a > b", "a.b, c", "a[href]", "a:first-child", ".\\31 x", "é.x", "a.é", "#1", ".-x",
            "a.", "a#", "*", "a..b", "div *",
        ]
    )
    func otherShapesUseXPath(source: String) {
        let selector = try? CSSSelector(source)
        #expect(selector?.matcher == nil)
    }
}
