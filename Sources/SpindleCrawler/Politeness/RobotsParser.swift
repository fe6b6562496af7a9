/// Reads robots.txt text into ``RobotsPolicy`` groups, and matches rule patterns.
enum RobotsParser {
    static func groups(in text: String) -> [RobotsPolicy.Group] {
        var groups: [RobotsPolicy.Group] = []
        var current: RobotsPolicy.Group?
        // A `User-agent` line right after another adds an agent to the same group; after any
        // other line of the group it starts a new group.
        var collectingAgents = false
        var body = Substring(text)
        if body.hasPrefix("\u{FEFF}") { body = body.dropFirst() }
        for rawLine in body.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            let line = rawLine.prefix { $0 != "#" }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let field = line[..<colon].trimmingSpaces().lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces()
            switch field {
            case "user-agent", "useragent", "user agent":
                if !collectingAgents {
                    if let finished = current { groups.append(finished) }
                    current = RobotsPolicy.Group()
                    collectingAgents = true
                }
                let agent = value == "*" ? "*" : productToken(String(value))
                if !agent.isEmpty { current?.agents.append(agent) }
            case "allow", "disallow":
                guard current != nil else { continue }
                collectingAgents = false
                if let rule = rule(allows: field == "allow", pattern: value) {
                    current?.rules.append(rule)
                }
            case "crawl-delay", "crawldelay":
                guard current != nil else { continue }
                collectingAgents = false
                if let seconds = Double(value), seconds.isFinite, seconds >= 0, current?.crawlDelay == nil {
                    current?.crawlDelay = seconds
                }
            default:
                // Sitemap, Host, misspellings and garbage: not part of the rules.
                continue
            }
        }
        if let finished = current { groups.append(finished) }
        return groups
    }

    /// The product token of a user agent, lower-cased: `spindle` for `Spindle/1.0 (+https://…)`.
    static func productToken(_ userAgent: String) -> String {
        userAgent.trimmingSpaces().prefix { $0 != "/" && $0 != " " && $0 != "\t" && $0 != "(" && $0 != ";" }.lowercased()
    }

    /// A rule, or `nil` for an empty pattern (which matches nothing) or one that is not a path.
    private static func rule(allows: Bool, pattern: Substring) -> RobotsPolicy.Rule? {
        guard let first = pattern.first, first == "/" || first == "*" else { return nil }
        let normalised = Array(PercentEncoding.normalize(pattern, as: .query).utf8)
        let anchored = normalised.last == UInt8(ascii: "$")
        return RobotsPolicy.Rule(
            allows: allows,
            pattern: anchored ? Array(normalised.dropLast()) : normalised,
            anchoredAtEnd: anchored,
            length: normalised.count
        )
    }

    /// Whether `rule` matches `path`: `*` matches any run of bytes; without a final `$` the
    /// pattern need only match a prefix.
    static func matches(_ rule: RobotsPolicy.Rule, _ path: [UInt8]) -> Bool {
        let star = UInt8(ascii: "*")
        let pattern = rule.pattern
        var p = 0
        var s = 0
        var starAt = -1
        var resumeAt = 0
        while s < path.count {
            if p == pattern.count && !rule.anchoredAtEnd {
                return true
            }
            if p < pattern.count && pattern[p] == star {
                starAt = p
                resumeAt = s
                p += 1
            } else if p < pattern.count && pattern[p] == path[s] {
                p += 1
                s += 1
            } else if starAt >= 0 {
                // Let the last `*` swallow one more byte and try again from there.
                p = starAt + 1
                resumeAt += 1
                s = resumeAt
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == star { p += 1 }
        return p == pattern.count
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    fileprivate func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return Substring()
        }
        return Substring(self[first...last])
    }
}
