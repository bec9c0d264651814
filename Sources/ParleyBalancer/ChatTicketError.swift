import ParleyCore

/// Why a chat server refused a ticket. Its ``message`` can be shown to the user; ``parleyError``
/// is the `unauthenticated` error the chat protocol sends.
public struct ChatTicketError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of refusal.
    public enum Reason: String, Sendable, Equatable {
        /// Not a ticket at all: empty, too long, not base64url, too short, lengths that do not add up.
        case malformed
        /// A ticket of a payload version this server does not know.
        case unsupportedVersion
        /// The signature does not match: changed in transit, forged, or signed with another secret.
        case badSignature
        /// Signed correctly, for another chat server.
        case wrongServer
        /// Past its expiry time.
        case expired
        /// Issued later than this server's clock allows: the clocks disagree.
        case issuedInFuture
    }

    /// The kind of refusal.
    public var reason: Reason
    /// A sentence for the user.
    public var message: String

    /// Creates an error.
    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    /// The error as the chat protocol reports it: `unauthenticated` with ``message``.
    public var parleyError: ParleyError {
        ParleyError(.unauthenticated, self.message)
    }

    /// `reason: message`.
    public var description: String { "\(self.reason.rawValue): \(self.message)" }

    static let malformed = ChatTicketError(.malformed, "That is not a chat ticket; get a new ticket and connect again.")
    static let badSignature = ChatTicketError(
        .badSignature, "The chat ticket's signature is not valid; get a new ticket and connect again."
    )
}
