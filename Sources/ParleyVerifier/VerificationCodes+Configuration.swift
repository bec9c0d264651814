import SMTPClient

extension VerificationCodes {
    /// The numbers of the rules; the defaults are those of issue 5.
    public struct Configuration: Sendable {
        /// How long a code is valid; 3 minutes.
        public var validity: Duration
        /// How many wrong tries burn a code; 5.
        public var maxWrongTries: Int
        /// How long after a code is sent to an address no new one is sent to it; 60 s.
        public var resendCooldown: Duration
        /// How many codes an address receives in ``emailWindow`` at most; 10.
        public var emailLimit: Int
        /// The window of ``emailLimit``; 1 hour.
        public var emailWindow: Duration
        /// How many codes one client address (IP) may ask for in ``clientWindow``; 30.
        public var clientLimit: Int
        /// The window of ``clientLimit``; 1 hour.
        public var clientWindow: Duration
        /// The `From` of the messages.
        public var sender: Email.Address
        /// The prefix of every key in the store, so that several deployments may share one Redis.
        public var keyPrefix: String

        /// Creates a configuration; every parameter has the default of issue 5.
        public init(
            validity: Duration = .seconds(180),
            maxWrongTries: Int = 5,
            resendCooldown: Duration = .seconds(60),
            emailLimit: Int = 10,
            emailWindow: Duration = .seconds(3600),
            clientLimit: Int = 30,
            clientWindow: Duration = .seconds(3600),
            sender: Email.Address = Email.Address("no-reply@parley.localhost", displayName: "Parley"),
            keyPrefix: String = "parley:verifier:"
        ) {
            self.validity = validity
            self.maxWrongTries = maxWrongTries
            self.resendCooldown = resendCooldown
            self.emailLimit = emailLimit
            self.emailWindow = emailWindow
            self.clientLimit = clientLimit
            self.clientWindow = clientWindow
            self.sender = sender
            self.keyPrefix = keyPrefix
        }
    }
}
