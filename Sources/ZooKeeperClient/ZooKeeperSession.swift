/// A ZooKeeper session: its id, its password and the negotiated timeout.
///
/// Pass it to ``ZooKeeperClient/connect(configuration:eventLoopGroup:resuming:)`` to take the
/// session over from another client (its connection is then closed by the server).
public struct ZooKeeperSession: Hashable, Sendable, CustomStringConvertible {
    /// The session id, unique in the ensemble; the `ephemeralOwner` of its ephemeral znodes.
    public var id: Int64
    /// The session password the server handed out (16 bytes).
    public var password: [UInt8]
    /// The session timeout the server granted.
    public var timeout: Duration

    /// Creates a session description.
    public init(id: Int64, password: [UInt8], timeout: Duration) {
        self.id = id
        self.password = password
        self.timeout = timeout
    }

    /// The id in hexadecimal, as ZooKeeper logs it: `0x100a4f3e2b10000`.
    public var idDescription: String { "0x" + String(UInt64(bitPattern: self.id), radix: 16) }

    /// Such as `session 0x100a4f3e2b10000 (timeout 4000 ms)`; the password is not shown.
    public var description: String {
        "session \(self.idDescription) (timeout \(self.timeout.milliseconds) ms)"
    }
}

/// Where a client's session stands.
public enum ZooKeeperSessionState: Hashable, Sendable {
    /// Connected to a server; operations go through.
    case connected
    /// The connection was lost; the client is trying the servers again. The session may still be
    /// alive (its ephemeral znodes too), but this client cannot know: a leader should stop acting
    /// as one until it is ``connected`` again.
    case disconnected
    /// The session ended: its ephemeral znodes are deleted and its watches gone. The client is
    /// finished; create a new one.
    case expired
    /// ``ZooKeeperClient/close()`` was called.
    case closed
}

/// A change of the session's state, from ``ZooKeeperClient/sessionEvents()``.
public enum ZooKeeperSessionEvent: Hashable, Sendable {
    /// The client is connected to this server (the first event of a stream of a connected client).
    case connected(ZooKeeperClient.Server)
    /// The connection was lost; the client is trying the servers again with the same session.
    case disconnected
    /// Connected again, to this server, with the same session: ephemeral znodes and watches kept.
    case reconnected(ZooKeeperClient.Server)
    /// The session expired, as the server said when the client came back, or because no server
    /// could be reached for the whole session timeout. The stream ends.
    case expired
    /// The client was closed. The stream ends.
    case closed
}

extension Duration {
    /// The duration in whole milliseconds, rounded down.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
