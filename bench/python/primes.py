"""CPython baseline for `spindle bench primes`: the course's is_prime, unchanged, run one number
after another. Prints one JSON object on its last line."""
import json
import math
import sys
import time


def is_prime(n):
    if n < 2:
        return False
    if n == 2:
        return True
    if n % 2 == 0:
        return False
    sqrt_n = int(math.floor(math.sqrt(n)))
    for i in range(3, sqrt_n + 1, 2):
        if n % i == 0:
            return False
    return True


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    number = int(sys.argv[2]) if len(sys.argv) > 2 else 112272535095293
    start = time.perf_counter()
    for _ in range(count):
        is_prime(number)
    print(json.dumps({"python": sys.version.split()[0], "count": count, "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
