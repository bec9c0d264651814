import Foundation
import Testing

@testable import ParleyStorage

/// How dates become stored milliseconds.
@Suite("UnixMilliseconds")
struct UnixMillisecondsTests {
    @Test func truncatesToWholeMilliseconds() {
        #expect(UnixMilliseconds.from(Date(timeIntervalSince1970: 1_750_000_000.123999)) == 1_750_000_000_123)
        #expect(UnixMilliseconds.from(Date(timeIntervalSince1970: 0)) == 0)
        #expect(UnixMilliseconds.from(Date(timeIntervalSince1970: 0.0009)) == 0)
        #expect(UnixMilliseconds.from(Date(timeIntervalSince1970: -0.0015)) == -2)
    }

    @Test(arguments: [0, 1, 999, 1_000, 1_750_000_000_001, 1_750_000_000_123, 1_750_000_000_999, 4_102_444_800_007, -86_400_001])
    func wholeMillisecondsRoundTrip(milliseconds: Int64) {
        let date = UnixMilliseconds.date(milliseconds)
        #expect(UnixMilliseconds.from(date) == milliseconds)
        #expect(UnixMilliseconds.truncate(date) == date)
    }

    @Test(arguments: [-2_208_988_800_000, -1, 0, 978_307_200_000, 1_700_000_000_000, 4_102_444_800_000, 32_503_680_000_000])
    func roundTripHoldsAroundAnyEra(base: Int64) {
        var misses: [Int64] = []
        for step in 0..<5_000 {
            let milliseconds = base + Int64(step) * 7_919
            if UnixMilliseconds.from(UnixMilliseconds.date(milliseconds)) != milliseconds {
                misses.append(milliseconds)
            }
        }
        #expect(misses.isEmpty)
    }

    @Test func truncationNeverRoundsUp() {
        var wrong: [Double] = []
        for step in 0..<5_000 {
            // Sub-millisecond parts from 0.01 to 0.99 ms, away from the float-noise band.
            let fraction = 0.00001 + Double(step % 98) * 0.00001
            let seconds = 1_750_000_000 + Double(step) * 0.013 + fraction
            let date = Date(timeIntervalSince1970: seconds)
            let milliseconds = UnixMilliseconds.from(date)
            let expected = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
            if milliseconds != expected { wrong.append(seconds) }
        }
        #expect(wrong.isEmpty)
    }

    @Test func extremeDatesDoNotTrap() {
        #expect(UnixMilliseconds.from(.distantFuture) > 0)
        #expect(UnixMilliseconds.from(.distantPast) < 0)
    }
}
