import Foundation

/// What a chat ticket says: who may connect, to which chat server, until when.
///
/// The balancer signs one for each assignment (``ChatTicketSigner``); the chat server it names checks
/// it without calling anyone (``ChatTicketVerifier``) and takes the user's identity from it alone.
///
/// A token is base64url (no padding) of the payload followed by its HMAC-SHA256 (32 bytes), keyed
/// from the shared ``ChatSecret``. Payload version 1, integers big-endian:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 1 | version, 1 |
/// | 1 | 8 | user id, signed |
/// | 9 | 8 | issued at, milliseconds since 1970, signed |
/// | 17 | 8 | expires at, milliseconds since 1970, signed |
/// | 25 | 16 | nonce, random |
/// | 41 | 1 | server name length n, 1–64 |
/// | 42 | n | server name, ASCII |
/// | 42+n | 2 | username length m, 1–1,024 |
/// | 44+n | m | username, UTF-8 |
///
/// The version byte is signed with the rest, so a token cannot be passed off as another version.
/// The nonce makes every token unique, even two for the same user and server in one millisecond.
public struct ChatTicket: Sendable, Hashable {
    /// The payload version this code writes and reads.
    public static let version: UInt8 = 1
    /// The size of the nonce, in bytes.
    public static let nonceBytes = 16
    /// The most UTF-8 bytes of a username in a ticket.
    public static let maxUsernameBytes = 1024
    /// The size of the MAC, in bytes.
    static let macBytes = 32
    /// The smallest payload: one-character names.
    static let minPayloadBytes = 1 + 8 + 8 + 8 + nonceBytes + 1 + 1 + 2 + 1

    /// The user the ticket admits.
    public var userID: Int64
    /// That user's name.
    public var username: String
    /// The only chat server that accepts the ticket.
    public var serverName: String
    /// When the balancer signed it, in milliseconds since 1970.
    public var issuedAtMilliseconds: Int64
    /// When it stops being accepted, in milliseconds since 1970.
    public var expiresAtMilliseconds: Int64
    /// Random bytes that make the ticket unique.
    public var nonce: [UInt8]

    /// Creates a ticket (not signed).
    public init(
        userID: Int64,
        username: String,
        serverName: String,
        issuedAtMilliseconds: Int64,
        expiresAtMilliseconds: Int64,
        nonce: [UInt8]
    ) {
        self.userID = userID
        self.username = username
        self.serverName = serverName
        self.issuedAtMilliseconds = issuedAtMilliseconds
        self.expiresAtMilliseconds = expiresAtMilliseconds
        self.nonce = nonce
    }

    /// When it stops being accepted.
    public var expiresAt: Date {
        Date(timeIntervalSince1970: Double(self.expiresAtMilliseconds) / 1000)
    }

    // MARK: - Payload

    /// The version 1 payload; the fields must be within their limits (``ChatTicketSigner`` checks).
    var payload: [UInt8] {
        let server = Array(self.serverName.utf8)
        let user = Array(self.username.utf8)
        var bytes = [UInt8]()
        bytes.reserveCapacity(Self.minPayloadBytes + server.count + user.count + Self.macBytes)
        bytes.append(Self.version)
        Self.append(self.userID, to: &bytes)
        Self.append(self.issuedAtMilliseconds, to: &bytes)
        Self.append(self.expiresAtMilliseconds, to: &bytes)
        bytes.append(contentsOf: self.nonce)
        bytes.append(UInt8(server.count))
        bytes.append(contentsOf: server)
        bytes.append(UInt8(user.count >> 8))
        bytes.append(UInt8(user.count & 0xFF))
        bytes.append(contentsOf: user)
        return bytes
    }

    /// Reads a version 1 payload; `nil` when its lengths do not add up or a name is not valid UTF-8.
    init?(payload bytes: ArraySlice<UInt8>) {
        var reader = Reader(bytes: bytes)
        guard reader.byte() == Self.version,
            let userID = reader.int64(),
            let issuedAt = reader.int64(),
            let expiresAt = reader.int64(),
            let nonce = reader.bytes(Self.nonceBytes),
            let serverLength = reader.byte(),
            let server = reader.bytes(Int(serverLength)),
            let high = reader.byte(), let low = reader.byte(),
            let user = reader.bytes(Int(high) << 8 | Int(low)),
            reader.isAtEnd,
            let serverName = String(validating: server, as: UTF8.self),
            let username = String(validating: user, as: UTF8.self)
        else {
            return nil
        }
        self.init(
            userID: userID, username: username, serverName: serverName,
            issuedAtMilliseconds: issuedAt, expiresAtMilliseconds: expiresAt, nonce: Array(nonce)
        )
    }

    private static func append(_ value: Int64, to bytes: inout [UInt8]) {
        let bits = UInt64(bitPattern: value)
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
        }
    }

    /// Reads big-endian fields off the front of a slice.
    private struct Reader {
        var bytes: ArraySlice<UInt8>

        var isAtEnd: Bool { self.bytes.isEmpty }

        mutating func byte() -> UInt8? {
            self.bytes.popFirst()
        }

        mutating func bytes(_ count: Int) -> ArraySlice<UInt8>? {
            guard self.bytes.count >= count else { return nil }
            let prefix = self.bytes.prefix(count)
            self.bytes = self.bytes.dropFirst(count)
            return prefix
        }

        mutating func int64() -> Int64? {
            guard let field = self.bytes(8) else { return nil }
            return Int64(bitPattern: field.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
    }
}

/// A ticket and its token, as the balancer hands them out.
public struct SignedChatTicket: Sendable, Hashable {
    /// The token the client shows the chat server.
    public var token: String
    /// What the token says.
    public var ticket: ChatTicket
}
