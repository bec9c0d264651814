import NIOCore

extension RESPReplyDecoder {
    /// Turns a line into a value, or opens an aggregate or a bulk body and returns `nil`.
    mutating func parseLine(type: UInt8, line: ByteBuffer) throws -> RESPValue? {
        let text = String(buffer: line)
        switch type {
        case UInt8(ascii: "+"):
            return .simpleString(text)
        case UInt8(ascii: "-"):
            return .error(text)
        case UInt8(ascii: ":"):
            guard let value = Int64(text), !text.hasPrefix("+") else {
                throw RESPDecodingError.invalidValue(type: ":", text: text)
            }
            return .integer(value)
        case UInt8(ascii: "_"):
            guard text.isEmpty else {
                throw RESPDecodingError.invalidValue(type: "_", text: text)
            }
            return .null
        case UInt8(ascii: "#"):
            switch text {
            case "t": return .boolean(true)
            case "f": return .boolean(false)
            default: throw RESPDecodingError.invalidValue(type: "#", text: text)
            }
        case UInt8(ascii: ","):
            guard let value = Double(text) else {
                throw RESPDecodingError.invalidValue(type: ",", text: text)
            }
            return .double(value)
        case UInt8(ascii: "("):
            let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                throw RESPDecodingError.invalidValue(type: "(", text: text)
            }
            return .bigNumber(text)
        case UInt8(ascii: "$"):
            return try self.openBody(.bulkString, text: text, null: .bulkString(nil))
        case UInt8(ascii: "="):
            return try self.openBody(.verbatimString, text: text, null: nil)
        case UInt8(ascii: "!"):
            return try self.openBody(.blobError, text: text, null: nil)
        case UInt8(ascii: "*"):
            return try self.openAggregate(.array, text: text, null: .array(nil))
        case UInt8(ascii: "~"):
            return try self.openAggregate(.set, text: text, null: nil)
        case UInt8(ascii: ">"):
            return try self.openAggregate(.push, text: text, null: nil)
        case UInt8(ascii: "%"):
            return try self.openAggregate(.map, text: text, null: nil)
        case UInt8(ascii: "|"):
            return try self.openAggregate(.attribute, text: text, null: nil)
        default:
            throw RESPDecodingError.unknownType(type)
        }
    }

    /// Reads a length: a non-negative decimal, or `-1` where the type has a null (`null` not nil).
    private static func length(_ text: String, allowsNull: Bool) throws -> Int? {
        guard let length = Int(text), !text.hasPrefix("+") else {
            throw RESPDecodingError.invalidLength(text)
        }
        if length == -1 && allowsNull {
            return nil
        }
        guard length >= 0 else {
            throw RESPDecodingError.invalidLength(text)
        }
        return length
    }

    private mutating func openBody(_ kind: BodyKind, text: String, null: RESPValue?) throws -> RESPValue? {
        guard let length = try Self.length(text, allowsNull: null != nil) else {
            return null
        }
        guard length <= self.limits.maximumBulkLength else {
            throw RESPDecodingError.bulkTooLarge(length: length, limit: self.limits.maximumBulkLength)
        }
        self.state = .body(kind, length: length)
        return nil
    }

    private mutating func openAggregate(_ kind: AggregateKind, text: String, null: RESPValue?) throws -> RESPValue? {
        guard let count = try Self.length(text, allowsNull: null != nil) else {
            return null
        }
        guard count <= self.limits.maximumAggregateLength else {
            throw RESPDecodingError.aggregateTooLarge(count: count, limit: self.limits.maximumAggregateLength)
        }
        guard self.open.count < self.limits.maximumNestingDepth else {
            throw RESPDecodingError.nestingTooDeep(limit: self.limits.maximumNestingDepth)
        }
        let elements = kind == .map || kind == .attribute ? 2 * count : count
        if elements == 0 {
            return Self.close(OpenAggregate(kind: kind, remaining: 0, elements: []))
        }
        var aggregate = OpenAggregate(kind: kind, remaining: elements, elements: [])
        aggregate.elements.reserveCapacity(min(elements, 1024))
        self.open.append(aggregate)
        return nil
    }

    static func makeBody(_ kind: BodyKind, _ body: ByteBuffer) throws -> RESPValue {
        switch kind {
        case .bulkString:
            return .bulkString(body)
        case .blobError:
            return .error(String(buffer: body))
        case .verbatimString:
            var rest = body
            guard rest.readableBytes >= 4, rest.getInteger(at: rest.readerIndex + 3, as: UInt8.self) == UInt8(ascii: ":"),
                let format = rest.readString(length: 3)
            else {
                throw RESPDecodingError.invalidValue(type: "=", text: String(buffer: body))
            }
            rest.moveReaderIndex(forwardBy: 1)
            return .verbatimString(format: format, text: rest)
        }
    }

    /// Adds a complete value to the innermost open aggregate, closing every aggregate it
    /// completes. Returns the top-level value once one is complete.
    mutating func add(_ element: RESPValue) -> RESPValue? {
        var value = element
        while var aggregate = self.open.popLast() {
            aggregate.elements.append(value)
            aggregate.remaining -= 1
            guard aggregate.remaining == 0 else {
                self.open.append(aggregate)
                return nil
            }
            guard let closed = Self.close(aggregate) else {
                return nil  // an attribute: dropped, and not an element of its parent
            }
            value = closed
        }
        return value
    }

    /// The value of a complete aggregate; `nil` for an attribute, which is dropped.
    private static func close(_ aggregate: OpenAggregate) -> RESPValue? {
        switch aggregate.kind {
        case .array: return .array(aggregate.elements)
        case .set: return .set(aggregate.elements)
        case .push: return .push(aggregate.elements)
        case .attribute: return nil
        case .map:
            var pairs: [RESPValue.Pair] = []
            pairs.reserveCapacity(aggregate.elements.count / 2)
            var index = 0
            while index < aggregate.elements.count {
                pairs.append(RESPValue.Pair(key: aggregate.elements[index], value: aggregate.elements[index + 1]))
                index += 2
            }
            return .map(pairs)
        }
    }
}
