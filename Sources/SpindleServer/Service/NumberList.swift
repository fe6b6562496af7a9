/// The numbers of a `GET /is_prime/{numbers}` request: comma-separated decimal numbers from 0
/// to `UInt64.max`, parsed strictly so that every bad item is named in the 400 answer.
///
/// Python's `int()` in the course's Flask app accepts `" 7"`, `"+7"` and `"1_000"` and turns a
/// bad item into a 500; here only digits are accepted and a bad item is the client's error.
struct NumberList: Equatable {
    /// The numbers in input order, duplicates removed (keeping the first), as the keys of the
    /// course's `dict(zip(numbers, results))` come out.
    var numbers: [UInt64]

    /// Parses `text` (the path parameter, already percent-decoded).
    ///
    /// - Throws: ``ServiceRequestError`` (400) naming the first bad item: the list is empty, an
    ///   item is empty, has a character other than 0-9, is negative or exceeds `UInt64.max`,
    ///   or there are more than `maxNumbers` items.
    init(parsing text: Substring, maxNumbers: Int) throws(ServiceRequestError) {
        if text.isEmpty {
            throw .badRequest("no numbers given: list them separated by commas, as in /is_prime/2,3,4", item: "")
        }
        var numbers: [UInt64] = []
        var seen = Set<UInt64>()
        var position = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            position += 1
            if position > maxNumbers {
                throw .badRequest("too many numbers: at most \(maxNumbers) per request", item: String(item))
            }
            let number = try Self.parse(item, position: position)
            if seen.insert(number).inserted { numbers.append(number) }
        }
        self.numbers = numbers
    }

    private static func parse(_ item: Substring, position: Int) throws(ServiceRequestError) -> UInt64 {
        let text = String(item)
        if item.isEmpty {
            throw .badRequest("item \(position) is empty (two commas in a row, or a comma at an end)", item: text)
        }
        if item.first == "-", item.count > 1, item.dropFirst().allSatisfy(\.isASCIIDigit) {
            throw .badRequest("item \(position) is negative: numbers must be 0...\(UInt64.max)", item: text)
        }
        guard item.allSatisfy(\.isASCIIDigit) else {
            throw .badRequest("item \(position) is not a whole number: only the digits 0-9 are allowed", item: text)
        }
        guard let number = UInt64(item) else {
            throw .badRequest("item \(position) is larger than \(UInt64.max), the largest number accepted", item: text)
        }
        return number
    }
}

/// The answer of `/is_prime`: `{"2": true, "4": false}`, as Python's
/// `json.dumps(dict(zip(numbers, results)))` writes it, the keys in input order.
struct PrimalityAnswers: Encodable {
    var numbers: [UInt64]
    var results: [Bool]

    func encode(to encoder: any Encoder) throws {
        precondition(numbers.count == results.count, "one result per number")
        var container = encoder.container(keyedBy: NumberKey.self)
        for (number, isPrime) in zip(numbers, results) {
            try container.encode(isPrime, forKey: NumberKey(stringValue: String(number)))
        }
    }

    /// A number as an object key.
    private struct NumberKey: CodingKey {
        var stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}

extension Character {
    /// 0-9 only (not other Unicode digits).
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
