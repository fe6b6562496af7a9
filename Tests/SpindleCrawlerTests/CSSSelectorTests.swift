import Foundation
import SpindleCrawler
import Testing

/// Every element a test identifies has an `id`, so results compare as lists of ids.
private let fixture = """
    <!DOCTYPE html>
    <html><head><title>Fixture</title></head>
    <body>
    <div id="main" class="content wide">
      <ul id="posts" class="posts">
        <li id="p1" class="post"><a id="a1" class="post-item-title featured" href="/posts/1">One</a></li>
        <li id="p2" class="post"><a id="a2" class="post-item-title-x" href="/posts/2">Two</a></li>
        <li id="p3" class="post"><a id="a3" class="x  post-item-title" href="https://other.example/3"
            data-kind="external link">Three</a></li>
        <li id="p4" class="post"><span id="s4"><a id="a4" class="post-item-title" href="/posts/4.pdf">Four</a></span></li>
      </ul>
      <p id="intro">Intro <a id="inline" href="#top" lang="en-US">top</a></p>
      <p id="outro"></p>
      <span id="q1" title="it's"></span><span id="q2" title='say "hi"'></span><span id="q3" title="it's &quot;x&quot;"></span>
    </div>
    <div id="side"><a id="side-link" href="mailto:x@example.com">Mail</a></div>
    </body></html>
    """

private func ids(_ elements: [HTMLElement]) -> [String] {
    elements.map { $0.attribute("id") ?? "<\($0.name)>" }
}

@Suite("CSSSelector")
struct CSSSelectorTests {
    @Test(
        "selects the expected elements in document order",
        arguments: [
            // Class token matching: one class among several, never a longer class name.
            ("a.post-item-title", ["a1", "a3", "a4"]),
            (".featured.post-item-title", ["a1"]),
            (".Featured", []),
            ("a.post-item-title-x", ["a2"]),
            // Child versus descendant.
            ("li > a", ["a1", "a2", "a3"]),
            ("li a", ["a1", "a2", "a3", "a4"]),
            ("#main > *", ["posts", "intro", "outro", "q1", "q2", "q3"]),
            ("div p a", ["inline"]),
            ("ul   >   li > span > a", ["a4"]),
            // Type selectors are case-insensitive; ids and classes are not.
            ("LI > A", ["a1", "a2", "a3"]),
            ("#MAIN", []),
            // Groups: document order, no duplicates.
            ("#side a, a.featured, #intro a", ["a1", "inline", "side-link"]),
            ("a.featured, li:first-child a, #a1", ["a1"]),
            // Attribute operators, quoted and unquoted values.
            ("[data-kind]", ["a3"]),
            ("a[href=\"/posts/1\"]", ["a1"]),
            ("a[href='/posts/1']", ["a1"]),
            ("a[href^=\"/posts\"]", ["a1", "a2", "a4"]),
            ("a[href$=pdf]", ["a4"]),
            ("a[href*='example']", ["a3", "side-link"]),
            ("[data-kind~=link]", ["a3"]),
            ("[data-kind~=lin]", []),
            ("[lang|=en]", ["inline"]),
            ("a[HREF^='/POSTS' i]", ["a1", "a2", "a4"]),
            ("a[href^='']", []),
            ("[title=\"it's\"]", ["q1"]),
            ("[title='say \"hi\"']", ["q2"]),
            ("[title=\"it's \\\"x\\\"\"]", ["q3"]),
            // Structural pseudo-classes.
            ("li:first-child", ["p1"]),
            ("li:last-child", ["p4"]),
            ("li:nth-child(2)", ["p2"]),
            ("li:nth-child(odd)", ["p1", "p3"]),
            ("li:nth-child(even)", ["p2", "p4"]),
            ("li:nth-child(3n+1)", ["p1", "p4"]),
            ("li:nth-child(-n+2)", ["p1", "p2"]),
            ("li:nth-child(0)", []),
            ("li:nth-last-child(1)", ["p4"]),
            ("span:only-child", ["s4"]),
            ("p:empty", ["outro"]),
            ("li:not(#p2) > a", ["a1", "a3"]),
            // Sibling combinators.
            ("li + li", ["p2", "p3", "p4"]),
            ("#p2 + li", ["p3"]),
            ("#p1 ~ li", ["p2", "p3", "p4"]),
        ]
    )
    func selects(selector: String, expected: [String]) throws {
        let document = HTMLDocument(html: fixture)
        #expect(ids(try document.select(selector)) == expected)
    }

    @Test(
        "rejects malformed selectors with the position of the problem",
        arguments: [
            ("a[", 3, "expected attribute name"),
            ("a[href", 7, "expected \"]\""),
            ("..x", 2, "expected class name"),
            ("a >", 4, "expected a selector after \">\""),
            (":nth-child(x)", 12, "expected an integer, \"odd\", \"even\" or an+b"),
            ("", 1, "empty selector"),
            ("a,,b", 3, "expected a selector after \",\""),
            ("a,", 3, "expected a selector after \",\""),
            ("div > > a", 7, "expected a selector after \">\""),
            ("a b)", 4, "unexpected \")\""),
            ("a::before", 2, "pseudo-elements are not supported"),
            (":hover", 1, "unsupported pseudo-class \":hover\""),
            ("a[href=\"x]", 11, "expected \" to end the string"),
            ("a[href=x y]", 10, "expected \"]\""),
            ("a[href!=x]", 7, "expected \"]\" or an attribute operator"),
            ("#1a", 2, "expected id"),
            ("li:nth-child(2", 15, "expected \")\""),
        ]
    )
    func rejects(selector: String, position: Int, message: String) {
        let document = HTMLDocument(html: fixture)
        #expect {
            _ = try document.select(selector)
        } throws: { error in
            guard let error = error as? SelectorError else { return false }
            return error.selector == selector && error.position == position && error.message == message
        }
    }

    @Test("describes an error with the selector, message and position")
    func errorDescription() {
        #expect(throws: SelectorError(selector: "a[href", position: 7, message: "expected \"]\"")) {
            try CSSSelector("a[href")
        }
        let error = SelectorError(selector: "a[href", position: 7, message: "expected \"]\"")
        #expect(error.description == "invalid selector \"a[href\": expected \"]\" at position 7")
    }

    @Test("translates to XPath relative to the context node")
    func translation() throws {
        #expect(try CSSSelector("div > a").xpath == "descendant::div/a")
        #expect(try CSSSelector("a, b").xpath == "descendant::a | descendant::b")
        #expect(try CSSSelector("#x").xpath == "descendant::*[@id = 'x']")
        #expect(try CSSSelector(".c").xpath == "descendant::*[contains(concat(' ', normalize-space(@class), ' '), ' c ')]")
        #expect(try CSSSelector("[a=\"it's \\\"q\\\"\"]").xpath == "descendant::*[@a = concat('it', \"'\", 's \"q\"')]")
    }

    @Test("a prepared selector selects the same elements as its source")
    func preparedSelector() throws {
        let document = HTMLDocument(html: fixture)
        let selector = try CSSSelector("a.post-item-title")
        #expect(selector.description == "a.post-item-title")
        #expect(try document.select(selector) == document.select("a.post-item-title"))
    }

    @Test("every selector that parses translates to XPath libxml2 accepts")
    func generatedSelectors() {
        let document = HTMLDocument(html: fixture)
        let alphabet = "ab*.#[]=^$~|'\" >+,:()-_i2n\\\u{1}é".map(String.init) + ["nth-child(", "not(", "first-child", "\\2 "]
        var state: UInt64 = 42
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        var parsed = 0
        for _ in 0..<5_000 {
            let selector = (0..<(1 + next() % 12)).map { _ in alphabet[next() % alphabet.count] }.joined()
            do {
                _ = try document.select(selector)
                parsed += 1
            } catch let error as SelectorError {
                #expect(error.position >= 1 && error.position <= selector.count + 1, "\(error)")
            } catch {
                Issue.record("\(selector.debugDescription) translated to invalid XPath: \(error)")
            }
        }
        #expect(parsed > 100)
    }

    @Test("selecting from an element only matches inside it")
    func relativeToElement() throws {
        let document = HTMLDocument(html: fixture)
        let list = try #require(try document.selectFirst("#posts"))
        #expect(ids(try list.select("a.post-item-title")) == ["a1", "a3", "a4"])
        #expect(ids(try list.select("li:nth-child(2) a")) == ["a2"])
        // The left side of a combinator must be inside the element too.
        #expect(try list.select("div li").isEmpty)
        #expect(try list.select("ul").isEmpty)
        let item = try #require(try document.selectFirst("#p4"))
        #expect(ids(try item.select("a, span")) == ["s4", "a4"])
        #expect(throws: SelectorError.self) { try item.select("a[") }
    }
}
