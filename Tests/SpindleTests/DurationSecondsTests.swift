import Spindle
import Testing

@Suite("Duration.seconds")
struct DurationSecondsTests {
    @Test("whole and fractional seconds, both signs, and the extremes, as a Double")
    func seconds() {
        #expect(Duration.zero.seconds == 0)
        #expect(Duration.seconds(3).seconds == 3)
        #expect(Duration.milliseconds(1500).seconds == 1.5)
        #expect(Duration.nanoseconds(1).seconds == 1e-9)
        #expect(Duration.milliseconds(-1500).seconds == -1.5)
        #expect(Duration.seconds(Int64.max).seconds == Double(Int64.max))
    }
}
