import Crypto
import ParleyCore

/// Signs chat tickets for the balancer: who (user id and name), for which chat server, until when.
///
/// ```swift
/// let signer = ChatTicketSigner(secret: secret)
/// let signed = try signer.sign(userID: 7, username: "alice", serverName: "chat-1")
/// // signed.token goes to the client; chat-1 checks it with ChatTicketVerifier.
/// ```
public struct ChatTicketSigner: Sendable {
    /// How long a ticket is accepted by default: 60 s, enough to connect, short enough that a leaked
    /// ticket is soon worthless.
    public static let defaultLifetime = Duration.seconds(60)
    /// The lifetimes allowed: 1 s to 1 hour.
    public static let lifetimes = Duration.seconds(1)...Duration.seconds(3600)

    /// How long each ticket is accepted.
    public let lifetime: Duration
    private let key: SymmetricKey
    private let clock: BalancerClock

    /// Creates a signer.
    ///
    /// - Parameters:
    ///   - secret: The secret shared with the chat servers.
    ///   - lifetime: How long each ticket is accepted; clamped to ``lifetimes``.
    ///   - clock: The wall clock issue and expiry times are read from.
    public init(secret: ChatSecret, lifetime: Duration = Self.defaultLifetime, clock: BalancerClock = .system) {
        self.key = secret.ticketKey
        self.lifetime = min(max(lifetime, Self.lifetimes.lowerBound), Self.lifetimes.upperBound)
        self.clock = clock
    }

    /// A new ticket for user `userID` named `username` on the chat server `serverName`.
    ///
    /// - Throws: `ParleyError(.invalidInput, …)` when the user id is not positive, the username is
    ///   empty or over ``ChatTicket/maxUsernameBytes`` bytes, or the server name is not one a chat
    ///   server can have.
    public func sign(userID: Int64, username: String, serverName: String) throws(ParleyError) -> SignedChatTicket {
        guard userID > 0 else {
            throw ParleyError(.invalidInput, "A user id is a positive number.")
        }
        guard (1...ChatTicket.maxUsernameBytes).contains(username.utf8.count) else {
            throw ParleyError(.invalidInput, "A chat ticket's username has 1 to \(ChatTicket.maxUsernameBytes) bytes.")
        }
        try ChatServerInfo.checkName(serverName)
        let now = self.clock.unixMilliseconds()
        let lifetime = self.lifetime.components
        let lifetimeMilliseconds = lifetime.seconds * 1000 + lifetime.attoseconds / 1_000_000_000_000_000
        var generator = SystemRandomNumberGenerator()
        let ticket = ChatTicket(
            userID: userID,
            username: username,
            serverName: serverName,
            issuedAtMilliseconds: now,
            expiresAtMilliseconds: now.addingReportingOverflow(lifetimeMilliseconds).overflow
                ? .max : now + lifetimeMilliseconds,
            nonce: (0..<ChatTicket.nonceBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        )
        return SignedChatTicket(token: Self.token(for: ticket, key: self.key), ticket: ticket)
    }

    /// The token of `ticket`: base64url of its payload and the payload's HMAC-SHA256.
    static func token(for ticket: ChatTicket, key: SymmetricKey) -> String {
        var bytes = ticket.payload
        bytes.append(contentsOf: HMAC<SHA256>.authenticationCode(for: bytes, using: key))
        return Base64URL.encode(bytes)
    }
}
