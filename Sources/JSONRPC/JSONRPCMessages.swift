#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// The wire format of Go's `net/rpc/jsonrpc` (JSON-RPC 1.0):
///
/// - request: `{"method":"Service.Method","params":[ARG],"id":N}`
/// - response: `{"id":N,"result":RESULT,"error":null}` or `{"id":N,"result":null,"error":"MESSAGE"}`
///
/// Messages are composed field by field, in Go's key order, each followed by a newline as Go's
/// encoder does.
enum JSONRPCMessages {
    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    /// Whether a method name is only ASCII letters, digits, dots and underscores (as
    /// `"Board.List"`): its JSON is itself in quotes, with nothing to escape.
    static func isPlainName(_ name: some Sequence<UInt8>) -> Bool {
        name.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
        }
    }

    // MARK: Server side

    /// The part of a request the server reads before it knows the handler's parameter type.
    struct RequestHead: Decodable, Sendable {
        /// The id, or `nil` when the request has no `id` key (an explicit `null` is `.null`).
        var id: JSONValue?
        /// The method, or `nil` when missing or not a string (see ``methodProblem``).
        var method: String?
        /// Why there is no method.
        var methodProblem: String {
            self.hasMethodKey ? "method must be a string" : "request has no method"
        }
        private var hasMethodKey: Bool

        private enum CodingKeys: String, CodingKey {
            case id, method
        }

        /// The head of a request as Go writes it, found by a scan instead of a JSONDecoder: an
        /// unsigned integer id and a plain method name (``isPlainName(_:)``); `nil` for any other
        /// request, which the decoder then reads, with its errors. The rest of the request is
        /// checked when its params are decoded.
        init?(scanning frame: ByteBuffer) {
            guard let members = JSONTopLevelScanner.values(of: ["id", "method"], in: frame),
                let id = members[0]?.readableBytesView, let method = members[1]?.readableBytesView,
                (1...20).contains(id.count), id.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                id.first != UInt8(ascii: "0") || id.count == 1,
                let number = UInt64(String(decoding: id, as: UTF8.self)),
                method.count > 2, method.first == UInt8(ascii: "\""), method.last == UInt8(ascii: "\""),
                JSONRPCMessages.isPlainName(method.dropFirst().dropLast())
            else { return nil }
            self.id = .unsigned(number)
            self.method = String(decoding: method.dropFirst().dropLast(), as: UTF8.self)
            self.hasMethodKey = true
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = container.contains(.id) ? try container.decode(RequestID.self, forKey: .id).value : nil
            self.hasMethodKey = container.contains(.method)
            self.method = try? container.decodeIfPresent(String.self, forKey: .method)
        }
    }

    /// Why a request's `params` were rejected, before the parameter type itself was decoded.
    enum ParamsError: Error {
        case missing
        case notAnArray
        case wrongCount(Int)

        var message: String {
            switch self {
            case .missing: return "jsonrpc: request body missing params"
            case .notAnArray: return "params must be an array with exactly one element"
            case .wrongCount(let count): return "params must be an array with exactly one element, got \(count)"
            }
        }
    }

    /// The request's single parameter, decoded from `"params":[VALUE]`.
    struct RequestParams<P: Decodable>: Decodable {
        var value: P

        private enum CodingKeys: String, CodingKey {
            case params
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            guard container.contains(.params), try !container.decodeNil(forKey: .params) else {
                throw ParamsError.missing
            }
            var array: any UnkeyedDecodingContainer
            do {
                array = try container.nestedUnkeyedContainer(forKey: .params)
            } catch {
                throw ParamsError.notAnArray
            }
            guard array.count == 1 else {
                throw ParamsError.wrongCount(array.count ?? 0)
            }
            self.value = try array.decode(P.self)
        }
    }

    /// Encodes a response: `{"id":ID,"result":RESULT,"error":ERROR}` and a newline.
    static func response(
        id: JSONValue,
        result: (some Encodable)?,
        error: String?,
        encoder: JSONEncoder
    ) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeStaticString(#"{"id":"#)
        switch id {
        case .unsigned(let number): buffer.writeString(String(number))  // Go's ids, without a JSONEncoder
        case .signed(let number): buffer.writeString(String(number))
        case .null: buffer.writeStaticString("null")
        default: buffer.writeBytes(try encoder.encode(id))
        }
        buffer.writeStaticString(#","result":"#)
        if let raw = result as? JSONRPCRawResult {
            buffer.writeImmutableBuffer(raw.json)
        } else if let result {
            buffer.writeBytes(try encoder.encode(result))
        } else {
            buffer.writeStaticString("null")
        }
        buffer.writeStaticString(#","error":"#)
        if let error {
            buffer.writeBytes(try encoder.encode(error))
        } else {
            buffer.writeStaticString("null")
        }
        buffer.writeStaticString("}\n")
        return buffer
    }

    /// Encodes an error response; cannot fail in practice (an id and a string always encode).
    static func errorResponse(id: JSONValue, error: JSONRPCError, encoder: JSONEncoder) -> ByteBuffer {
        let result: Int? = nil
        return (try? Self.response(id: id, result: result, error: error.wireMessage, encoder: encoder))
            ?? ByteBuffer(string: "{\"id\":null,\"result\":null,\"error\":\"internal: internal error\"}\n")
    }

    // MARK: Client side

    /// Encodes a request: `{"method":METHOD,"params":[PARAMS],"id":ID}` and a newline, from the
    /// method and the parameter already encoded as JSON.
    static func request(methodJSON: Data, paramsJSON: Data, id: UInt64) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(methodJSON.count + paramsJSON.count + 48)
        buffer.writeStaticString(#"{"method":"#)
        buffer.writeBytes(methodJSON)
        buffer.writeStaticString(#","params":["#)
        buffer.writeBytes(paramsJSON)
        buffer.writeStaticString(#"],"id":"#)
        buffer.writeString(String(id))
        buffer.writeStaticString("}\n")
        return buffer
    }

    /// A response's outcome: the decoded result, or the error the server sent.
    struct ResponseBody<R: Decodable>: Decodable {
        enum Outcome {
            case success(R)
            case failure(JSONValue)
        }

        var outcome: Outcome

        private enum CodingKeys: String, CodingKey {
            case result, error
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let error = try container.decodeIfPresent(JSONValue.self, forKey: .error), error != .null {
                self.outcome = .failure(error)
            } else {
                self.outcome = .success(try container.decode(R.self, forKey: .result))
            }
        }
    }

    // MARK: Errors

    /// A short description of a decoding error, naming the path and the problem but no internals.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else {
            return "cannot decode value"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key '\(Self.path(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context):
            return "wrong type at '\(Self.path(context.codingPath))', expected \(type)"
        case .valueNotFound(let type, let context):
            return "missing value at '\(Self.path(context.codingPath))', expected \(type)"
        case .dataCorrupted(let context):
            return "invalid value at '\(Self.path(context.codingPath))'"
        @unknown default:
            return "cannot decode value"
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        var path = ""
        for key in codingPath {
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return path.isEmpty ? "." : path
    }
}
