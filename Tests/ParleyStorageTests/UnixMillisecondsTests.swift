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

    @Test func roundTripHoldsForAWideRange() {
        var misses: [Int64] = []
        for step in 0..<20_000 {
            let milliseconds = 1_700_000_000_000 + Int64(step) * 7_919
            if UnixMilliseconds.from(UnixMilliseconds.date(milliseconds)) != milliseconds {
                misses.append(milliseconds)
            }
        }
        #expect(misses.isEmpty)
    }

    @Test func extremeDatesDoNotTrap() {
        #expect(UnixMilliseconds.from(.distantFuture) > 0)
        #expect(UnixMilliseconds.from(.distantPast) < 0)
    }
}
