#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The encodings a plain-text message needs: RFC 2047 encoded-words for header text, header
/// folding (RFC 5322 section 2.2.3), quoted-printable and base64 bodies (RFC 2045).
enum MIMEEncoder {
    /// The longest line the encoder produces, without CRLF (RFC 2045 allows 76 in bodies; RFC 5322
    /// recommends 78 in headers).
    static let lineLimit = 76
    /// UTF-8 bytes per encoded-word: 39 bytes are 52 base64 characters, so a 64-character word
    /// fits on a line after `Subject: `.
    static let encodedWordBytes = 39

    // MARK: - Headers

    /// `Name: word word …`, folded before a word wherever the line would pass ``lineLimit``.
    ///
    /// Unfolding (removing each CRLF) gives back the words joined by single spaces.
    static func foldedHeader(name: String, words: [String]) -> String {
        var output = "\(name):"
        var lineLength = output.utf8.count
        var wordsOnLine = 0
        for word in words {
            let length = word.utf8.count + 1
            if wordsOnLine > 0, lineLength + length > Self.lineLimit {
                output += "\r\n"
                lineLength = 0
                wordsOnLine = 0
            }
            output += " " + word
            lineLength += length
            wordsOnLine += 1
        }
        return output
    }

    /// Unstructured text (a subject) as words to fold between: the text's own words when it is
    /// printable ASCII that cannot be mistaken for encoded-words, otherwise encoded-words.
    static func unstructuredWords(_ text: String) -> [String] {
        let words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let plain =
            !text.isEmpty && !text.contains("=?") && words.allSatisfy { !$0.isEmpty && $0.utf8.count <= 60 }
            && text.utf8.allSatisfy { (0x20...0x7E).contains($0) }
        return plain ? words : Self.encodedWords(text)
    }

    /// A display name as words: atoms as they are, a quoted string when it needs quoting, or
    /// encoded-words when it is not ASCII.
    static func phraseWords(_ name: String) -> [String] {
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~".utf8)
        let words = name.split(separator: " ", omittingEmptySubsequences: false)
        if !name.contains("=?"), words.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(atext.contains) }) {
            return words.map(String.init)
        }
        if name.utf8.allSatisfy({ (0x20...0x7E).contains($0) }), !name.contains("=?") {
            var quoted = "\""
            for character in name {
                if character == "\\" || character == "\"" {
                    quoted.append("\\")
                }
                quoted.append(character)
            }
            return [quoted + "\""]
        }
        return Self.encodedWords(name)
    }

    /// `=?UTF-8?B?…?=` words of at most ``encodedWordBytes`` UTF-8 bytes each, split between
    /// characters (between scalars only when one character is longer than that).
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        func flush() {
            if !chunk.isEmpty {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk.removeAll()
            }
        }
        for character in text {
            let bytes = Array(String(character).utf8)
            if bytes.count <= Self.encodedWordBytes {
                if chunk.count + bytes.count > Self.encodedWordBytes {
                    flush()
                }
                chunk += bytes
                continue
            }
            for scalar in character.unicodeScalars {
                let scalarBytes = Array(String(scalar).utf8)
                if chunk.count + scalarBytes.count > Self.encodedWordBytes {
                    flush()
                }
                chunk += scalarBytes
            }
        }
        flush()
        return words.isEmpty ? [""] : words
    }

    // MARK: - Bodies

    /// The text's lines as UTF-8, without their line breaks (CRLF, or a bare CR or LF). A final
    /// line break does not start another, empty line.
    static func lines(_ text: String) -> [ArraySlice<UInt8>] {
        let bytes = Array(text.utf8)
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") else {
                index += 1
                continue
            }
            lines.append(bytes[start..<index])
            let isCRLF = byte == UInt8(ascii: "\r") && index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n")
            index += isCRLF ? 2 : 1
            start = index
        }
        if start < bytes.count || lines.isEmpty {
            lines.append(bytes[start..<bytes.count])
        }
        return lines
    }

    /// Quoted-printable (RFC 2045 section 6.7) of the text's UTF-8 bytes, each line ending in CRLF.
    ///
    /// Printable ASCII stays as it is, except `=`; other bytes become `=XX`; a space or tab at the
    /// end of a line is encoded; lines longer than 76 characters are broken with soft breaks (`=`).
    static func quotedPrintable(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count + text.utf8.count / 8)
        for line in Self.lines(text) {
            var length = 0
            for index in line.indices {
                let byte = line[index]
                let isLast = index == line.endIndex - 1
                let literal =
                    ((0x21...0x7E).contains(byte) && byte != UInt8(ascii: "="))
                    || ((byte == 0x20 || byte == 0x09) && !isLast)
                let width = literal ? 1 : 3
                // Keep room for the soft break `=`, unless this is the line's last character.
                let limit = isLast ? Self.lineLimit : Self.lineLimit - 1
                if length + width > limit {
                    output += Array("=\r\n".utf8)
                    length = 0
                }
                if literal {
                    output.append(byte)
                } else {
                    output += [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
                }
                length += width
            }
            output += Array("\r\n".utf8)
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Base64 of the text's UTF-8 bytes (with CRLF line breaks), 76 characters a line, each line
    /// ending in CRLF.
    static func base64Lines(_ text: String) -> String {
        var bytes: [UInt8] = []
        for line in Self.lines(text) {
            bytes += line
            bytes += Array("\r\n".utf8)
        }
        let encoded = Array(Data(bytes).base64EncodedString().utf8)
        var output = ""
        var start = 0
        while start < encoded.count {
            let end = min(start + Self.lineLimit, encoded.count)
            output += String(decoding: encoded[start..<end], as: UTF8.self) + "\r\n"
            start = end
        }
        return output
    }
}
