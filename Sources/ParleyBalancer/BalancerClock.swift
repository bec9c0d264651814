import Foundation

/// The two clocks of the balancer, injected so that tests can move them.
///
/// Leases are measured on a monotonic clock (``monotonic()``): a wall clock set back or forward must
/// not drop or keep a chat server. Tickets carry wall-clock times (``wallClock()``) because another
/// machine, the chat server, checks their expiry.
public struct BalancerClock: Sendable {
    private let readMonotonic: @Sendable () -> ContinuousClock.Instant
    private let readWallClock: @Sendable () -> Date

    /// A clock that reads the given closures.
    public init(
        monotonic: @escaping @Sendable () -> ContinuousClock.Instant,
        wallClock: @escaping @Sendable () -> Date
    ) {
        self.readMonotonic = monotonic
        self.readWallClock = wallClock
    }

    /// The system's clocks: `ContinuousClock` and `Date()`.
    public static var system: BalancerClock {
        BalancerClock(monotonic: { ContinuousClock.now }, wallClock: { Date() })
    }

    /// The current monotonic instant.
    public func monotonic() -> ContinuousClock.Instant {
        self.readMonotonic()
    }

    /// The current wall-clock time.
    public func wallClock() -> Date {
        self.readWallClock()
    }

    /// The current wall-clock time in whole milliseconds since 1970-01-01T00:00:00Z.
    public func unixMilliseconds() -> Int64 {
        Self.unixMilliseconds(self.readWallClock())
    }

    /// `date` in whole milliseconds since 1970 (rounded down), clamped to the range of `Int64`.
    static func unixMilliseconds(_ date: Date) -> Int64 {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.down)
        guard milliseconds.isFinite else { return milliseconds < 0 ? .min : .max }
        if milliseconds >= 9.2e18 { return .max }
        if milliseconds <= -9.2e18 { return .min }
        return Int64(milliseconds)
    }
}
