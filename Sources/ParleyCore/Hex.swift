/// Lowercase hexadecimal, two digits per byte, most significant first (`[0x0f, 0xa0]` → `"0fa0"`).
///
/// By hand: `String(format: "%02x")` per byte went through Foundation's formatter and was a
/// tenth of the CPU of a post with a session (the token is hashed on every request).
public func hexEncoded<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let digits: StaticString = "0123456789abcdef"
    var text = [UInt8]()
    text.reserveCapacity(bytes.underestimatedCount * 2)
    digits.withUTF8Buffer { digits in
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
    }
    return String(decoding: text, as: UTF8.self)
}

/// `count` bytes from the system's CSPRNG (`SystemRandomNumberGenerator`), in lowercase hex: an
/// identifier no one guesses or repeats, such as a post's request id. Foundation's `UUID()` opened
/// and read /dev/urandom each time, 1% of a post's CPU.
public func randomHex(bytes count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 7)
    while bytes.count < count {
        withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
    }
    return hexEncoded(bytes.prefix(count))
}
