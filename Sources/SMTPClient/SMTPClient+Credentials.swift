extension SMTPClient {
    /// A user name and password for AUTH PLAIN or AUTH LOGIN.
    ///
    /// Printing, dumping or logging a value shows the user name only: the password is redacted.
    public struct Credentials: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible,
        CustomReflectable
    {
        /// The user name.
        public var username: String
        /// The password. Never logged.
        public var password: String

        /// Creates credentials.
        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }

        /// The user name, with the password redacted.
        public var description: String {
            "Credentials(username: \(self.username), password: <redacted>)"
        }

        /// The same as ``description``.
        public var debugDescription: String {
            self.description
        }

        /// A mirror without the password, so that `dump` does not print it.
        public var customMirror: Mirror {
            Mirror(self, children: ["username": self.username, "password": "<redacted>"])
        }
    }
}
