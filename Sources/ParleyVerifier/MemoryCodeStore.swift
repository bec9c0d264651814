/// A ``CodeStore`` in the process's memory: the `parley serve` default.
///
/// An actor, so each operation runs alone and is atomic. Values expire by the injected
/// ``VerifierClock``: an expired value is treated as absent at once and removed on the next sweep
/// (every ``sweepInterval`` writes), so memory holds at most about an hour of requests.
public actor MemoryCodeStore: CodeStore {
    private enum Value {
        case token(String)
        case counter(Int)
        case code(String, wrongTries: Int)
    }

    private struct Entry {
        var value: Value
        var expiry: ContinuousClock.Instant
    }

    /// How many writes happen between two sweeps of expired values.
    public let sweepInterval = 1024

    private let clock: VerifierClock
    private var entries: [String: Entry] = [:]
    private var writesSinceSweep = 0

    /// Creates an empty store whose values expire by `clock`.
    public init(clock: VerifierClock = .continuous) {
        self.clock = clock
    }

    /// How many values are held, expired ones not yet swept included (for tests and metrics).
    public var storedCount: Int { self.entries.count }

    public func claim(_ key: String, token: String, for duration: Duration) -> ClaimResult {
        let now = self.clock.now()
        if let entry = self.live(key, now: now) {
            return .held(remaining: now.duration(to: entry.expiry))
        }
        self.write(key, Entry(value: .token(token), expiry: now.advanced(by: duration)))
        return .claimed
    }

    public func count(_ key: String, limit: Int, window: Duration) -> CountResult {
        let now = self.clock.now()
        guard let entry = self.live(key, now: now), case .counter(let count) = entry.value else {
            guard limit > 0 else {
                return .limited(remaining: window)
            }
            self.write(key, Entry(value: .counter(1), expiry: now.advanced(by: window)))
            return .counted(1)
        }
        guard count < limit else {
            return .limited(remaining: now.duration(to: entry.expiry))
        }
        self.entries[key]?.value = .counter(count + 1)
        return .counted(count + 1)
    }

    public func uncount(_ key: String) {
        let now = self.clock.now()
        guard let entry = self.live(key, now: now), case .counter(let count) = entry.value else {
            return
        }
        self.entries[key]?.value = .counter(max(0, count - 1))
    }

    public func putCode(_ key: String, code: String, for duration: Duration) {
        self.write(key, Entry(value: .code(code, wrongTries: 0), expiry: self.clock.now().advanced(by: duration)))
    }

    public func consumeCode(_ key: String, code: String, maxTries: Int) -> ConsumeResult {
        let now = self.clock.now()
        guard let entry = self.live(key, now: now), case .code(let stored, let wrongTries) = entry.value else {
            return .missing
        }
        if ConstantTime.equals(stored, code) {
            self.entries[key] = nil
            return .accepted
        }
        let tries = wrongTries + 1
        if tries >= maxTries {
            self.entries[key] = nil
            return .burned
        }
        self.entries[key]?.value = .code(stored, wrongTries: tries)
        return .wrong(triesLeft: maxTries - tries)
    }

    public func delete(_ key: String, ifValue value: String) {
        guard let entry = self.live(key, now: self.clock.now()) else {
            return
        }
        switch entry.value {
        case .token(let stored), .code(let stored, _):
            if stored == value {
                self.entries[key] = nil
            }
        case .counter:
            return
        }
    }

    // MARK: - Expiry

    /// The entry under `key` if it has not expired; an expired one is removed.
    private func live(_ key: String, now: ContinuousClock.Instant) -> Entry? {
        guard let entry = self.entries[key] else {
            return nil
        }
        guard now < entry.expiry else {
            self.entries[key] = nil
            return nil
        }
        return entry
    }

    private func write(_ key: String, _ entry: Entry) {
        self.entries[key] = entry
        self.writesSinceSweep += 1
        if self.writesSinceSweep >= self.sweepInterval {
            self.writesSinceSweep = 0
            let now = self.clock.now()
            self.entries = self.entries.filter { now < $0.value.expiry }
        }
    }
}
