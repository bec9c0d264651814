import Foundation

/// Dates as stored: whole milliseconds since 1970-01-01 UTC, in a 64-bit integer.
enum UnixMilliseconds {
    /// Milliseconds from 1970-01-01 to Foundation's reference date, 2001-01-01.
    private static let referenceDateOffset: Int64 = 978_307_200_000

    /// The milliseconds of `date`, truncated (the fraction of a millisecond is dropped).
    ///
    /// A date made by `date(_:)` maps back to the same count even when floating-point
    /// rounding left it a few ulps below it, so `from(date(ms)) == ms` always holds.
    static func from(_ date: Date) -> Int64 {
        let exact = date.timeIntervalSinceReferenceDate * 1000
        let nearest = exact.rounded()
        let whole = abs(exact - nearest) <= 4 * exact.ulp ? nearest : exact.rounded(.down)
        guard whole.isFinite else { return whole < 0 ? .min : .max }
        return Int64(max(-9e18, min(9e18, whole))) + Self.referenceDateOffset
    }

    /// The date at `milliseconds` since 1970.
    static func date(_ milliseconds: Int64) -> Date {
        let (sinceReference, overflow) = milliseconds.subtractingReportingOverflow(Self.referenceDateOffset)
        return Date(timeIntervalSinceReferenceDate: overflow ? -.greatestFiniteMagnitude : Double(sinceReference) / 1000)
    }

    /// `date` truncated to whole milliseconds: the value a later read returns.
    static func truncate(_ date: Date) -> Date {
        Self.date(Self.from(date))
    }
}
