import NIOCore
import Synchronization

/// The listening address, published by ``ContactsReplica/run()`` to
/// ``ContactsReplica/boundAddress()``.
final class ContactsListeningState: Sendable {
    private enum State {
        case starting(waiters: [CheckedContinuation<SocketAddress?, Never>])
        case listening(SocketAddress)
        case stopped
    }

    private let state = Mutex(State.starting(waiters: []))

    func publish(_ address: SocketAddress) {
        self.finish(with: .listening(address), resuming: address)
    }

    func stop() {
        self.finish(with: .stopped, resuming: nil)
    }

    private func finish(with newState: State, resuming address: SocketAddress?) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<SocketAddress?, Never>] in
            guard case .starting(let waiters) = state else {
                if case .listening = state, case .stopped = newState {
                    state = .stopped
                }
                return []
            }
            state = newState
            return waiters
        }
        for waiter in waiters {
            waiter.resume(returning: address)
        }
    }

    /// Waits until the replica listens (the address) or fails or stops (`nil`).
    func address() async -> SocketAddress? {
        await withCheckedContinuation { (continuation: CheckedContinuation<SocketAddress?, Never>) in
            let immediate = self.state.withLock { state -> SocketAddress?? in
                switch state {
                case .listening(let address):
                    return .some(address)
                case .stopped:
                    return .some(nil)
                case .starting(var waiters):
                    waiters.append(continuation)
                    state = .starting(waiters: waiters)
                    return .none
                }
            }
            if let immediate {
                continuation.resume(returning: immediate)
            }
        }
    }
}
