import NIOCore

/// Finds the bytes of a member of a top-level JSON object without decoding the document,
/// so a caller can pass a value on verbatim (see ``JSONRPCClient/callReturningRawResult(_:_:timeout:)``).
enum JSONTopLevelScanner {
    /// The bytes of the value of member `key` of the object in `buffer`, or `nil` when the
    /// object has no such member or is not a well-formed object. Keys are compared as raw
    /// bytes (a key written with escapes does not match).
    static func value(of key: String, in buffer: ByteBuffer) -> ByteBuffer? {
        let bytes = buffer.readableBytesView
        let wanted = Array(key.utf8)
        var index = bytes.startIndex
        func skipSpace() {
            while index < bytes.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }
        func expect(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.endIndex, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        /// Moves past a string whose opening quote is at `index`.
        func skipString() -> Bool {
            index += 1
            while index < bytes.endIndex {
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
            guard index < bytes.endIndex else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < bytes.endIndex {
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
                while index < bytes.endIndex, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) {
                    index += 1
                }
                return index > start
            }
        }

        guard expect(UInt8(ascii: "{")) else { return nil }
        while true {
            skipSpace()
            guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let keyStart = index + 1
            guard skipString() else { return nil }
            let matches = bytes[keyStart..<(index - 1)].elementsEqual(wanted)
            guard expect(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            let valueStart = index
            guard skipValue() else { return nil }
            if matches {
                let offset = valueStart - bytes.startIndex
                return buffer.getSlice(at: buffer.readerIndex + offset, length: index - valueStart)
            }
            if expect(UInt8(ascii: ",")) { continue }
            return nil
        }
    }
}
