import NIOCore

/// The bodies of the fault endpoints (see ``BlogSiteFault``): pure functions of the site's
/// origin and catalog, rendered once per site.
struct BlogFaultPages: Sendable {
    let origin: String
    let catalog: BlogCatalog

    /// The post the fault pages' links point at, the `n`-th of the site (clamped to the site).
    func linkedPost(_ n: Int) -> BlogPost {
        catalog.post(id: BlogCatalog.firstPostID + min(n, catalog.postCount - 1))!
    }

    /// The `a.post-item-title` links a fault page holds, as (absolute href, title) pairs.
    func links(on fault: BlogSiteFault) -> [(href: String, title: String)] {
        switch fault {
        case .latin1Header, .latin1Meta:
            [(origin + linkedPost(0).path, BlogSiteFault.latin1Title)]
        case .malformedMarkup:
            [
                (origin + linkedPost(1).path, BlogSiteFault.malformedTitles[0]),
                (origin + linkedPost(2).path, BlogSiteFault.malformedTitles[1]),
            ]
        case .gzip:
            [(origin + linkedPost(3).path, BlogSiteFault.gzipTitle)]
        default:
            []
        }
    }

    /// `/faults/`: one link per fault, with what it does.
    func index() -> ByteBuffer {
        var html = BlogPageChrome.head(title: "Faults - Spindle fixture blog", canonical: origin + "/faults/")
        html += BlogPageChrome.header(linksFaults: true)
        html += "<div id=\"main\">\n<h1>Fault endpoints</h1>\n<ul class=\"faults\">\n"
        for fault in BlogSiteFault.allCases {
            html += "<li><a href=\"\(fault.path)\" class=\"fault\">\(fault.rawValue)</a>: \(HTMLEscaping.escape(fault.summary))</li>\n"
        }
        html += "</ul>\n</div>\n" + BlogPageChrome.footer(origin: origin)
        return ByteBuffer(string: html)
    }

    /// A small, valid UTF-8 page with a title and a link back to the first list page; what the
    /// flaky endpoints answer once they have recovered, and the private page.
    func plainPage(title: String) -> ByteBuffer {
        ByteBuffer(string: """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>\(HTMLEscaping.escape(title))</title></head>
            <body><h1>\(HTMLEscaping.escape(title))</h1>
            <p><a href="/sitehome/p/1">Back to the first page</a></p></body></html>

            """)
    }

    /// The ISO-8859-1 page; `declareInMeta` puts the charset in `<meta>` instead of the header.
    func latin1Page(declareInMeta: Bool) -> ByteBuffer {
        let meta = declareInMeta ? "<meta charset=\"iso-8859-1\">" : ""
        let link = links(on: .latin1Header)[0]
        let text = """
            <!DOCTYPE html>
            <html><head>\(meta)<title>Fa\u{E7}ade</title></head>
            <body>
            <p>R\u{E9}sum\u{E9} of a caf\u{E9}: \u{A3}5, \u{A9} 2024, \u{BD} \u{D7} 2 \u{F7} 3.</p>
            <article class="post-item"><a class="post-item-title" href="\(linkedPost(0).path)" target="_blank">
                \(HTMLEscaping.escape(link.title))
            </a></article>
            </body></html>

            """
        // Every scalar above is below U+0100, so each one is exactly one ISO-8859-1 byte.
        return ByteBuffer(bytes: text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
    }

    /// Markup a strict parser would reject: unquoted attributes, unclosed `<p>`, `<li>`, `<td>`,
    /// stray end tags, a bare `&` and an entity without its semicolon.
    func malformedPage() -> ByteBuffer {
        let titles = BlogSiteFault.malformedTitles.map(HTMLEscaping.escape)
        return ByteBuffer(string: """
            <html><head><title>Malformed & proud</title>
            <body>
            <div id=main class=broken>
            <p>An unclosed paragraph with a bare & and an entity without semicolon &amp copy
            <ul><li>first item<li>second item
            <table><tr><td>cell one<td>cell two
            </span></b></div></div>
            <article class=post-item><a class=post-item-title href=\(linkedPost(1).path) target=_blank>\(titles[0])</a>
            <p>summary with <b>bold <i>nested</b> badly</i>
            <article class="post-item"><div><a href="\(origin)\(linkedPost(2).path)" class="post-item-title">
              \(titles[1])
            </a>
            <a href="/sitehome/p/1" class="post-item-author">not a title link</a>
            </body>

            """)
    }

    /// The gzip page, already gzip-encoded.
    func gzipPage() -> ByteBuffer {
        let html = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>gzip</title></head>
            <body><article class="post-item"><a class="post-item-title" href="\(linkedPost(3).path)">\(HTMLEscaping.escape(BlogSiteFault.gzipTitle))</a></article>
            <p>\(String(repeating: "This page travelled gzip-encoded. ", count: 40))</p>
            </body></html>

            """
        return ByteBuffer(bytes: GzipEncoding.encode(Array(html.utf8)))
    }

    /// A PNG signature and header chunk followed by seeded noise: not HTML, whatever a parser
    /// makes of it.
    func pngImage() -> ByteBuffer {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        var random = SplitMix64(seed: catalog.seed, stream: 0x0B1A_4E5)
        bytes += (0..<4096).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        return ByteBuffer(bytes: bytes)
    }

    /// One chunk of the huge bodies: 64 KiB of filler HTML text.
    static let fillerChunk: ByteBuffer = {
        let line = "<p>filler filler filler filler filler filler filler filler filler filler filler</p>\n"
        var text = String(repeating: line, count: 64 * 1024 / line.utf8.count + 1)
        text = String(decoding: text.utf8.prefix(64 * 1024), as: UTF8.self)
        return ByteBuffer(string: text)
    }()
}
