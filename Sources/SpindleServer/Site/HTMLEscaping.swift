/// HTML text escaping for the blog site's pages.
enum HTMLEscaping {
    /// `text` with `& < > " '` replaced by entities, safe in element text and in quoted
    /// attribute values. The apostrophe becomes the numeric `&#39;`, as many real sites write it,
    /// so a crawler has to decode numeric entities as well as named ones.
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else {
            return text
        }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count + 16)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }
}
