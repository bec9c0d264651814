#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// A handler's result already encoded as JSON, which the server writes into the response as it
/// is: a handler that keeps encoded answers (a cache) returns one instead of encoding again.
public struct JSONRPCRawResult: Encodable, Sendable {
    /// One JSON value.
    public let json: ByteBuffer

    /// Encodes `value` as the server encodes results.
    public init(encoding value: some Encodable) throws {
        self.json = ByteBuffer(bytes: try JSONRPCMessages.makeEncoder().encode(value))
    }

    /// Written as the value it holds when a `JSONEncoder` encodes it (the server writes the bytes).
    public func encode(to encoder: any Encoder) throws {
        try JSONDecoder().decode(JSONValue.self, from: Data(self.json.readableBytesView)).encode(to: encoder)
    }
}
