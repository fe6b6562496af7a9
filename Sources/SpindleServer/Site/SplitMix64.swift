/// A tiny, fast pseudo-random generator (Steele, Lea and Flood's SplitMix64) whose output
/// depends on nothing but its seed.
///
/// The blog site draws every title, author and summary from it, so two sites started with the
/// same seed serve the same text on any machine and any Swift version. That is also why the
/// helpers below do their own range reduction instead of calling `Int.random(in:using:)`: the
/// standard library does not promise how it maps generator output to a range.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    /// A generator that starts from `seed`.
    init(seed: UInt64) {
        self.state = seed
    }

    /// A generator for one item of a seeded collection (a post, a page): mixing the item's number
    /// into the seed lets any item be generated on its own, in any order.
    init(seed: UInt64, stream: UInt64) {
        var mixer = SplitMix64(seed: seed ^ (stream &* 0xD6E8_FEB8_6659_FD93))
        self.state = mixer.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<upperBound` (the modulo bias is irrelevant for fixture text).
    mutating func below(_ upperBound: Int) -> Int {
        precondition(upperBound > 0, "upperBound must be positive")
        return Int(next() % UInt64(upperBound))
    }

    /// A number in `range`.
    mutating func inRange(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.count)
    }

    /// One element of a non-empty array.
    mutating func pick<Element>(_ elements: [Element]) -> Element {
        elements[below(elements.count)]
    }

    /// True with probability `numerator / denominator`.
    mutating func chance(_ numerator: Int, in denominator: Int) -> Bool {
        below(denominator) < numerator
    }
}
