/// Whether `n` is prime, by the course's trial division: below 2 is not prime, 2 is, other even
/// numbers are not, and an odd `n` is prime when no odd divisor from 3 up to ⌊√n⌋ divides it.
///
/// This is deliberately the slow algorithm of the course's `is_prime`, kept as the CPU-bound
/// workload the pools are measured with: about √n ÷ 2 divisions, so 112272535095293 (a prime)
/// takes some 5.3 million. Use ``isPrimeMillerRabin(_:)`` when only the answer matters.
///
/// - Parameter n: any 64-bit number; the answer is exact for all of them (the square root is
///   computed in integers, not rounded through a `Double` as Python's `math.sqrt` does).
public func isPrimeTrialDivision(_ n: UInt64) -> Bool {
    if n < 2 { return false }
    if n == 2 { return true }
    if n % 2 == 0 { return false }
    let limit = integerSquareRoot(n)
    if n <= UInt64(UInt32.max) {
        // 32-bit division is several times faster than 64-bit on x86-64; same answers.
        let m = UInt32(n)
        var divisor: UInt32 = 3
        while UInt64(divisor) <= limit {
            if m % divisor == 0 { return false }
            divisor &+= 2
        }
        return true
    }
    var divisor: UInt64 = 3
    while divisor <= limit {
        if n % divisor == 0 { return false }
        divisor &+= 2
    }
    return true
}

/// Whether `n` is prime, answered exactly for every 64-bit number by Miller–Rabin with the
/// first twelve primes as witnesses (2, 3, 5, …, 37), which no 64-bit composite fools.
///
/// Runs in microseconds at most (a few hundred modular multiplications, each a 128-bit
/// product reduced with `dividingFullWidth`), so it needs no pool.
public func isPrimeMillerRabin(_ n: UInt64) -> Bool {
    if n < 2 { return false }
    for p in millerRabinWitnesses {
        if n == p { return true }
        if n % p == 0 { return false }
    }
    // n - 1 = d · 2^s with d odd.
    let s = (n - 1).trailingZeroBitCount
    let d = (n - 1) >> s
    witnesses: for a in millerRabinWitnesses {
        var x = powMod(a, d, n)
        if x == 1 || x == n - 1 { continue }
        for _ in 1..<s {
            x = mulMod(x, x, n)
            if x == n - 1 { continue witnesses }
        }
        return false
    }
    return true
}

/// How a number is tested for primality.
public enum PrimalityMethod: String, Sendable, CaseIterable {
    /// ``isPrimeTrialDivision(_:)``: the course's algorithm, CPU-heavy for large primes.
    case trialDivision = "trial-division"
    /// ``isPrimeMillerRabin(_:)``: deterministic for 64-bit numbers, microseconds.
    case millerRabin = "miller-rabin"

    /// Tests `n` with this method.
    public func isPrime(_ n: UInt64) -> Bool {
        switch self {
        case .trialDivision: isPrimeTrialDivision(n)
        case .millerRabin: isPrimeMillerRabin(n)
        }
    }
}

/// A rough count of the divisions ``isPrimeTrialDivision(_:)`` makes for `n` in the worst
/// case (when `n` is prime): used to decide whether work is worth spreading over workers.
func trialDivisionCost(_ n: UInt64) -> UInt64 {
    n < 9 ? 1 : integerSquareRoot(n) / 2
}

/// ⌊√n⌋, exactly.
func integerSquareRoot(_ n: UInt64) -> UInt64 {
    guard n > 1 else { return n }
    // The Double estimate is within one or two of the answer; correct it in integers.
    var root = min(UInt64(Double(n).squareRoot()), UInt64(UInt32.max))
    while root * root > n { root -= 1 }
    while root < UInt64(UInt32.max), (root + 1) * (root + 1) <= n { root += 1 }
    return root
}

private let millerRabinWitnesses: [UInt64] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]

/// (a · b) mod m without overflow, through the full 128-bit product.
private func mulMod(_ a: UInt64, _ b: UInt64, _ m: UInt64) -> UInt64 {
    let product = a.multipliedFullWidth(by: b)
    return m.dividingFullWidth(product).remainder
}

/// (base ^ exponent) mod m by square-and-multiply.
private func powMod(_ base: UInt64, _ exponent: UInt64, _ m: UInt64) -> UInt64 {
    var result: UInt64 = 1
    var base = base % m
    var exponent = exponent
    while exponent > 0 {
        if exponent & 1 == 1 { result = mulMod(result, base, m) }
        base = mulMod(base, base, m)
        exponent >>= 1
    }
    return result
}
