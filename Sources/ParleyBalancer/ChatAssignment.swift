import Foundation

/// Where a user should connect to chat, and the ticket to show there: the balancer's answer to
/// ``BalancerClient/assign(userID:username:)``, which the gateway hands to the client as
/// `{host, port, wsURL, token}`.
public struct ChatAssignment: Sendable, Equatable {
    /// The chat server's name.
    public var serverName: String
    /// Its host, for the framed TCP protocol.
    public var host: String
    /// Its framed TCP port.
    public var tcpPort: Int
    /// Its WebSocket URL, such as `ws://127.0.0.1:60080/chat`.
    public var websocketURL: String
    /// The signed ticket, accepted by that server only, for that user only.
    public var token: String
    /// When the ticket expires.
    public var expiresAt: Date

    /// Creates an assignment.
    public init(serverName: String, host: String, tcpPort: Int, websocketURL: String, token: String, expiresAt: Date) {
        self.serverName = serverName
        self.host = host
        self.tcpPort = tcpPort
        self.websocketURL = websocketURL
        self.token = token
        self.expiresAt = expiresAt
    }
}
