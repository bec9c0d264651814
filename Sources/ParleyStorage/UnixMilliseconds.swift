import Foundation

/// Dates as stored: whole milliseconds since 1970-01-01 UTC, in a 64-bit integer.
enum UnixMilliseconds {
    /// The milliseconds of `date`, truncated (the fraction of a millisecond is dropped).
    ///
    /// A date already made from whole milliseconds maps back to the same count even when
    /// floating-point noise puts it a hair below it, so `from(date(ms)) == ms` always holds.
    static func from(_ date: Date) -> Int64 {
        let exact = date.timeIntervalSince1970 * 1000
        let nearest = exact.rounded()
        let milliseconds = abs(exact - nearest) < 0.001 ? nearest : exact.rounded(.down)
        guard milliseconds.isFinite else { return milliseconds < 0 ? .min : .max }
        return Int64(max(-9.2e18, min(9.2e18, milliseconds)))
    }

    /// The date at `milliseconds` since 1970.
    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// `date` truncated to whole milliseconds: the value a later read returns.
    static func truncate(_ date: Date) -> Date {
        Self.date(Self.from(date))
    }
}
