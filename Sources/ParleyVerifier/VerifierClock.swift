/// The monotonic time the code store measures expiry with; injected so that tests can move it.
///
/// ``continuous`` reads `ContinuousClock`; a test passes a closure over a time it advances itself.
public struct VerifierClock: Sendable {
    private let read: @Sendable () -> ContinuousClock.Instant

    /// A clock that reads the given closure.
    public init(_ read: @escaping @Sendable () -> ContinuousClock.Instant) {
        self.read = read
    }

    /// The system's continuous clock.
    public static var continuous: VerifierClock {
        VerifierClock { ContinuousClock.now }
    }

    /// The current instant.
    public func now() -> ContinuousClock.Instant {
        self.read()
    }
}
