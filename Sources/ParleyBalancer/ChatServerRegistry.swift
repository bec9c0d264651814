import Logging
import ParleyCore
import Synchronization

/// The chat servers the balancer knows, with their load; it picks the least-loaded live one.
///
/// Rules:
/// - A chat server registers (``register(_:)``), then reports its connection count
///   (``report(name:connections:)``) every ``Configuration/reportInterval``. Registering again under
///   the same name (a restart, or a balancer that forgot it) replaces the entry.
/// - Registering and reporting renew the server's lease. A server with no report for
///   ``Configuration/lease`` (3 intervals by default) is dropped; its later reports fail with
///   `.notFound`, which tells it to register again.
/// - ``assign()`` picks the live server with the lowest load, the first name in byte order on a tie.
///   The load is the last reported count plus the users assigned to the server since that report,
///   so that a burst of logins between two reports is spread instead of all going to one server.
///
/// Time is read from an injected monotonic clock (``BalancerClock``). Expired servers are dropped
/// lazily, whenever the registry is used, so no timer is needed. The state is short and synchronous:
/// it lives in a `Mutex`.
public final class ChatServerRegistry: Sendable {
    /// The timing rules and limits.
    public struct Configuration: Sendable, Equatable {
        /// How often chat servers report their load: 2 s by default.
        public var reportInterval: Duration
        /// How long a registration lasts after the last report: 3 report intervals by default.
        public var lease: Duration
        /// The most chat servers registered at once (a bound on memory): 1,024.
        public var maxServers: Int

        /// Creates a configuration; `lease` defaults to three times `reportInterval`.
        public init(reportInterval: Duration = .seconds(2), lease: Duration? = nil, maxServers: Int = 1024) {
            self.reportInterval = reportInterval
            self.lease = lease ?? reportInterval * 3
            self.maxServers = maxServers
        }
    }

    /// What a chat server is told when it registers.
    public struct Terms: Sendable, Equatable {
        /// How often to report the load.
        public var reportInterval: Duration
        /// How long the registration lasts after the last report.
        public var lease: Duration

        /// Creates terms.
        public init(reportInterval: Duration, lease: Duration) {
            self.reportInterval = reportInterval
            self.lease = lease
        }
    }

    /// A live chat server and its load, as ``servers()`` lists them.
    public struct Status: Sendable, Equatable {
        /// The server.
        public var info: ChatServerInfo
        /// The connection count of its last report (0 right after registering).
        public var reportedConnections: Int
        /// The users assigned to it since its last report.
        public var assignedSinceReport: Int
        /// When it last registered or reported.
        public var lastReport: ContinuousClock.Instant

        /// The load ``ChatServerRegistry/assign()`` compares.
        public var load: Int { self.reportedConnections + self.assignedSinceReport }
    }

    /// The configuration in force.
    public let configuration: Configuration
    private let clock: BalancerClock
    private let logger: Logger
    private let state = Mutex<[String: Status]>([:])

    /// Creates an empty registry.
    ///
    /// - Parameters:
    ///   - configuration: The report interval, lease and size limit.
    ///   - clock: The clock leases are measured with (``BalancerClock/system`` outside tests).
    ///   - logger: For servers registering and being dropped.
    public init(
        configuration: Configuration = Configuration(),
        clock: BalancerClock = .system,
        logger: Logger = Logger(label: "parley.balancer.registry")
    ) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// Adds `info`, or replaces the server of the same name, with no connections and a new lease.
    ///
    /// - Returns: How often to report, and how long the registration lasts without a report.
    /// - Throws: `ParleyError(.unavailable, …)` when ``Configuration/maxServers`` live servers are
    ///   registered already under other names.
    @discardableResult
    public func register(_ info: ChatServerInfo) throws(ParleyError) -> Terms {
        let now = self.clock.monotonic()
        let maxServers = self.configuration.maxServers
        let (dropped, replaced, full) = self.state.withLock { servers in
            let dropped = self.dropExpired(&servers, now: now)
            let replaced = servers[info.name]
            guard replaced != nil || servers.count < maxServers else {
                return (dropped, replaced, true)
            }
            servers[info.name] = Status(info: info, reportedConnections: 0, assignedSinceReport: 0, lastReport: now)
            return (dropped, replaced, false)
        }
        self.logDropped(dropped)
        guard !full else {
            throw ParleyError(
                .unavailable, "The balancer already has \(maxServers) chat servers registered; try again in a moment."
            )
        }
        if let replaced, replaced.info != info {
            self.logger.info(
                "chat server registered again at a new address",
                metadata: ["chat.server": "\(info)", "chat.server.previous": "\(replaced.info)"]
            )
        } else if replaced == nil {
            self.logger.info("chat server registered", metadata: ["chat.server": "\(info)"])
        }
        return Terms(reportInterval: self.configuration.reportInterval, lease: self.configuration.lease)
    }

    /// Records that the server `name` holds `connections` connections now, and renews its lease.
    ///
    /// - Throws: `ParleyError(.notFound, …)` when no live server has that name (never registered,
    ///   dropped after its lease, or forgotten by a restarted balancer): the server should register
    ///   again. `.invalidInput` for a name no server can have or a negative count.
    public func report(name: String, connections: Int) throws(ParleyError) {
        try ChatServerInfo.checkName(name)
        guard connections >= 0 else {
            throw ParleyError(.invalidInput, "A connection count cannot be negative.")
        }
        let now = self.clock.monotonic()
        let (dropped, found) = self.state.withLock { servers in
            let dropped = self.dropExpired(&servers, now: now)
            guard servers[name] != nil else {
                return (dropped, false)
            }
            servers[name]!.reportedConnections = connections
            servers[name]!.assignedSinceReport = 0
            servers[name]!.lastReport = now
            return (dropped, true)
        }
        self.logDropped(dropped)
        guard found else {
            throw ParleyError(
                .notFound,
                "The balancer does not know the chat server \(name) (never registered, or its lease ran out); register again."
            )
        }
    }

    /// Picks the live server with the lowest load (ties: the first name) and counts one more user
    /// on it until its next report.
    ///
    /// - Throws: ``ParleyError/noChatServer`` (`.unavailable`) when no server is live.
    public func assign() throws(ParleyError) -> ChatServerInfo {
        let now = self.clock.monotonic()
        let (dropped, chosen) = self.state.withLock { servers -> ([ChatServerInfo], ChatServerInfo?) in
            let dropped = self.dropExpired(&servers, now: now)
            guard let best = Self.leastLoaded(servers.values) else {
                return (dropped, nil)
            }
            servers[best.info.name]!.assignedSinceReport += 1
            return (dropped, best.info)
        }
        self.logDropped(dropped)
        guard let chosen else {
            throw ParleyError.noChatServer
        }
        return chosen
    }

    /// The live servers, by name.
    public func servers() -> [Status] {
        let now = self.clock.monotonic()
        let (dropped, live) = self.state.withLock { servers in
            (self.dropExpired(&servers, now: now), Array(servers.values))
        }
        self.logDropped(dropped)
        return live.sorted { $0.info.name < $1.info.name }
    }

    // MARK: - Rules

    /// The lowest load, then the first name in byte order.
    static func leastLoaded(_ servers: some Sequence<Status>) -> Status? {
        servers.min { a, b in
            a.load != b.load ? a.load < b.load : Array(a.info.name.utf8).lexicographicallyPrecedes(b.info.name.utf8)
        }
    }

    /// Removes the servers whose lease has run out at `now`; returns them.
    private func dropExpired(_ servers: inout [String: Status], now: ContinuousClock.Instant) -> [ChatServerInfo] {
        let lease = self.configuration.lease
        let expired = servers.values.filter { now - $0.lastReport >= lease }
        for status in expired {
            servers[status.info.name] = nil
        }
        return expired.map(\.info)
    }

    private func logDropped(_ dropped: [ChatServerInfo]) {
        for info in dropped {
            self.logger.warning(
                "chat server dropped: no report within its lease",
                metadata: ["chat.server": "\(info)", "balancer.lease": "\(self.configuration.lease)"]
            )
        }
    }
}

extension ParleyError {
    /// The answer when no chat server is live.
    public static let noChatServer = ParleyError(
        .unavailable, "No chat server is available right now; try again in a moment."
    )
}
