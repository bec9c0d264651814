import Synchronization

/// What a watch reported: the kind of change and the znode it happened to.
public struct ZooKeeperWatchEvent: Hashable, Sendable, CustomStringConvertible {
    /// The kind of change (ZooKeeper's `Watcher.Event.EventType`).
    public struct EventType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The number on the wire.
        public var rawValue: Int32

        /// Creates an event type from its number.
        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        /// The znode was created (a watch set by `exists` on a missing znode).
        public static let nodeCreated = EventType(rawValue: 1)
        /// The znode was deleted.
        public static let nodeDeleted = EventType(rawValue: 2)
        /// The znode's data changed.
        public static let nodeDataChanged = EventType(rawValue: 3)
        /// A child was created or deleted.
        public static let nodeChildrenChanged = EventType(rawValue: 4)

        /// Such as `nodeDeleted`.
        public var description: String {
            switch self.rawValue {
            case 1: return "nodeCreated"
            case 2: return "nodeDeleted"
            case 3: return "nodeDataChanged"
            case 4: return "nodeChildrenChanged"
            default: return "eventType(\(self.rawValue))"
            }
        }
    }

    /// The kind of change.
    public var type: EventType
    /// The znode that changed.
    public var path: String

    /// Creates an event.
    public init(type: EventType, path: String) {
        self.type = type
        self.path = path
    }

    /// Such as `nodeDeleted /election/n_0000000001`.
    public var description: String { "\(self.type) \(self.path)" }
}

/// A one-shot watch set by ``ZooKeeperClient/existsAndWatch(path:)``,
/// ``ZooKeeperClient/getDataAndWatch(path:)`` or ``ZooKeeperClient/getChildrenAndWatch(path:)``.
///
/// ZooKeeper reports the first change after the read, once; ``event()`` returns it (at once if it
/// already came, to every caller). The watch survives reconnections to other servers of the
/// ensemble (the client sets it again, with the last zxid it saw, so a change missed meanwhile is
/// still reported). It fails with ``ZooKeeperError/Code/sessionExpired`` when the session expires
/// or the client is closed: a change may then have been missed, so read again with a new client.
public final class ZooKeeperWatch: Sendable, CustomStringConvertible {
    /// What a watch is watching.
    public enum Kind: Hashable, Sendable {
        /// Creation, deletion or data change of the znode (set by `exists`).
        case exists
        /// Deletion or data change of the znode (set by `getData`).
        case data
        /// Deletion of the znode or a change of its children (set by `getChildren`).
        case children
    }

    private struct State {
        var result: Result<ZooKeeperWatchEvent, ZooKeeperError>?
        var waiters: [UInt64: CheckedContinuation<ZooKeeperWatchEvent, any Error>] = [:]
        var nextWaiter: UInt64 = 0
    }

    /// The watched znode.
    public let path: String
    /// What is watched.
    public let kind: Kind
    private let state = Mutex(State())

    init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    /// Such as `ZooKeeperWatch(exists /a)`.
    public var description: String { "ZooKeeperWatch(\(self.kind) \(self.path))" }

    /// Whether the event came (or the watch failed).
    public var isCompleted: Bool {
        self.state.withLock { $0.result != nil }
    }

    /// Waits for the change and returns it; returns at once if it already came.
    ///
    /// - Throws: ``ZooKeeperError`` with ``ZooKeeperError/Code/sessionExpired`` when the session
    ///   ended first, or `CancellationError` if the waiting task is cancelled (the watch stays set:
    ///   call again to keep waiting).
    public func event() async throws -> ZooKeeperWatchEvent {
        let id = self.state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ZooKeeperWatchEvent, any Error>) in
                let immediate = self.state.withLock { state -> Result<ZooKeeperWatchEvent, any Error>? in
                    if let result = state.result { return result.mapError { $0 } }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let continuation = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Delivers the event or the failure, once; later calls are ignored.
    func complete(_ result: Result<ZooKeeperWatchEvent, ZooKeeperError>) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<ZooKeeperWatchEvent, any Error>] in
            guard state.result == nil else { return [] }
            state.result = result
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters {
            waiter.resume(with: result.mapError { $0 })
        }
    }
}
