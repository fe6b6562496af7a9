import Foundation
import CLibXML2
@testable import SpindleCrawler
import Testing

@Suite("HTMLDocument")
struct HTMLDocumentTests {
    private static let page = """
        <html><head><title>
          Spindle   &amp; friends
        </title></head><body>
        <article id="post" class="post" DATA-Kind="long">
          <h2>Hello <em>brave</em>
          world</h2>
          <input id="box" type="checkbox" disabled data-flag>
          <a id="link" HREF=" /posts/1 " title="caf\u{E9}">Read</a>
        </article>
        </body></html>
        """

    @Test("reads an element's name, text, attributes and markup")
    func elementAccessors() throws {
        let document = HTMLDocument(html: Self.page)
        #expect(document.title == "Spindle & friends")
        let post = try #require(try document.selectFirst("#post"))
        #expect(post.name == "article")
        #expect(post.attributes == ["id": "post", "class": "post", "data-kind": "long"])
        #expect(post.attribute("Data-Kind") == "long")
        #expect(post[attribute: "class"] == "post")
        #expect(post.attribute("missing") == nil)
        #expect(post.children.map(\.name) == ["h2", "input", "a"])
        #expect(post.parent?.name == "body")
        #expect(post.trimmedText == "Hello brave world Read")

        let heading = try #require(post.children.first)
        #expect(heading.text == "Hello brave\n  world")
        #expect(heading.innerHTML == "Hello <em>brave</em>\n  world")
        #expect(heading.outerHTML == "<h2>Hello <em>brave</em>\n  world</h2>")

        let box = try #require(try document.selectFirst("input"))
        #expect(box.attribute("data-flag") == "")
        // libxml2 gives the boolean attributes it knows their own name as value.
        #expect(box.attribute("disabled") == "disabled")
        let link = try #require(try document.selectFirst("a"))
        #expect(link.attribute("title") == "café")
        #expect(link.attribute("href") == " /posts/1 ")
    }

    @Test("title is nil without a title element")
    func missingTitle() {
        #expect(HTMLDocument(html: "<p>no title</p>").title == nil)
        #expect(HTMLDocument(html: "<title></title>").title == "")
    }

    @Test(
        "parses broken HTML and still finds its links",
        arguments: [
            ("<div><a href=/a>one<a href=/b>two", ["one", "two"]),
            ("</div></div><a href=/c>stray</a></span>", ["stray"]),
            ("<p><div><a href=/d>nested</a></p></div>", ["nested"]),
            ("<table><tr><td><a href=/e>cell</td><a href=/f>after", ["cell", "after"]),
            ("<a href=/g>unterminated <b>bold", ["unterminated bold"]),
            ("<a href=/h>outer<a href=/i>inner</a></a>", ["outer", "inner"]),
            ("<b><a href=/n>bold</b> tail</a>", ["bold"]),
            ("\0\0<a href=/j>after NULs</a>", ["after NULs"]),
            ("<a href=/k>nul\0inside</a>", ["nul\u{FFFD}inside"]),
            ("<!-- unclosed comment <a href=/l>hidden</a>", []),
            ("<<<>>><a href=/m>angles</a>", ["angles"]),
        ]
    )
    func brokenHTML(html: String, texts: [String]) throws {
        let links = try HTMLDocument(html: html).select("a[href]")
        #expect(links.map(\.trimmedText) == texts)
    }

    @Test("parses empty input and binary junk without crashing")
    func junk() throws {
        let empty = HTMLDocument(html: "")
        #expect(empty.root == nil)
        #expect(try empty.select("a").isEmpty)
        #expect(try empty.select(xpath: "//a").isEmpty)
        #expect(empty.title == nil)

        var state: UInt32 = 12345
        let junk: [UInt8] = (0..<20_000).map { _ in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
        let document = HTMLDocument(bytes: junk)
        #expect(document.root != nil)
        _ = try document.select("a, p, *")

        // Junk without markup characters cannot hide a link that follows it.
        let text = junk.filter { $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: "&") } + Array("<a href=/z>z</a>".utf8)
        let links = try HTMLDocument(bytes: text, url: URL(string: "https://example.com/")).select("a")
        #expect(links.map { $0.absoluteURL()?.absoluteString } == ["https://example.com/z"])
    }

    @Test("keeps parsing past 256 levels of unclosed tags")
    func deepNesting() throws {
        let html = String(repeating: "<div><font>", count: 5_000) + "<a href=/deep>deep</a>"
        let document = HTMLDocument(html: html, url: URL(string: "https://example.com/"))
        let link = try #require(try document.selectFirst("div > font > a"))
        #expect(link.absoluteURL()?.absoluteString == "https://example.com/deep")
        #expect(document.root?.trimmedText == "deep")
        #expect(link.parent?.parent?.name == "div")
    }

    @Test("a meta charset in a String does not make libxml2 decode it again")
    func stringIsAlreadyDecoded() throws {
        let document = HTMLDocument(html: "<meta charset=iso-8859-1><p>café 🚲</p>")
        #expect(try document.selectFirst("p")?.text == "café 🚲")
    }

    @Test("selects with raw XPath and reports rejected expressions")
    func xpath() throws {
        let document = HTMLDocument(html: Self.page)
        #expect(try document.select(xpath: "//a[@id='link'] | //h2").map(\.name) == ["h2", "a"])
        // Non-element nodes are left out.
        #expect(try document.select(xpath: "//a/@href | //h2/text()").isEmpty)
        let post = try #require(try document.selectFirst("#post"))
        #expect(try post.select(xpath: "./h2/em").map(\.text) == ["brave"])

        #expect {
            try document.select(xpath: "//a[")
        } throws: { error in
            let error = error as? XPathError
            return error?.expression == "//a[" && error?.message == "Invalid expression" && error?.offset == 4
        }
        #expect {
            try document.select(xpath: "count(//a)")
        } throws: { error in
            (error as? XPathError)?.message == "the expression does not select nodes"
        }
        #expect {
            try document.select(xpath: "//a[no-such-function()]")
        } throws: { error in
            (error as? XPathError)?.message == "Unregistered function"
        }
        #expect(throws: XPathError.self) { try document.select(xpath: "ex:f(//a)") }
        // The document is still usable after errors.
        #expect(try document.select(xpath: "//a").count == 1)
    }

    @Test("elements keep their document alive and compare by node")
    func elementLifetime() throws {
        let links: [HTMLElement] = try {
            try HTMLDocument(html: "<a href=/1>one</a><a href=/2>two</a>").select("a")
        }()
        #expect(links.map(\.text) == ["one", "two"])
        let again = try links[0].document.select("a")
        #expect(again == links)
        #expect(Set(again + links).count == 2)
    }

    @Test(
        "trimmedText collapses whitespace exactly as splitting at whitespace characters does",
        arguments: [
            "plain", "two words", "并发编程", "Go 并发 编程", "  lead", "trail ", "a  b", "a\tb", "a\nb", "a\r\nb", "",
            " ", "a\u{A0}b", "a\u{3000}b", "a\u{2003}b", "a\u{85}b", "e \u{301}x", "a \u{200D}b", "ひらがな かな",
            "한국어 텍스트", "\u{1F9F5} thread", "caf\u{E9} au lait", "\u{4DC0} hexagram", "a \u{FE0F}b",
            "\n            并发编程 + \"fast\"\n\t\t", "  \n      it's <T>  ", "\n \u{301}lead mark", "trail mark \u{301}\n",
            "\r\n\r\nCRLF\r\n", " \t\n ", "\n\u{A0}x", "x\u{3000} ",
        ]
    )
    func trimmedTextCollapsesWhitespace(text: String) throws {
        let document = HTMLDocument(html: "<p id=t></p>")
        let element = try #require(try document.selectFirst("#t"))
        // Set the text directly, so the parser cannot normalise what the test means to pass
        // (libxml2 reads `&` here as the start of an entity, so the texts have none).
        xmlNodeSetContentLen(element.node, text, Int32(text.utf8.count))
        #expect(element.text == text)
        #expect(element.trimmedText == element.text.split(whereSeparator: \.isWhitespace).joined(separator: " "))
    }

    @Test(
        "resolves links against the page URL",
        arguments: [
            ("post/1", "https://example.com/blog/page/post/1"),
            ("/abs", "https://example.com/abs"),
            ("https://other.org/x?y=1", "https://other.org/x?y=1"),
            ("//cdn.example.net/a.js", "https://cdn.example.net/a.js"),
            ("../up", "https://example.com/blog/up"),
            ("../../../../too-far", "https://example.com/too-far"),
            ("#frag", "https://example.com/blog/page/2?x=1#frag"),
            ("?q=2", "https://example.com/blog/page/2?q=2"),
            ("  /padded\n ", "https://example.com/padded"),
            ("/split\n/path", "https://example.com/split/path"),
            ("/tab\tin/path", "https://example.com/tabin/path"),
            ("\u{A0}/no-break-space\u{3000}", "https://example.com/no-break-space"),
            ("a b/\u{FC}ber", "https://example.com/blog/page/a%20b/%C3%BCber"),
            ("100%/x", "https://example.com/blog/page/100%25/x"),
            ("/%7Euser", "https://example.com/%7Euser"),
            ("", "https://example.com/blog/page/2?x=1"),
            ("mailto:someone@example.com", "mailto:someone@example.com"),
        ]
    )
    func resolvesAgainstPageURL(href: String, expected: String) {
        let document = HTMLDocument(html: "<p>", url: URL(string: "https://example.com/blog/page/2?x=1#top"))
        #expect(document.baseURL?.absoluteString == "https://example.com/blog/page/2?x=1#top")
        #expect(document.resolve(href)?.absoluteString == expected)
    }

    @Test("does not resolve javascript: links, or relative links without a base")
    func unresolvable() {
        let document = HTMLDocument(html: "<p>", url: URL(string: "https://example.com/"))
        #expect(document.resolve("javascript:void(0)") == nil)
        #expect(document.resolve("  JavaScript:alert(1)") == nil)
        #expect(document.resolve("JAVASCRIPT:alert(1)") == nil)
        #expect(document.resolve("javascript") != nil, "a relative path named javascript is a link")
        #expect(document.resolveHTTP("mailto:a@example.com") == nil)
        #expect(document.resolveHTTP("/page")?.absoluteString == "https://example.com/page")

        let noURL = HTMLDocument(html: "<a href=/x>x</a>")
        #expect(noURL.baseURL == nil)
        #expect(noURL.resolve("/x") == nil)
        #expect(noURL.resolve("https://example.com/x")?.absoluteString == "https://example.com/x")
    }

    @Test(
        "resolves links against <base href>",
        arguments: [
            ("/docs/", "guide", "https://example.com/docs/guide"),
            ("../other/", "x", "https://example.com/other/x"),
            ("https://mirror.example.org/root/", "x", "https://mirror.example.org/root/x"),
            ("https://mirror.example.org/root/", "/x", "https://mirror.example.org/x"),
            ("//static.example.org/", "img.png", "https://static.example.org/img.png"),
            ("javascript:void(0)", "x", "https://example.com/blog/x"),
        ]
    )
    func resolvesAgainstBase(base: String, href: String, expected: String) throws {
        let html = "<head><base target=_blank><base href='\(base)'><base href=/ignored/></head><a href='\(href)'>"
        let document = HTMLDocument(html: html, url: URL(string: "https://example.com/blog/post"))
        let link = try #require(try document.selectFirst("a"))
        #expect(link.absoluteURL(for: "href")?.absoluteString == expected)
        #expect(link.absoluteURL(for: "src") == nil)
    }

    @Test("an absolute <base href> works without a page URL")
    func baseWithoutPageURL() throws {
        let document = HTMLDocument(html: "<base href='https://example.com/a/'><img src='b.png'>")
        #expect(document.baseURL?.absoluteString == "https://example.com/a/")
        let image = try #require(try document.selectFirst("img"))
        #expect(image.absoluteURL(for: "src")?.absoluteString == "https://example.com/a/b.png")
    }

    @Test("finds the 20 titles on a 60 KB list page")
    func listPage() throws {
        let html = Self.listPage()
        #expect(html.utf8.count > 60_000)
        let document = HTMLDocument(html: html, url: URL(string: "https://blog.example.com/page/2"))
        let titles = try document.select("a.post-item-title")
        #expect(titles.count == 20)
        #expect(titles.first?.absoluteURL()?.absoluteString == "https://blog.example.com/posts/0")
        #expect(titles.last?.trimmedText == "Post number 19")
    }

    @Test("parses and queries documents on many tasks at once")
    func concurrentDocuments() async throws {
        let html = Self.listPage()
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    let document = HTMLDocument(html: html)
                    #expect(throws: XPathError.self) { try document.select(xpath: "//a[nope()]") }
                    return try document.select("a.post-item-title").count
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counts == Array(repeating: 20, count: 16))
    }

    /// A blog list page shaped like the fixture site's: navigation, 20 posts with excerpts,
    /// decoy links whose class only starts with the title class, and a long footer.
    static func listPage() -> String {
        var html = "<!DOCTYPE html><html><head><meta charset=utf-8><title>Blog</title></head><body><nav>"
        for index in 0..<60 {
            html += "<a class=\"nav-link\" href=\"/c/\(index)\">Category \(index)</a> "
        }
        html += "</nav><main class=\"list\">"
        let sentence = String(repeating: "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", count: 10)
        for post in 0..<20 {
            html += "<article class=\"post-item\"><h2><a class=\"post-item-title\" href=\"/posts/\(post)\">Post number \(post)</a></h2>"
            html += "<div class=\"meta\"><span class=\"author\">Author \(post)</span></div>"
            for paragraph in 0..<4 {
                html += "<p class=\"excerpt\">Paragraph \(paragraph): \(sentence)<em>more</em></p>"
            }
            html += "<a class=\"post-item-title-x\" href=\"/x/\(post)\">x</a>"
            html += "<ul class=\"tags\"><li><a href=\"/t/a\">a</a></li><li><a href=\"/t/b\">b</a></li></ul></article>"
        }
        html += "</main><footer>" + String(repeating: "<div><span>footer</span></div>", count: 60) + "</footer></body></html>"
        return html
    }
}
