import Crypto
import ParleyCore

/// The secret the balancer signs chat tickets with and the chat servers check them with.
///
/// Every balancer and chat server of a cluster is given the same secret, from `--chat-secret` or,
/// better (it stays out of `ps`), the `PARLEY_CHAT_SECRET` environment variable: any text of at
/// least ``minimumBytes`` UTF-8 bytes, such as the output of `openssl rand -hex 32`. `parley serve`
/// (all roles in one process) makes a random one with ``random()``.
///
/// The ticket key is derived from the secret with HKDF-SHA256 (info `parley chat ticket v1`), so the
/// same secret may later key other things without the keys being related. The secret never shows
/// in logs: its description is redacted.
public struct ChatSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The fewest bytes a secret may have: 32 (256 bits, as many as the HMAC-SHA256 key).
    public static let minimumBytes = 32
    /// The most bytes a secret may have: 1,024.
    public static let maximumBytes = 1024
    /// The environment variable the secret is read from.
    public static let environmentVariable = "PARLEY_CHAT_SECRET"

    /// The key that signs and checks tickets.
    let ticketKey: SymmetricKey

    /// A secret of the given bytes.
    ///
    /// - Throws: `ParleyError(.invalidInput, …)` when there are fewer than ``minimumBytes`` or more
    ///   than ``maximumBytes``.
    public init(bytes: some Collection<UInt8>) throws(ParleyError) {
        guard bytes.count >= Self.minimumBytes else {
            throw ParleyError(
                .invalidInput,
                "The chat secret must be at least \(Self.minimumBytes) bytes long; make one with `openssl rand -hex 32`."
            )
        }
        guard bytes.count <= Self.maximumBytes else {
            throw ParleyError(.invalidInput, "The chat secret must be at most \(Self.maximumBytes) bytes long.")
        }
        self.ticketKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Array(bytes)),
            info: Array("parley chat ticket v1".utf8),
            outputByteCount: 32
        )
    }

    /// A secret of the UTF-8 bytes of `text`, without the white space around it (a file's final
    /// newline, say).
    ///
    /// - Throws: `ParleyError(.invalidInput, …)` when it has fewer than ``minimumBytes`` bytes.
    public init(_ text: String) throws(ParleyError) {
        var bytes = Array(text.utf8)[...]
        let space: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        while let first = bytes.first, space.contains(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, space.contains(last) { bytes = bytes.dropLast() }
        try self.init(bytes: bytes)
    }

    /// A new random secret of 32 bytes, for a process that runs the balancer and its chat servers.
    public static func random() -> ChatSecret {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<Self.minimumBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        // 32 bytes: cannot fail.
        return try! ChatSecret(bytes: bytes)
    }

    /// The secret from a flag's value, else from ``environmentVariable``, else `nil` (the caller then
    /// makes a random one, or refuses to start when other processes must share it).
    ///
    /// - Throws: `ParleyError(.invalidInput, …)` when the secret given is too short or too long.
    public static func configured(flag: String?, environment: [String: String]) throws(ParleyError) -> ChatSecret? {
        guard let text = flag ?? environment[Self.environmentVariable] else {
            return nil
        }
        return try ChatSecret(text)
    }

    /// `ChatSecret(redacted)`: the secret is never printed.
    public var description: String { "ChatSecret(redacted)" }

    /// `ChatSecret(redacted)`, in debug output too.
    public var debugDescription: String { "ChatSecret(redacted)" }
}
