/// The extensions a server announced in its reply to EHLO (RFC 5321 section 4.1.1.1).
struct SMTPCapabilities: Hashable, Sendable {
    /// The keyword of each extension line, upper-cased, such as `STARTTLS` or `AUTH`.
    var keywords: Set<String> = []
    /// The SASL mechanisms after `AUTH` (or the obsolete `AUTH=`), upper-cased, in the server's order.
    var authenticationMechanisms: [String] = []

    /// No extensions: the server answered HELO, or has not been asked yet.
    init() {}

    /// Reads the extensions from the lines after the first of an EHLO reply.
    init(ehloReply reply: SMTPReply) {
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map { $0.uppercased() }
            guard let keyword = words.first else {
                continue
            }
            if keyword == "AUTH" {
                self.addMechanisms(words.dropFirst())
            } else if keyword.hasPrefix("AUTH=") {
                self.addMechanisms([String(keyword.dropFirst(5))] + words.dropFirst())
            } else {
                self.keywords.insert(keyword)
            }
        }
        if !self.authenticationMechanisms.isEmpty {
            self.keywords.insert("AUTH")
        }
    }

    /// Whether the server offers STARTTLS (RFC 3207).
    var supportsStartTLS: Bool {
        self.keywords.contains("STARTTLS")
    }

    private mutating func addMechanisms(_ mechanisms: some Sequence<String>) {
        for mechanism in mechanisms where !mechanism.isEmpty && !self.authenticationMechanisms.contains(mechanism) {
            self.authenticationMechanisms.append(mechanism)
        }
    }
}
