#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Any JSON value, used for request ids (echoed back verbatim) and for error payloads.
///
/// Go's `net/rpc/jsonrpc` client always sends an unsigned integer id, but JSON-RPC 1.0 allows any
/// value, so the server keeps whatever it received and writes it back; only scalars, though
/// (``RequestID``).
enum JSONValue: Hashable, Sendable, Codable {
    case null
    case bool(Bool)
    case unsigned(UInt64)
    case signed(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Decodes any value. Foundation's decoder takes time that grows much faster than the size
    /// for nested arrays and objects (6 s for 500 levels, 5 KB): only for trusted input.
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let scalar = Self.scalar(in: container) {
            self = scalar
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// The value when it is a scalar (null, a boolean, a number, a string); `nil` otherwise.
    static func scalar(in container: any SingleValueDecodingContainer) -> JSONValue? {
        // Unsigned first: Go's ids are, and each failed try builds an error with its description.
        // JSON's kinds do not overlap (`1` is not `true`), so the order changes no result.
        if let value = try? container.decode(UInt64.self) {
            .unsigned(value)
        } else if container.decodeNil() {
            .null
        } else if let value = try? container.decode(Bool.self) {
            .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            .signed(value)
        } else if let value = try? container.decode(Double.self) {
            .double(value)
        } else if let value = try? container.decode(String.self) {
            .string(value)
        } else {
            nil
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .unsigned(let value): try container.encode(value)
        case .signed(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// A request's id: a scalar, kept as it came. An array or an object is refused: nobody sends one
/// (Go sends unsigned integers, JSON-RPC 2.0 forbids them), and decoding a nested one took
/// seconds of CPU for a few kilobytes (``JSONValue/init(from:)``).
struct RequestID: Decodable {
    let value: JSONValue

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let value = JSONValue.scalar(in: container) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "an id must be a number, a string, a boolean or null")
        }
        self.value = value
    }
}
