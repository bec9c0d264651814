import Foundation
import NIOCore

/// A body's bytes, checked to be UTF-8, ready for the JSON decoder.
struct ChatJSONInput {
    let data: Data

    func decode<Payload: Decodable>(_ type: Payload.Type = Payload.self) throws -> Payload {
        try JSONDecoder().decode(Payload.self, from: self.data)
    }
}

extension ChatMessage {
    // MARK: TCP frames

    /// Decodes a frame's body as a message of the frame's type.
    ///
    /// - Parameters:
    ///   - frame: A frame from ``ChatFrameDecoder``.
    ///   - direction: The direction the message must travel: a server passes `.clientToServer`,
    ///     so that a client sending a server-only type gets `invalid_input`. `nil` accepts both.
    /// - Throws: ``ChatMessageDecodingError`` for an unknown type, a type of the other
    ///   direction, invalid UTF-8, invalid JSON, a body that is not an object, a field missing,
    ///   of the wrong type or breaking a rule of ``ChatLimits``. Its ``ChatMessageDecodingError/reply``
    ///   is the error frame to send back; the connection stays up.
    public static func decode(
        frame: ChatFrame,
        direction: ChatMessageDirection? = nil
    ) throws(ChatMessageDecodingError) -> ChatMessage {
        let data = Data(frame.body.readableBytesView)
        guard let type = frame.messageType else {
            throw Self.failure(.unknownType(frame.type), data: data)
        }
        return try Self.decode(type: type, data: data, direction: direction, checkedUTF8: false)
    }

    /// Encodes the message as a TCP frame: its type number and its JSON body (keys sorted).
    ///
    /// - Throws: ``ChatEncodingError/bodyTooLarge(type:length:limit:)`` when the body is over
    ///   64 KiB; a sender of a list sends fewer items.
    public func encode(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(ChatEncodingError) -> ChatFrame {
        let json = try self.encodeJSON(typeField: false)
        guard json.count <= ChatFrame.maximumBodyLength else {
            throw .bodyTooLarge(type: self.type.rawValue, length: json.count, limit: ChatFrame.maximumBodyLength)
        }
        return ChatFrame(type: self.type, body: allocator.buffer(bytes: json))
    }

    /// ``encode(allocator:)`` with the frame's header: the bytes to write to a TCP connection.
    public func encodeTCPBytes(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(ChatEncodingError) -> ByteBuffer {
        let frame = try self.encode(allocator: allocator)
        var buffer = allocator.buffer(capacity: ChatFrame.headerLength + frame.body.readableBytes)
        buffer.writeChatFrame(frame)
        return buffer
    }

    // MARK: WebSocket text frames

    /// Decodes a WebSocket text message: a JSON object whose `type` field names the type.
    ///
    /// - Throws: ``ChatMessageDecodingError`` as ``decode(frame:direction:)`` does, and for a
    ///   `type` that is missing, not a string, or names no type.
    public static func decode(
        webSocketText text: String,
        direction: ChatMessageDirection? = nil
    ) throws(ChatMessageDecodingError) -> ChatMessage {
        try Self.decodeWebSocket(data: Data(text.utf8), direction: direction)
    }

    /// Decodes a WebSocket message's bytes, checking that they are UTF-8 first.
    public static func decode(
        webSocketBytes bytes: ByteBuffer,
        direction: ChatMessageDirection? = nil
    ) throws(ChatMessageDecodingError) -> ChatMessage {
        try Self.decodeWebSocket(data: Data(bytes.readableBytesView), direction: direction)
    }

    /// Encodes the message in the WebSocket form: its JSON body with a `type` field (keys sorted).
    ///
    /// - Throws: ``ChatEncodingError/bodyTooLarge(type:length:limit:)`` over 64 KiB.
    public func encodeWebSocketText() throws(ChatEncodingError) -> String {
        let json = try self.encodeJSON(typeField: true)
        guard json.count <= ChatFrame.maximumBodyLength else {
            throw .bodyTooLarge(type: self.type.rawValue, length: json.count, limit: ChatFrame.maximumBodyLength)
        }
        return String(decoding: json, as: UTF8.self)
    }

    // MARK: Shared

    private static func decodeWebSocket(
        data: Data,
        direction: ChatMessageDirection?
    ) throws(ChatMessageDecodingError) -> ChatMessage {
        guard String(validating: data, as: UTF8.self) != nil else {
            throw ChatMessageDecodingError(.invalidUTF8)
        }
        let probe: ChatEnvelopeProbe
        do {
            probe = try JSONDecoder().decode(ChatEnvelopeProbe.self, from: data)
        } catch let error as DecodingError {
            throw ChatMessageDecodingError(Self.kind(of: error, data: data))
        } catch {
            throw ChatMessageDecodingError(.invalidJSON)
        }
        let type: ChatMessageType
        switch probe.type {
        case .missing:
            throw probe.error(.missingField("type"))
        case .notAString:
            throw probe.error(.invalidField("type", reason: "must be a string"))
        case .name(let name):
            guard let known = ChatMessageType(name: name) else {
                throw probe.error(.unknownTypeName(name))
            }
            type = known
        }
        return try Self.decode(type: type, data: data, direction: direction, checkedUTF8: true)
    }

    private static func decode(
        type: ChatMessageType,
        data: Data,
        direction: ChatMessageDirection?,
        checkedUTF8: Bool
    ) throws(ChatMessageDecodingError) -> ChatMessage {
        if let direction, type.direction != direction {
            throw Self.failure(.wrongDirection(type), data: data)
        }
        guard checkedUTF8 || String(validating: data, as: UTF8.self) != nil else {
            throw ChatMessageDecodingError(.invalidUTF8)
        }
        let message: ChatMessage
        do {
            message = try Self.decodeBody(type, from: ChatJSONInput(data: data))
        } catch let error as DecodingError {
            throw Self.failure(Self.kind(of: error, data: data), data: data)
        } catch {
            throw Self.failure(.invalidJSON, data: data)
        }
        do {
            try message.payload.validate()
        } catch {
            throw Self.failure(error.kind, data: data)
        }
        return message
    }

    private func encodeJSON(typeField: Bool) throws(ChatEncodingError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            if typeField {
                return try encoder.encode(ChatTypeTagged(name: self.type.name, payload: self.payload))
            }
            return try encoder.encode(self.payload)
        } catch {
            throw .encodingFailed(type: self.type.rawValue, reason: "\(error)")
        }
    }

    /// An error of `kind`, with the ids of the bad body when they can be read.
    private static func failure(_ kind: ChatMessageDecodingError.Kind, data: Data) -> ChatMessageDecodingError {
        guard let probe = try? JSONDecoder().decode(ChatEnvelopeProbe.self, from: data) else {
            return ChatMessageDecodingError(kind)
        }
        return probe.error(kind)
    }

    /// What a `DecodingError` says, as a message for the peer.
    static func kind(of error: DecodingError, data: Data) -> ChatMessageDecodingError.Kind {
        switch error {
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                // Foundation reports a number that does not fit its field (2.5 or 1e30 for an
                // integer) as invalid JSON, with no path: tell the two apart.
                return Self.isJSON(data) ? .invalidNumber : .invalidJSON
            }
            return .invalidField(Self.path(context.codingPath), reason: "is not a valid value")
        case .typeMismatch(let expected, let context):
            if context.codingPath.isEmpty {
                return .notAnObject
            }
            return .invalidField(Self.path(context.codingPath), reason: "must be \(Self.jsonName(of: expected))")
        case .valueNotFound(let expected, let context):
            if context.codingPath.isEmpty {
                return .notAnObject
            }
            return .invalidField(Self.path(context.codingPath), reason: "must be \(Self.jsonName(of: expected)), not null")
        case .keyNotFound(let key, let context):
            return .missingField(Self.path(context.codingPath + [key]))
        @unknown default:
            return .invalidJSON
        }
    }

    /// Whether `data` is JSON of any shape.
    private static func isJSON(_ data: Data) -> Bool {
        (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil
    }

    /// `messages[2].text` for a coding path.
    private static func path(_ codingPath: [any CodingKey]) -> String {
        var result = ""
        for key in codingPath {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return result
    }

    private static func jsonName(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is UInt16.Type: "an integer"
        case is [Any].Type: "an array"
        case is [String: Any].Type: "an object"
        default:
            "an object"
        }
    }
}

/// A message's body with its `type` field, for the WebSocket form.
private struct ChatTypeTagged: Encodable {
    private enum CodingKeys: String, CodingKey {
        case type
    }

    let name: String
    let payload: any ChatPayload

    func encode(to encoder: any Encoder) throws {
        try self.payload.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.name, forKey: .type)
    }
}

/// What can be read of any JSON object body whatever its type: `type`, `requestId`,
/// `clientMessageId`; each only when present and valid.
struct ChatEnvelopeProbe: Decodable {
    enum TypeField {
        case missing
        case notAString
        case name(String)
    }

    private enum CodingKeys: String, CodingKey {
        case type, requestId, clientMessageId
    }

    var type: TypeField
    var requestId: String?
    var clientMessageId: String?

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if !container.contains(.type) {
            self.type = .missing
        } else if let name = try? container.decode(String.self, forKey: .type) {
            self.type = .name(name)
        } else {
            self.type = .notAString
        }
        self.requestId = (try? container.decodeIfPresent(String.self, forKey: .requestId))
            .flatMap { $0 }
            .flatMap { ChatFieldCheck.isIdentifier($0) ? $0 : nil }
        self.clientMessageId = (try? container.decodeIfPresent(String.self, forKey: .clientMessageId))
            .flatMap { $0 }
            .flatMap { ChatFieldCheck.isIdentifier($0) ? $0 : nil }
    }

    /// An error of `kind` with this body's ids.
    func error(_ kind: ChatMessageDecodingError.Kind) -> ChatMessageDecodingError {
        ChatMessageDecodingError(kind, requestId: self.requestId, clientMessageId: self.clientMessageId)
    }
}
