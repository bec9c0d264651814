/// Where the verification rules keep their short-lived state: codes, cooldowns and counters.
///
/// Each operation is one atomic step, whatever other callers (tasks, processes) do at the same time;
/// ``VerificationCodes`` builds the rules from them and needs nothing else. Every value expires by
/// itself, measured by the store's clock (the injected ``VerifierClock`` in memory, the server's
/// in Redis). Implementations throw when the store cannot be reached; ``VerificationCodes`` turns
/// that into `ParleyError(.unavailable, …)`.
public protocol CodeStore: Sendable {
    /// Sets `key` to `token` for `duration` if `key` holds nothing (a lock, or a cooldown).
    ///
    /// - Returns: ``ClaimResult/claimed``, or ``ClaimResult/held(remaining:)`` with the time left
    ///   on the existing value.
    func claim(_ key: String, token: String, for duration: Duration) async throws -> ClaimResult

    /// Counts one more event under `key` unless `limit` events are already counted in its window.
    ///
    /// The window starts at the first count and lasts `window` (a fixed window, as `INCR` plus
    /// `EXPIRE`); later counts do not extend it. A refused count is not counted.
    ///
    /// - Returns: ``CountResult/counted(_:)`` with the new count, or ``CountResult/limited(remaining:)``
    ///   with the time left in the window.
    func count(_ key: String, limit: Int, window: Duration) async throws -> CountResult

    /// Takes back one event counted under `key`; nothing happens if its window has ended.
    func uncount(_ key: String) async throws

    /// Stores `code` under `key` for `duration` with no wrong tries, replacing what `key` held.
    func putCode(_ key: String, code: String, for duration: Duration) async throws

    /// Compares `code` with the code under `key` and, in the same atomic step, deletes it when it
    /// matches, or counts a wrong try and deletes it at the `maxTries`-th wrong try.
    func consumeCode(_ key: String, code: String, maxTries: Int) async throws -> ConsumeResult

    /// Deletes `key` if it still holds `value` (the token of ``claim(_:token:for:)`` or the code of
    /// ``putCode(_:code:for:)``), so that undoing a write never deletes someone else's later write.
    func delete(_ key: String, ifValue value: String) async throws
}

/// The result of ``CodeStore/claim(_:token:for:)``.
public enum ClaimResult: Sendable, Hashable {
    /// The key was free and is now held for the duration asked.
    case claimed
    /// The key is held by an earlier claim, for this much longer.
    case held(remaining: Duration)
}

/// The result of ``CodeStore/count(_:limit:window:)``.
public enum CountResult: Sendable, Hashable {
    /// The event was counted; this is the count in the window, including it.
    case counted(Int)
    /// The limit is reached; the window ends in this much time.
    case limited(remaining: Duration)
}

/// The result of ``CodeStore/consumeCode(_:code:maxTries:)``.
public enum ConsumeResult: Sendable, Hashable {
    /// The code matched and is now deleted: it cannot be used again.
    case accepted
    /// The code did not match; this many tries are left.
    case wrong(triesLeft: Int)
    /// The code did not match and that was the last try: the code is deleted.
    case burned
    /// There is no code under the key: never issued, expired, used or burned.
    case missing
}
