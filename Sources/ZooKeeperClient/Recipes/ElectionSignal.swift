import Synchronization

/// A FIFO of wake-ups for one waiting task at a time: the session events and `resign()` of a
/// ``LeaderElection`` reach its loop through it. A wait cancelled before a value came consumes
/// nothing.
final class ElectionSignal: Sendable {
    /// Why the election loop should wake up.
    enum Trigger: Sendable, Equatable {
        /// The session changed.
        case session(ZooKeeperSessionEvent)
        /// The session-event stream ended.
        case sessionEnded
        /// `resign()` was called.
        case resign
    }

    private struct State {
        var pending: [Trigger] = []
        var waiter: (id: UInt64, continuation: CheckedContinuation<Trigger?, Never>)?
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Hands `trigger` to the waiting task, or queues it.
    func notify(_ trigger: Trigger) {
        let waiter = self.state.withLock { state -> CheckedContinuation<Trigger?, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter.continuation
            }
            state.pending.append(trigger)
            return nil
        }
        waiter?.resume(returning: trigger)
    }

    /// Puts back a trigger taken by a wait that lost a race, ahead of the others.
    func requeue(_ trigger: Trigger) {
        let waiter = self.state.withLock { state -> CheckedContinuation<Trigger?, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter.continuation
            }
            state.pending.insert(trigger, at: 0)
            return nil
        }
        waiter?.resume(returning: trigger)
    }

    /// The oldest queued trigger, waiting for one if none; `nil` if the task is cancelled.
    func next() async -> Trigger? {
        let id = self.state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Trigger?, Never>) in
                let immediate = self.state.withLock { state -> Trigger?? in
                    if !state.pending.isEmpty { return .some(state.pending.removeFirst()) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiter = (id, continuation)
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let continuation = self.state.withLock { state -> CheckedContinuation<Trigger?, Never>? in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter.continuation
            }
            continuation?.resume(returning: nil)
        }
    }
}
