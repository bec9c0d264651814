extension Email {
    /// The complete RFC 5322 message: headers, a blank line and the encoded body, every line ending
    /// in CRLF and none longer than 76 characters (except an address or a word that is longer on its own).
    ///
    /// Headers, in this order: `Date`, `From`, `To`, `Subject`, `Message-ID`, `MIME-Version`,
    /// `Content-Type: text/plain; charset=utf-8` and `Content-Transfer-Encoding`. This is what
    /// ``SMTPClient/send(_:)`` sends (dot-stuffed on the wire), and can be written as an `.eml` file
    /// as it is.
    public func rendered() -> String {
        var lines = [
            "Date: \(RFC5322Date.format(self.date))",
            MIMEEncoder.foldedHeader(name: "From", words: Self.words(of: self.from)),
            MIMEEncoder.foldedHeader(name: "To", words: Self.words(of: self.to)),
            MIMEEncoder.foldedHeader(name: "Subject", words: MIMEEncoder.unstructuredWords(self.subject)),
            "Message-ID: <\(self.messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
        ]
        let body: String
        switch self.transferEncoding {
        case .quotedPrintable:
            lines.append("Content-Transfer-Encoding: quoted-printable")
            body = MIMEEncoder.quotedPrintable(self.body)
        case .base64:
            lines.append("Content-Transfer-Encoding: base64")
            body = MIMEEncoder.base64Lines(self.body)
        }
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    /// An address list as words that may be folded between: `Name`, `<a@b>,`, `c@d`.
    private static func words(of addresses: [Address]) -> [String] {
        var words: [String] = []
        for (index, address) in addresses.enumerated() {
            var addressWords = Self.words(of: address)
            if index < addresses.count - 1 {
                addressWords[addressWords.count - 1] += ","
            }
            words += addressWords
        }
        return words
    }

    private static func words(of address: Address) -> [String] {
        guard let name = address.displayName, !name.isEmpty else {
            return [address.address]
        }
        return MIMEEncoder.phraseWords(name) + ["<\(address.address)>"]
    }
}
