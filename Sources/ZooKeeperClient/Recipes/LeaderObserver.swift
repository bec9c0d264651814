/// Follows a ``LeaderElection`` without taking part: an asynchronous sequence of the leader,
/// `nil` while there is none, yielding the current one first and then each change.
///
/// It watches the election znode's children (so every join or departure wakes it, which is fine
/// for a few observers) and reads the lowest candidate's payload and epoch. While the session is
/// disconnected it keeps the last leader it saw (the watches survive a reconnection). When the
/// session expires or the client is closed, iteration throws ``ZooKeeperError/Code/sessionExpired``:
/// observe again with a new client.
///
/// ```swift
/// for try await leader in LeaderObserver(client: client, path: "/app/election") {
///     route(to: leader?.payload)
/// }
/// ```
public struct LeaderObserver: AsyncSequence, Sendable {
    /// The current leader, or `nil` when no candidate is left.
    public typealias Element = LeaderElection.Leader?

    /// The client that reads the election.
    public let client: ZooKeeperClient
    /// The election znode, whose children are the candidates.
    public let path: String

    /// Creates an observer of the election at `path`; it reads nothing before iteration.
    public init(client: ZooKeeperClient, path: String) {
        self.client = client
        self.path = path
    }

    /// Starts an iteration.
    public func makeAsyncIterator() -> Iterator {
        Iterator(client: self.client, path: self.path)
    }

    /// An iteration over the election's leaders.
    public struct Iterator: AsyncIteratorProtocol {
        private let client: ZooKeeperClient
        private let path: String
        /// The watch set by the last read, to wait on before reading again.
        private var watch: ZooKeeperWatch?
        /// The last leader yielded; `.none` before the first.
        private var last: LeaderElection.Leader??

        init(client: ZooKeeperClient, path: String) {
            self.client = client
            self.path = path
        }

        /// The leader when it first differs from the last one yielded (the first call returns the
        /// current leader); the result is never `nil` at the outer level, the sequence does not end.
        ///
        /// - Throws: ``ZooKeeperError`` with ``ZooKeeperError/Code/sessionExpired`` when the
        ///   session ended, another error the server answered (such as an invalid path), or
        ///   `CancellationError`.
        public mutating func next() async throws -> LeaderElection.Leader?? {
            while true {
                try Task.checkCancellation()
                if let watch = self.watch {
                    self.watch = nil
                    _ = try await watch.event()
                }
                do {
                    let leader = try await self.read()
                    if self.last != .some(leader) {
                        self.last = .some(leader)
                        return .some(leader)
                    }
                } catch let error as ZooKeeperError where error.code == .connectionLoss || error.code == .operationTimeout {
                    self.watch = nil
                    try await Task.sleep(for: LeaderElection.retryDelay)
                }
            }
        }

        /// Reads the leader and sets the watch that tells when it may have changed.
        private mutating func read() async throws -> LeaderElection.Leader? {
            while true {
                let children: [String]
                let watch: ZooKeeperWatch
                do {
                    (children, watch) = try await self.client.getChildrenAndWatch(path: self.path)
                } catch let error as ZooKeeperError where error.code == .noNode {
                    let (stat, created) = try await self.client.existsAndWatch(path: self.path)
                    if stat != nil { continue }
                    self.watch = created
                    return nil
                }
                guard let first = LeaderElection.candidates(children).first else {
                    self.watch = watch
                    return nil
                }
                let leaderPath = self.path + "/" + first
                do {
                    let (data, stat) = try await self.client.getData(path: leaderPath)
                    self.watch = watch
                    return LeaderElection.Leader(path: leaderPath, payload: data, epoch: stat.czxid)
                } catch let error as ZooKeeperError where error.code == .noNode {
                    continue  // Gone meanwhile: read again.
                }
            }
        }
    }
}
