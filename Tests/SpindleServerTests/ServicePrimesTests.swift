@testable import SpindleServer
import Testing

/// The prime checks behind `/is_prime`: the course's trial division and Miller–Rabin.
@Suite("Primes")
struct ServicePrimesTests {
    /// A sieve of Eratosthenes: the reference both checks are held to.
    static func sieve(below limit: Int) -> [Bool] {
        var isPrime = [Bool](repeating: true, count: limit)
        isPrime[0] = false
        isPrime[1] = false
        var n = 2
        while n * n < limit {
            if isPrime[n] {
                for multiple in stride(from: n * n, to: limit, by: n) { isPrime[multiple] = false }
            }
            n += 1
        }
        return isPrime
    }

    @Test("both checks agree with a sieve below 200,000")
    func agreeWithSieve() {
        let reference = Self.sieve(below: 200_000)
        for n in 0..<reference.count {
            #expect(isPrimeTrialDivision(UInt64(n)) == reference[n], "trial division of \(n)")
            #expect(isPrimeMillerRabin(UInt64(n)) == reference[n], "Miller–Rabin of \(n)")
        }
    }

    @Test("the course's benchmark number is prime; its neighbours are not")
    func courseNumber() {
        #expect(isPrimeTrialDivision(112_272_535_095_293))
        #expect(isPrimeMillerRabin(112_272_535_095_293))
        for n: UInt64 in [112_272_535_095_291, 112_272_535_095_295] {
            #expect(!isPrimeTrialDivision(n))
            #expect(!isPrimeMillerRabin(n))
        }
    }

    @Test("Miller–Rabin is not fooled by Carmichael numbers or strong pseudoprimes")
    func pseudoprimes() {
        // Carmichael numbers, and strong pseudoprimes to bases 2, 3, 5, 7 (3215031751) and to
        // every base up to 37 but 37 itself (318665857834031151167461 is beyond 64 bits; this
        // one, 3825123056546413051, fools bases 2...23).
        for n: UInt64 in [561, 1105, 41041, 825_265, 3_215_031_751, 3_825_123_056_546_413_051] {
            #expect(!isPrimeMillerRabin(n), "\(n)")
        }
        #expect(!isPrimeTrialDivision(3_215_031_751))
    }

    @Test("Miller–Rabin at the top of the 64-bit range, where the products overflow")
    func topOfRange() {
        #expect(isPrimeMillerRabin(18_446_744_073_709_551_557))  // the largest 64-bit prime
        #expect(!isPrimeMillerRabin(UInt64.max))  // 3 · 5 · 17 · 257 · 641 · 65537 · 6700417
        #expect(isPrimeMillerRabin(2_305_843_009_213_693_951))  // 2^61 − 1, a Mersenne prime
        // Products of two primes just below 2^32: composite by construction.
        let p: UInt64 = 4_294_967_291
        let q: UInt64 = 4_294_967_279
        #expect(isPrimeMillerRabin(p) && isPrimeMillerRabin(q))
        #expect(!isPrimeMillerRabin(p * q))
        #expect(!isPrimeMillerRabin(p * p))
    }

    @Test("both checks agree on numbers between 2^32 and 2^40")
    func agreeAbove32Bits() {
        var generator = ServicePrimesGenerator(seed: 42)
        for _ in 0..<200 {
            let n = UInt64.random(in: (1 << 32)...(1 << 40), using: &generator)
            #expect(isPrimeTrialDivision(n) == isPrimeMillerRabin(n), "\(n)")
        }
        // Squares of primes: the divisor that finds them is exactly ⌊√n⌋.
        for prime: UInt64 in [65_537, 1_000_003, 999_983] {
            #expect(!isPrimeTrialDivision(prime * prime))
            #expect(!isPrimeMillerRabin(prime * prime))
        }
    }

    @Test("the integer square root is exact at perfect squares and the 64-bit edge")
    func integerSquareRootIsExact() {
        for root: UInt64 in [1, 2, 3, 94_906_265, 3_037_000_499, 4_294_967_295] {
            let square = root * root
            #expect(integerSquareRoot(square) == root)
            #expect(integerSquareRoot(square - 1) == root - 1)
            if square < UInt64.max { #expect(integerSquareRoot(square + 1) == root) }
        }
        #expect(integerSquareRoot(UInt64.max) == 4_294_967_295)
        #expect(integerSquareRoot(0) == 0)
    }

    @Test("work is spread over workers only when it is worth it, keeping every number once")
    func chunks() {
        #expect(ServiceState.chunks(of: [1, 2, 3], workers: 4) == [[0, 1, 2]])
        let big: [UInt64] = [112_272_535_095_293, 3, 112_272_535_095_291, 1_000_000_007]
        let spread = ServiceState.chunks(of: big, workers: 2)
        #expect(spread.count == 2)
        #expect(spread.flatMap { $0 }.sorted() == Array(big.indices))
        // The two large numbers land on different workers.
        #expect(spread.allSatisfy { chunk in chunk.filter { big[$0] > 1 << 40 }.count == 1 })
    }
}

/// SplitMix64: reproducible random numbers for tests.
struct ServicePrimesGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
