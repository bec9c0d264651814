/// How a chat server listens and treats its connections.
public struct ChatServerConfiguration: Sendable {
    /// Default ports: TCP frames, WebSocket.
    public static let defaultTCPPort = 60000
    /// WebSocket (path `/chat`).
    public static let defaultWebSocketPort = 60080
    /// Peer delivery over gRPC (registered with the balancer; not served yet).
    public static let defaultGRPCPort = 64400

    /// The name registered with the balancer; tickets are bound to it.
    public var name: String
    /// The address to listen on.
    public var host: String
    /// The host clients are told to connect to (the balancer hands it out); `host` by default.
    public var advertisedHost: String?
    /// TCP port; 0 picks a free one.
    public var tcpPort: Int
    /// WebSocket port; 0 picks a free one.
    public var webSocketPort: Int
    /// The gRPC port registered with the balancer.
    public var grpcPort: Int
    /// How often clients send `heartbeat`, as told in `authenticated`.
    public var heartbeatSeconds: Int
    /// A connection with no complete frame for this long is kicked (`idle_timeout`).
    public var idleTimeoutSeconds: Int
    /// The first frame, `authenticate`, must arrive within this.
    public var authenticationDeadline: Duration
    /// Bytes of encoded messages a connection may have waiting to be written before it is dropped.
    public var outgoingQueueBytes: Int
    /// Frames a connection may send at once before `rate_limited`.
    public var rateBurst: Int
    /// Frames per second the burst refills at.
    public var ratePerSecond: Int
    /// Frames received and not yet handled, per TCP connection, at which the server stops reading
    /// from it until its session catches up (backpressure on the client, not an error).
    public var inboundQueueFrames: Int
    /// How often idle and unauthenticated connections are looked for.
    public var sweepInterval: Duration

    /// Creates a configuration with the protocol's defaults.
    public init(
        name: String = "chat-1",
        host: String = "127.0.0.1",
        advertisedHost: String? = nil,
        tcpPort: Int = Self.defaultTCPPort,
        webSocketPort: Int = Self.defaultWebSocketPort,
        grpcPort: Int = Self.defaultGRPCPort,
        heartbeatSeconds: Int = 10,
        idleTimeoutSeconds: Int = 30,
        authenticationDeadline: Duration = .seconds(10),
        outgoingQueueBytes: Int = 1 << 20,
        rateBurst: Int = 50,
        ratePerSecond: Int = 20,
        inboundQueueFrames: Int = 64,
        sweepInterval: Duration = .milliseconds(500)
    ) {
        self.name = name
        self.host = host
        self.advertisedHost = advertisedHost
        self.tcpPort = tcpPort
        self.webSocketPort = webSocketPort
        self.grpcPort = grpcPort
        self.heartbeatSeconds = heartbeatSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.authenticationDeadline = authenticationDeadline
        self.outgoingQueueBytes = outgoingQueueBytes
        self.rateBurst = rateBurst
        self.ratePerSecond = ratePerSecond
        self.inboundQueueFrames = inboundQueueFrames
        self.sweepInterval = sweepInterval
    }
}
