import Logging
import Metrics

/// Owns a replica's ``ContactsState`` and its database file, and writes changes in batches.
///
/// Changes are applied in memory at once and queued; one flusher task writes what is queued
/// in one transaction while the next batch gathers (group commit). A client's change is
/// forwarded to peers only once written; a ListAll answers only once every change accepted
/// before it is written. When too many changes wait, new ones wait for the disk.
actor ContactsReplicaCore {
    private var state: ContactsState
    private let database: ContactsDatabase
    private let peers: ContactsPeerManager
    private let logger: Logger
    private let maximumPending: Int
    private var pending: [ContactsChange] = []
    private var pendingForward: [ContactsChange] = []
    private var accepted: UInt64 = 0
    private var durable: UInt64 = 0
    private var waiters: [(target: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private var isClosed = false
    private var isFlushing = false
    /// The clock as last written; a clock moved by HeartBeats alone is written too.
    private var writtenClock: UInt32
    private let clockGauge: Gauge
    private let entriesGauge: Gauge

    init(state: ContactsState, database: ContactsDatabase, peers: ContactsPeerManager, name: String, maximumPending: Int, logger: Logger) {
        self.state = state
        self.writtenClock = state.clock
        self.database = database
        self.peers = peers
        self.logger = logger
        self.maximumPending = max(1, maximumPending)
        (self.wakeups, self.wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.clockGauge = Gauge(label: "contacts_clock", dimensions: [("replica", name)])
        self.entriesGauge = Gauge(label: "contacts_entries", dimensions: [("replica", name)])
        self.clockGauge.record(Int64(state.clock))
        self.entriesGauge.record(Int64(state.liveCount))
    }

    /// The Lamport clock.
    var clock: UInt32 { self.state.clock }

    /// Clock, live entries and tombstones.
    var counts: (clock: UInt32, live: Int, tombstones: Int) {
        (self.state.clock, self.state.liveCount, self.state.tombstoneCount)
    }

    /// A client's Updates and Deletes (`phone` `nil`), in order: each stamped, applied, and
    /// queued for the disk and then for the peers. Waits for the disk when too much is queued.
    func localChanges(user: ContactsText, _ changes: [(contact: ContactsText, phone: ContactsText?)]) async {
        for change in changes {
            let stamped = self.state.recordLocal(user: user, contact: change.contact, phone: change.phone)
            self.enqueue(stamped, forward: true)
        }
        self.wake.yield()
        if self.pending.count >= self.maximumPending {
            await self.waitUntilDurable()
        }
    }

    /// A peer's frames: Updates and Deletes are merged after the clock observes their stamp;
    /// HeartBeat and UpdateClock clocks are observed. AskForUpdate is the link's business.
    func receive(_ messages: [ContactsPeerMessage]) {
        for message in messages {
            switch message {
            case .update, .delete:
                guard let change = ContactsChange(message) else { continue }
                self.state.observe(clock: change.entry.stamp)
                if self.state.merge(change) {
                    self.enqueue(change, forward: false)
                }
            case .heartBeat(_, let clock), .updateClock(let clock):
                self.state.observe(clock: clock)
            case .askForUpdate:
                continue
            }
        }
        self.wake.yield()
    }

    /// Whether there is something to write: changes, or a clock that moved.
    private var hasWork: Bool {
        !self.pending.isEmpty || self.state.clock != self.writtenClock
    }

    /// The user's live contacts, once every change accepted so far is on disk.
    func contacts(of user: ContactsText) async -> [ContactsListEntry] {
        await self.waitUntilDurable()
        return self.state.contacts(of: user)
    }

    /// Every entry, for an AskForUpdate answer, and the clock for its closing HeartBeat.
    func snapshot() -> (changes: [ContactsChange], clock: UInt32) {
        (self.state.changes, self.state.clock)
    }

    /// The whole state (tests compare replicas with it).
    var currentState: ContactsState { self.state }

    private func enqueue(_ change: ContactsChange, forward: Bool) {
        self.pending.append(change)
        if forward {
            self.pendingForward.append(change)
        }
        self.accepted += 1
    }

    /// Waits until every change accepted so far is written (or the replica closes).
    func waitUntilDurable() async {
        let target = self.accepted
        guard self.durable < target, !self.isClosed else {
            return
        }
        await withCheckedContinuation { continuation in
            self.waiters.append((target, continuation))
        }
    }

    /// Writes queued changes until cancelled; run by the replica in its task group.
    func runFlusher() async {
        for await _ in self.wakeups {
            while self.hasWork, !self.isFlushing, !Task.isCancelled {
                await self.flushOnce()
            }
        }
    }

    /// Writes what is queued now; on failure the batch is queued again and retried later.
    func flushOnce() async {
        guard self.hasWork, !self.isClosed, !self.isFlushing else {
            return
        }
        self.isFlushing = true
        defer { self.isFlushing = false }
        let batch = self.pending
        let forward = self.pendingForward
        let target = self.accepted
        let clock = self.state.clock
        self.pending = []
        self.pendingForward = []
        do {
            try await self.database.write(batch, clock: clock)
        } catch {
            self.logger.error(
                "cannot write contacts; retrying",
                metadata: ["contacts.database": "\(self.database.location)", "error": "\(error)"]
            )
            self.pending = batch + self.pending
            self.pendingForward = forward + self.pendingForward
            try? await Task.sleep(for: .seconds(1))
            return
        }
        self.durable = target
        self.writtenClock = clock
        self.resumeWaiters(upTo: target)
        self.clockGauge.record(Int64(self.state.clock))
        self.entriesGauge.record(Int64(self.state.liveCount))
        if !forward.isEmpty {
            await self.peers.forward(forward)
        }
    }

    /// Writes everything still queued (graceful shutdown), then closes the file.
    func close(flushing: Bool) async {
        if flushing {
            var attempts = 0
            while self.hasWork, attempts < 3 {
                await self.flushOnce()
                attempts += 1
            }
        }
        self.isClosed = true
        self.wake.finish()
        self.resumeWaiters(upTo: .max)
        do {
            try await self.database.close()
        } catch {
            self.logger.warning("cannot close the database", metadata: ["error": "\(error)"])
        }
    }

    private func resumeWaiters(upTo target: UInt64) {
        var remaining: [(target: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        for waiter in self.waiters {
            if waiter.target <= target {
                waiter.continuation.resume()
            } else {
                remaining.append(waiter)
            }
        }
        self.waiters = remaining
    }
}
