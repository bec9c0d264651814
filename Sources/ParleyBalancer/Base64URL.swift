/// Base64url without padding (RFC 4648 §5), strict: decoding refuses padding, other characters,
/// impossible lengths and non-zero unused bits, so that every byte string has exactly one text form.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// The value of each ASCII character, or 0xFF when it is not in the alphabet.
    private static let values: [UInt8] = {
        var values = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in Self.alphabet.enumerated() {
            values[Int(character)] = UInt8(index)
        }
        return values
    }()

    /// `bytes` as base64url text without padding.
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var output = [UInt8]()
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = second == nil ? nil : iterator.next()
            let chunk = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(Self.alphabet[Int(chunk >> 18 & 0x3F)])
            output.append(Self.alphabet[Int(chunk >> 12 & 0x3F)])
            if second != nil { output.append(Self.alphabet[Int(chunk >> 6 & 0x3F)]) }
            if third != nil { output.append(Self.alphabet[Int(chunk & 0x3F)]) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes of base64url `text` (no padding), or `nil` when it is not the canonical encoding
    /// of any byte string.
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 4 != 1 else { return nil }
        var output = [UInt8]()
        output.reserveCapacity(text.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for character in text {
            let value = Self.values[Int(character)]
            guard value != 0xFF else { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
                buffer &= (1 << UInt32(bits)) - 1
            }
        }
        // The bits left over (2 or 4) must be zero in the canonical form.
        guard buffer == 0 else { return nil }
        return output
    }
}
