/// One post of the blog site, as its list page and its own page show it.
struct BlogPost: Sendable {
    /// The number in the post's URL, `/post/{id}.html`.
    var id: Int
    /// The list page that links it (1-based).
    var page: Int
    /// Its position on that list page (0-based).
    var index: Int
    /// The title as a reader sees it: no markup, no surrounding whitespace.
    var title: String
    var author: String
    var authorSlug: String
    /// `yyyy-MM-dd HH:mm`, as cnblogs prints it.
    var published: String
    var summary: String
    var tags: [String]
    var comments: Int
    var diggs: Int
    var views: Int
    /// Whether the list page links it with an absolute URL (else with a root-relative path).
    var hasAbsoluteHref: Bool
    /// Whitespace the list page puts around the title inside its anchor.
    var leadingPadding: String
    var trailingPadding: String

    /// The root-relative path of the post's page.
    var path: String { "/post/\(id).html" }
}

/// Everything the site says, derived from a seed: posts are numbered in page order and each is
/// generated from its own seeded stream, so any page can be rendered first and the same seed
/// always gives the same text.
struct BlogCatalog: Sendable {
    /// The id of the first post on page 1 (cnblogs-sized numbers).
    static let firstPostID = 17_000_001

    let seed: UInt64
    let pages: Int
    let postsPerPage: Int

    var postCount: Int { pages * postsPerPage }

    /// The posts a list page links, in order; empty for a page number out of range.
    func posts(onPage page: Int) -> [BlogPost] {
        guard (1...pages).contains(page) else { return [] }
        return (0..<postsPerPage).map { post(page: page, index: $0) }
    }

    /// The post with this id, if the site has it.
    func post(id: Int) -> BlogPost? {
        let ordinal = id - Self.firstPostID
        guard ordinal >= 0, ordinal < postCount else { return nil }
        return post(page: ordinal / postsPerPage + 1, index: ordinal % postsPerPage)
    }

    func post(page: Int, index: Int) -> BlogPost {
        let ordinal = (page - 1) * postsPerPage + index
        var random = SplitMix64(seed: seed, stream: UInt64(ordinal))
        let author = random.pick(Vocabulary.authors)
        return BlogPost(
            id: Self.firstPostID + ordinal,
            page: page,
            index: index,
            title: Self.title(&random),
            author: author.name,
            authorSlug: author.slug,
            published: Self.timestamp(ordinal: ordinal, &random),
            summary: Self.sentences(&random, count: random.inRange(3...5)),
            tags: (0..<random.inRange(1...3)).map { _ in random.pick(Vocabulary.topics) },
            comments: random.below(40),
            diggs: random.below(60),
            views: random.inRange(20...20_000),
            hasAbsoluteHref: random.chance(2, in: 3),
            leadingPadding: random.pick(Vocabulary.paddings),
            trailingPadding: random.pick(Vocabulary.paddings)
        )
    }

    /// A few paragraphs of body text for a post's own page.
    func body(of post: BlogPost) -> [String] {
        var random = SplitMix64(seed: seed ^ 0x5EED_B0D1, stream: UInt64(post.id))
        return (0..<random.inRange(3...6)).map { _ in Self.sentences(&random, count: random.inRange(3...6)) }
    }

    // MARK: Text generation

    private static func title(_ random: inout SplitMix64) -> String {
        let topic = random.pick(Vocabulary.topics)
        var other = random.pick(Vocabulary.topics)
        if other == topic { other = "Swift" }
        let phrase = random.pick(Vocabulary.chinesePhrases)
        let thing = random.pick(Vocabulary.things)
        switch random.below(8) {
        case 0: return "\(topic) \(phrase)"
        case 1: return "\(phrase)：\(topic) & \(other)"
        case 2: return "How \"\(topic)\" handles \(thing)"
        case 3: return "\(topic) vs \(other): which one is faster?"
        case 4: return "Don't block the \(thing) in \(topic)"
        case 5: return "<\(topic)> \(phrase)（\(random.inRange(1...9))）"
        case 6: return "\(topic) \(random.inRange(2...12)) 个\(phrase)技巧"
        default: return "[\(topic)] \(thing) & \(phrase) — notes"
        }
    }

    private static func sentences(_ random: inout SplitMix64, count: Int) -> String {
        (0..<count).map { _ in
            let words = (0..<random.inRange(8...16)).map { _ in random.pick(Vocabulary.words) }
            return words.joined(separator: " ").capitalizedFirst + random.pick([".", ".", ".", "?", "；", "。"])
        }.joined(separator: " ")
    }

    /// Posts get older down the site: about eight a day, walking back from 30 June 2024.
    private static func timestamp(ordinal: Int, _ random: inout SplitMix64) -> String {
        let (year, month, day) = civilDate(daysSinceEpoch: 19_904 - ordinal / 8)
        let hour = random.below(24)
        let minute = random.below(60)
        return "\(year)-\(twoDigits(month))-\(twoDigits(day)) \(twoDigits(hour)):\(twoDigits(minute))"
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`), so the fixture needs no calendar or time zone.
    private static func civilDate(daysSinceEpoch: Int) -> (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}

extension String {
    fileprivate var capitalizedFirst: String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }
}
