/// A command the client sends.
///
/// Its ``description`` is safe to log: AUTH payloads, which carry the credentials, are redacted.
enum SMTPCommand: Hashable, Sendable, CustomStringConvertible {
    case ehlo(String)
    case helo(String)
    case startTLS
    /// `AUTH PLAIN` with the base64 initial response (RFC 4616).
    case authPlain(initialResponse: String)
    case authLogin
    /// A base64 answer to a 334 challenge (the user name or password of AUTH LOGIN).
    case authResponse(String)
    case mailFrom(String)
    case rcptTo(String)
    case data
    case quit

    /// The command line as sent, with its CRLF.
    var line: String {
        switch self {
        case .ehlo(let name): return "EHLO \(name)\r\n"
        case .helo(let name): return "HELO \(name)\r\n"
        case .startTLS: return "STARTTLS\r\n"
        case .authPlain(let response): return "AUTH PLAIN \(response)\r\n"
        case .authLogin: return "AUTH LOGIN\r\n"
        case .authResponse(let response): return "\(response)\r\n"
        case .mailFrom(let address): return "MAIL FROM:<\(address)>\r\n"
        case .rcptTo(let address): return "RCPT TO:<\(address)>\r\n"
        case .data: return "DATA\r\n"
        case .quit: return "QUIT\r\n"
        }
    }

    /// The command for logs and error messages, without any credentials.
    var description: String {
        switch self {
        case .ehlo(let name): return "EHLO \(name)"
        case .helo(let name): return "HELO \(name)"
        case .startTLS: return "STARTTLS"
        case .authPlain: return "AUTH PLAIN <redacted>"
        case .authLogin: return "AUTH LOGIN"
        case .authResponse: return "<redacted>"
        case .mailFrom(let address): return "MAIL FROM:<\(address)>"
        case .rcptTo(let address): return "RCPT TO:<\(address)>"
        case .data: return "DATA"
        case .quit: return "QUIT"
        }
    }
}
