import NIOCore

/// Finds the bytes of members of a top-level JSON object without decoding the document, so a
/// caller can find a response's id, or pass a value on verbatim (see
/// ``JSONRPCClient/callReturningRawResult(_:_:timeout:)``). Keys are compared as raw bytes (a
/// key written with escapes does not match).
enum JSONTopLevelScanner {
    /// The bytes of the values of members `keys` (each `nil` when the object has no such member),
    /// found in one pass that stops once all are found; `nil` when `buffer` is not a well-formed
    /// object up to there. Values are checked for their bracket structure only.
    static func values(of keys: [String], in buffer: ByteBuffer) -> [ByteBuffer?]? {
        let offsets = buffer.withUnsafeReadableBytes { bytes in Self.offsets(of: keys, in: bytes) }
        return offsets?.map { range in
            range.flatMap { buffer.getSlice(at: buffer.readerIndex + $0.lowerBound, length: $0.count) }
        }
    }

    /// Where the values of members `keys` are in `bytes` (see ``values(of:in:)``).
    private static func offsets(of keys: [String], in bytes: UnsafeRawBufferPointer) -> [Range<Int>?]? {
        let wanted = keys.map { Array($0.utf8) }
        var found = [Range<Int>?](repeating: nil, count: keys.count)
        var missing = keys.count
        func isSpace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
        }
        var index = 0
        let end = bytes.count
        func skipSpace() {
            while index < end, isSpace(bytes[index]) { index += 1 }
        }
        func expect(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < end, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        /// Moves past a string whose opening quote is at `index`.
        func skipString() -> Bool {
            index += 1
            while index < end {
                switch bytes[index] {
                case UInt8(ascii: "\\"): index += 2
                case UInt8(ascii: "\""):
                    index += 1
                    return true
                default: index += 1
                }
            }
            return false
        }
        /// Moves past any value starting at `index`.
        func skipValue() -> Bool {
            guard index < end else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < end {
                    switch bytes[index] {
                    case UInt8(ascii: "\""):
                        guard skipString() else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return true
                        }
                    default: break
                    }
                    index += 1
                }
                return false
            default:  // number, true, false, null
                let start = index
                while index < end, !isSpace(bytes[index]), bytes[index] != UInt8(ascii: ","),
                    bytes[index] != UInt8(ascii: "}"), bytes[index] != UInt8(ascii: "]")
                {
                    index += 1
                }
                return index > start
            }
        }

        guard expect(UInt8(ascii: "{")) else { return nil }
        if expect(UInt8(ascii: "}")) { return found }
        while true {
            skipSpace()
            guard index < end, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let keyStart = index + 1
            guard skipString() else { return nil }
            let key = UnsafeRawBufferPointer(rebasing: bytes[keyStart..<(index - 1)])
            let match = wanted.firstIndex { key.elementsEqual($0) }
            guard expect(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            let valueStart = index
            guard skipValue() else { return nil }
            if let match, found[match] == nil {
                found[match] = valueStart..<index
                missing -= 1
                if missing == 0 { return found }
            }
            if expect(UInt8(ascii: ",")) { continue }
            return expect(UInt8(ascii: "}")) ? found : nil
        }
    }
}
