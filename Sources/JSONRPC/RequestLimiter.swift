import Synchronization

/// Bounds the number of requests in flight on one connection.
///
/// The connection's reader acquires a slot before starting each request and each request releases
/// its slot when its response is written. While no slot is free the reader waits, so it stops
/// pulling messages from the channel and NIO stops reading from the socket (backpressure). Only the
/// single reader ever waits.
final class RequestLimiter: Sendable {
    private struct State {
        var available: Int
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state: Mutex<State>

    init(limit: Int) {
        precondition(limit > 0, "the request limit must be positive")
        self.state = Mutex(State(available: limit))
    }

    /// Takes a slot, waiting until one is released if none is free.
    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = self.state.withLock { state -> Bool in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                precondition(state.waiter == nil, "only one task may wait on a RequestLimiter")
                state.waiter = continuation
                return false
            }
            if acquired {
                continuation.resume()
            }
        }
    }

    /// Gives a slot back, handing it straight to the waiting reader if there is one.
    func release() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.available += 1
            return nil
        }
        waiter?.resume()
    }
}
