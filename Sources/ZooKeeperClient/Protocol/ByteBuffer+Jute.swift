import NIOCore

/// A record of ZooKeeper's wire format (jute) could not be read: the bytes end too early or a
/// length is impossible. The connection that sent it is closed.
struct JuteDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What could not be read, for logs.
    var detail: String

    var description: String { "malformed ZooKeeper message: \(self.detail)" }
}

/// Jute's primitive types on a `ByteBuffer`: big-endian integers, booleans as one byte, strings
/// and buffers as an `Int32` length (`-1` for null) followed by the bytes, vectors as an `Int32`
/// count (`-1` for null) followed by the elements.
extension ByteBuffer {
    mutating func writeJuteInt(_ value: Int32) {
        self.writeInteger(value, endianness: .big)
    }

    mutating func writeJuteLong(_ value: Int64) {
        self.writeInteger(value, endianness: .big)
    }

    mutating func writeJuteBool(_ value: Bool) {
        self.writeInteger(value ? UInt8(1) : UInt8(0))
    }

    /// Writes a `ustring`: length, then UTF-8 bytes; `nil` is written as length -1.
    mutating func writeJuteString(_ value: String?) {
        guard let value else {
            self.writeJuteInt(-1)
            return
        }
        let lengthIndex = self.writerIndex
        self.writeJuteInt(0)
        let written = self.writeString(value)
        self.setInteger(Int32(written), at: lengthIndex, endianness: .big)
    }

    /// Writes a `buffer`: length, then the bytes; `nil` is written as length -1.
    mutating func writeJuteBuffer(_ value: [UInt8]?) {
        guard let value else {
            self.writeJuteInt(-1)
            return
        }
        self.writeJuteInt(Int32(value.count))
        self.writeBytes(value)
    }

    /// Writes a `vector<ustring>`.
    mutating func writeJuteStrings(_ values: [String]) {
        self.writeJuteInt(Int32(values.count))
        for value in values {
            self.writeJuteString(value)
        }
    }

    mutating func readJuteInt() throws -> Int32 {
        guard let value = self.readInteger(endianness: .big, as: Int32.self) else {
            throw JuteDecodingError(detail: "expected a 4-byte int, \(self.readableBytes) bytes left")
        }
        return value
    }

    mutating func readJuteLong() throws -> Int64 {
        guard let value = self.readInteger(endianness: .big, as: Int64.self) else {
            throw JuteDecodingError(detail: "expected an 8-byte long, \(self.readableBytes) bytes left")
        }
        return value
    }

    mutating func readJuteBool() throws -> Bool {
        guard let value = self.readInteger(as: UInt8.self) else {
            throw JuteDecodingError(detail: "expected a boolean byte, none left")
        }
        return value != 0
    }

    /// Reads a `ustring`; `nil` for length -1.
    mutating func readJuteString() throws -> String? {
        let length = try self.readJuteLength(of: "string")
        guard let length else { return nil }
        return self.readString(length: length)!
    }

    /// Reads a `buffer`; `nil` for length -1.
    mutating func readJuteBuffer() throws -> [UInt8]? {
        let length = try self.readJuteLength(of: "buffer")
        guard let length else { return nil }
        return self.readBytes(length: length)!
    }

    /// Reads a `vector<ustring>`; a null vector is read as empty, a null element as "".
    mutating func readJuteStrings() throws -> [String] {
        let count = try self.readJuteInt()
        guard count >= 0 else {
            guard count == -1 else { throw JuteDecodingError(detail: "negative vector length \(count)") }
            return []
        }
        // Each element takes at least its 4-byte length: refuse counts the bytes cannot hold.
        guard Int(count) <= self.readableBytes / 4 else {
            throw JuteDecodingError(detail: "vector of \(count) strings in \(self.readableBytes) bytes")
        }
        var values: [String] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count {
            values.append(try self.readJuteString() ?? "")
        }
        return values
    }

    /// Reads a length prefix and checks that many bytes follow; `nil` for -1.
    private mutating func readJuteLength(of kind: String) throws -> Int? {
        let length = try self.readJuteInt()
        if length == -1 { return nil }
        guard length >= 0 else {
            throw JuteDecodingError(detail: "negative \(kind) length \(length)")
        }
        guard Int(length) <= self.readableBytes else {
            throw JuteDecodingError(detail: "\(kind) of \(length) bytes, only \(self.readableBytes) left")
        }
        return Int(length)
    }
}
