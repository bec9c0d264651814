import Crypto

/// Checks chat tickets on a chat server, without calling the balancer: the signature (with the
/// shared ``ChatSecret``), the server the ticket is for (this one), and the expiry.
///
/// ```swift
/// let verifier = ChatTicketVerifier(secret: secret, serverName: "chat-1")
/// let ticket = try verifier.verify(token)   // throws ChatTicketError
/// // ticket.userID and ticket.username are the connection's identity.
/// ```
///
/// The checks run in an order that gives nothing away to a forger: the size first (at most
/// ``maxTokenBytes``, before any decoding), the encoding, the version, then the signature, compared
/// in constant time (swift-crypto's `isValidAuthenticationCode`). Only a ticket the balancer signed
/// gets as far as the server name and the expiry, so only those errors say more than "not valid".
public struct ChatTicketVerifier: Sendable {
    /// The longest token looked at, in bytes: 4,096, as the chat protocol's `authenticate` allows.
    public static let maxTokenBytes = 4096
    /// How far in the future the issue time may be, for clocks that disagree a little: 30 s.
    public static let maxClockSkew = Duration.seconds(30)

    /// The chat server whose tickets are accepted.
    public let serverName: String
    private let key: SymmetricKey
    private let clock: BalancerClock

    /// Creates a verifier for the chat server `serverName`.
    ///
    /// - Parameters:
    ///   - secret: The secret shared with the balancer.
    ///   - serverName: This chat server's name, as it registers with the balancer.
    ///   - clock: The wall clock expiry is checked against.
    public init(secret: ChatSecret, serverName: String, clock: BalancerClock = .system) {
        self.key = secret.ticketKey
        self.serverName = serverName
        self.clock = clock
    }

    /// The ticket in `token`, when it is signed with the shared secret, for this server, and not
    /// expired.
    ///
    /// - Throws: ``ChatTicketError``: `.malformed`, `.unsupportedVersion`, `.badSignature`,
    ///   `.wrongServer`, `.expired` or `.issuedInFuture`.
    public func verify(_ token: String) throws(ChatTicketError) -> ChatTicket {
        let text = token.utf8
        guard !text.isEmpty, text.count <= Self.maxTokenBytes, let bytes = Base64URL.decode(text),
            bytes.count >= ChatTicket.minPayloadBytes + ChatTicket.macBytes
        else {
            throw ChatTicketError.malformed
        }
        guard bytes[0] == ChatTicket.version else {
            throw ChatTicketError(
                .unsupportedVersion,
                "The chat ticket has version \(bytes[0]), which this chat server does not know; get a new ticket."
            )
        }
        let payload = bytes[..<(bytes.count - ChatTicket.macBytes)]
        let mac = bytes[(bytes.count - ChatTicket.macBytes)...]
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: self.key) else {
            throw ChatTicketError.badSignature
        }
        // Signed by the balancer from here on.
        guard let ticket = ChatTicket(payload: payload) else {
            throw ChatTicketError.malformed
        }
        guard ticket.serverName == self.serverName else {
            throw ChatTicketError(
                .wrongServer,
                "The chat ticket is for the chat server \(ticket.serverName), not \(self.serverName); connect there, or get a new ticket."
            )
        }
        let now = self.clock.unixMilliseconds()
        guard now < ticket.expiresAtMilliseconds else {
            throw ChatTicketError(.expired, "The chat ticket has expired; get a new ticket and connect again.")
        }
        let skew = Self.maxClockSkew.components.seconds * 1000
        let latestIssue = now > Int64.max - skew ? Int64.max : now + skew
        guard ticket.issuedAtMilliseconds <= latestIssue else {
            throw ChatTicketError(
                .issuedInFuture,
                "The chat ticket was issued in the future; the clocks of the balancer and the chat server disagree."
            )
        }
        return ticket
    }
}
