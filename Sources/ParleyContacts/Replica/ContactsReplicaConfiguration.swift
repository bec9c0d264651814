import Logging

/// How a contacts replica runs.
public struct ContactsReplicaConfiguration: Sendable {
    /// The replica's name: sent to peers in the greeting and its answer, and naming its file.
    public var name: String
    /// The address to listen on; 127.0.0.1 by default, since the protocol has no authentication.
    public var host: String
    /// The port to listen on; 0 picks a free one (see ``ContactsReplica/boundAddress()``).
    public var port: Int
    /// The replicas to dial and keep in sync with.
    public var peers: [ContactsPeer]
    /// The folder holding the replica's SQLite file, `contacts-NAME.sqlite`.
    public var dataDirectory: String
    /// How often a HeartBeat goes to each peer; a peer silent for three intervals is down.
    public var heartbeatInterval: Duration
    /// How long a frame (or an owed greeting) may stall before its connection is closed.
    public var readTimeout: Duration
    /// The first delay before redialling a peer; it doubles on each failure.
    public var reconnectDelay: Duration
    /// The longest delay between redials.
    public var maximumReconnectDelay: Duration
    /// Bytes that may wait to be sent to one peer; a peer that falls further behind is
    /// disconnected and resynced later.
    public var peerQueueLimit: Int
    /// Changes accepted but not yet written before clients are made to wait.
    public var maximumPendingWrites: Int
    /// The logger; metadata keys are prefixed `contacts.`.
    public var logger: Logger

    /// Creates a configuration; everything but the name has a default.
    public init(
        name: String,
        host: String = "127.0.0.1",
        port: Int = 9000,
        peers: [ContactsPeer] = [],
        dataDirectory: String = "./parley-data",
        heartbeatInterval: Duration = .seconds(5),
        readTimeout: Duration = .seconds(10),
        reconnectDelay: Duration = .milliseconds(100),
        maximumReconnectDelay: Duration = .seconds(5),
        peerQueueLimit: Int = 16 << 20,
        maximumPendingWrites: Int = 50_000,
        logger: Logger = Logger(label: "parley.contacts")
    ) {
        self.name = name
        self.host = host
        self.port = port
        self.peers = peers
        self.dataDirectory = dataDirectory
        self.heartbeatInterval = heartbeatInterval
        self.readTimeout = readTimeout
        self.reconnectDelay = reconnectDelay
        self.maximumReconnectDelay = maximumReconnectDelay
        self.peerQueueLimit = peerQueueLimit
        self.maximumPendingWrites = maximumPendingWrites
        self.logger = logger
    }
}

/// A peer replica to dial: its name and address.
public struct ContactsPeer: Sendable, Hashable, CustomStringConvertible {
    /// The peer's replica name.
    public var name: String
    /// Its host name or address.
    public var host: String
    /// Its port.
    public var port: Int

    /// Creates a peer.
    public init(name: String, host: String, port: Int) {
        self.name = name
        self.host = host
        self.port = port
    }

    /// Parses `NAME@HOST:PORT`, such as `contact-server-2@127.0.0.1:9001` (an IPv6 host in
    /// brackets: `NAME@[::1]:9001`).
    ///
    /// - Throws: ``ContactsPeerParseError`` naming what is wrong.
    public init(parsing text: String) throws(ContactsPeerParseError) {
        guard let at = text.lastIndex(of: "@") else {
            throw ContactsPeerParseError(text: text, problem: "expected NAME@HOST:PORT")
        }
        let name = String(text[..<at])
        let address = text[text.index(after: at)...]
        guard !name.isEmpty else {
            throw ContactsPeerParseError(text: text, problem: "the name is empty")
        }
        do {
            _ = try ContactsText(name, field: .connectName)
        } catch {
            throw ContactsPeerParseError(text: text, problem: error.description)
        }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (1...65535).contains(port)
        else {
            throw ContactsPeerParseError(text: text, problem: "expected a port from 1 to 65535 after the last ':'")
        }
        var host = address[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
        }
        guard !host.isEmpty else {
            throw ContactsPeerParseError(text: text, problem: "the host is empty")
        }
        self.init(name: name, host: String(host), port: port)
    }

    /// `NAME@HOST:PORT`.
    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "\(self.name)@\(host):\(self.port)"
    }
}

/// A `--peer` value that is not `NAME@HOST:PORT`.
public struct ContactsPeerParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The text given.
    public var text: String
    /// What is wrong with it.
    public var problem: String

    /// `'TEXT' is not a peer: PROBLEM`.
    public var description: String { "'\(self.text)' is not a peer: \(self.problem)" }
}

/// A replica's state at a glance.
public struct ContactsReplicaStatus: Sendable, Hashable {
    /// The replica's name.
    public var name: String
    /// Its Lamport clock.
    public var clock: UInt32
    /// Entries holding a phone number, all users.
    public var entries: Int
    /// Tombstones, all users.
    public var tombstones: Int
    /// Peers with at least one link up, by name, sorted.
    public var peersUp: [String]
}
