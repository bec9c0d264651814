import NIOCore

/// The life of one ZooKeeper session, free of I/O: which server to try next, when to back off,
/// when the session must be taken as expired, and what to report. Owned by ``SessionCore``
/// (inside its lock); each method returns what the caller must do.
///
/// Phases: `connecting` (no session yet, one round over the servers, then give up) → `connected`
/// → `disconnected` (rounds over the servers, starting after the one lost, with a growing pause
/// between rounds, until a server takes the session back or the session timeout has passed since
/// the last message from a server) → `connected` … ; any of them → `expired` or `closing` →
/// `closed`.
struct SessionStateMachine {
    enum Phase: Hashable {
        /// Opening the first connection (a new session, or one taken over from another client).
        case connecting
        /// Connected to `servers[server]`.
        case connected(server: Int)
        /// Lost the connection; `lastHeard` is when a server last sent anything.
        case disconnected(lastHeard: NIODeadline)
        /// ``ZooKeeperClient/close()`` is sending `closeSession`.
        case closing
        case expired
        case closed
    }

    /// What the connection loop does next.
    enum Step: Hashable {
        /// Connect to `servers[server]` and send `request`, within `timeout`.
        case connect(server: Int, request: ConnectRequest, timeout: Duration)
        /// Every server failed in this round: wait, then start the next.
        case backOff(Duration)
        /// No server took the session back within the session timeout.
        case expire(reason: String)
        /// The first connection failed on every server.
        case giveUp(reason: String)
        /// The session is over; the loop ends.
        case stop
    }

    /// What a successful handshake means.
    enum Established: Hashable {
        case connected(server: Int)
        case reconnected(server: Int)
        /// The client was closed meanwhile: close the new connection.
        case abandon
    }

    /// What ``beginClose()`` asks for.
    enum CloseAction: Hashable {
        /// Connected: send `closeSession` on the connection, then ``finishClose()``.
        case sendCloseSession
        /// Not connected: nothing to send; call ``finishClose()``.
        case finish
        /// Already expired or closed.
        case none
    }

    /// The shortest pause between rounds; doubles each round up to ``maximumBackOff``.
    static let initialBackOff = Duration.milliseconds(50)
    static let maximumBackOff = Duration.seconds(1)

    let serverCount: Int
    let requestedTimeout: Duration
    let connectTimeout: Duration
    private(set) var phase = Phase.connecting
    private(set) var session: ZooKeeperSession?
    private(set) var lastZxid: Int64 = 0
    private var nextServer = 0
    private var attemptsInRound = 0
    private var round = 0
    private var failures: [String] = []

    init(serverCount: Int, requestedTimeout: Duration, connectTimeout: Duration, resuming session: ZooKeeperSession? = nil) {
        precondition(serverCount > 0, "at least one server is needed")
        self.serverCount = serverCount
        self.requestedTimeout = requestedTimeout
        self.connectTimeout = connectTimeout
        self.session = session
    }

    /// Whether the session is over (expired or closed, or closing).
    var isFinished: Bool {
        switch self.phase {
        case .closing, .expired, .closed: return true
        case .connecting, .connected, .disconnected: return false
        }
    }

    /// The request that opens or resumes the session.
    var connectRequest: ConnectRequest {
        ConnectRequest(
            lastZxidSeen: self.lastZxid,
            timeoutMilliseconds: Int32(clamping: self.requestedTimeout.milliseconds),
            sessionID: self.session?.id ?? 0,
            password: self.session?.password ?? [UInt8](repeating: 0, count: 16)
        )
    }

    mutating func nextStep(now: NIODeadline) -> Step {
        switch self.phase {
        case .connected, .closing, .expired, .closed:
            return .stop
        case .connecting:
            guard self.attemptsInRound < self.serverCount else {
                return .giveUp(reason: "could not connect to any server: " + self.failures.joined(separator: "; "))
            }
            return .connect(server: self.nextServer, request: self.connectRequest, timeout: self.connectTimeout)
        case .disconnected(let lastHeard):
            let timeout = self.session?.timeout ?? self.requestedTimeout
            let remaining = Duration(lastHeard + TimeAmount(timeout) - now)
            guard remaining > .milliseconds(1) else {
                return .expire(reason: "no server could be reached within the session timeout of \(timeout.milliseconds) ms")
            }
            if self.attemptsInRound >= self.serverCount {
                self.attemptsInRound = 0
                self.round += 1
                let exponent = min(self.round - 1, 5)
                let pause = min(Self.initialBackOff * (1 << exponent), Self.maximumBackOff)
                return .backOff(min(pause, remaining))
            }
            return .connect(server: self.nextServer, request: self.connectRequest, timeout: min(self.connectTimeout, remaining))
        }
    }

    /// The attempt on the server of the last ``nextStep(now:)`` failed: move on to the next server.
    mutating func attemptFailed(reason: String) {
        if case .connecting = self.phase {
            self.failures.append(reason)
        }
        self.attemptsInRound += 1
        self.nextServer = (self.nextServer + 1) % self.serverCount
    }

    /// The server of the last ``nextStep(now:)`` accepted the session (with a positive timeout).
    mutating func established(_ response: ConnectResponse) -> Established {
        let server = self.nextServer
        let wasConnected: Bool
        switch self.phase {
        case .connecting: wasConnected = false
        case .disconnected: wasConnected = true
        case .connected, .closing, .expired, .closed: return .abandon
        }
        self.session = ZooKeeperSession(
            id: response.sessionID,
            password: response.password,
            timeout: .milliseconds(Int64(response.timeoutMilliseconds))
        )
        self.phase = .connected(server: server)
        self.attemptsInRound = 0
        self.round = 0
        self.failures = []
        return wasConnected ? .reconnected(server: server) : .connected(server: server)
    }

    /// The connection closed; `lastHeard` is when it last received anything. Returns whether this
    /// is news to report (the session was connected), and starts over with the next server.
    mutating func connectionLost(lastHeard: NIODeadline) -> Bool {
        guard case .connected(let server) = self.phase else { return false }
        self.phase = .disconnected(lastHeard: lastHeard)
        self.nextServer = (server + 1) % self.serverCount
        self.attemptsInRound = 0
        self.round = 0
        return true
    }

    /// A reply carried this zxid: remember the newest (a server behind it must not serve us).
    mutating func saw(zxid: Int64) {
        if zxid > self.lastZxid { self.lastZxid = zxid }
    }

    /// The session expired. Returns whether this is news (it was not already over).
    mutating func expire() -> Bool {
        switch self.phase {
        case .connecting, .connected, .disconnected:
            self.phase = .expired
            return true
        case .closing, .expired, .closed:
            return false
        }
    }

    mutating func beginClose() -> CloseAction {
        switch self.phase {
        case .connected:
            self.phase = .closing
            return .sendCloseSession
        case .connecting, .disconnected:
            self.phase = .closing
            return .finish
        case .closing, .expired, .closed:
            return .none
        }
    }

    /// Returns whether this is news (the client was closing).
    mutating func finishClose() -> Bool {
        guard case .closing = self.phase else { return false }
        self.phase = .closed
        return true
    }

    /// The server of the last successful connection, while connected.
    var connectedServer: Int? {
        if case .connected(let server) = self.phase { return server }
        return nil
    }

    /// The state as the public API shows it.
    var publicState: ZooKeeperSessionState {
        switch self.phase {
        case .connecting, .disconnected: return .disconnected
        case .connected: return .connected
        case .expired: return .expired
        case .closing, .closed: return .closed
        }
    }
}
