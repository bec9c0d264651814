/// An error from a ``ZooKeeperClient`` operation: one of ZooKeeper's error codes, the znode it is
/// about, and details for logs.
///
/// The server's codes come as they are (`KeeperException.Code`); the client uses the same codes for
/// what it detects itself: ``Code/connectionLoss`` (the connection dropped with the request in flight,
/// or no server could be reached), ``Code/operationTimeout`` (no reply within the request timeout),
/// ``Code/sessionExpired`` (the session is gone, or the client was closed), ``Code/marshallingError``
/// (the server sent bytes this client cannot read) and ``Code/badArguments`` (a request too large
/// to send).
public struct ZooKeeperError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A ZooKeeper error code (`KeeperException.Code`). Unknown codes keep their number.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The number on the wire.
        public var rawValue: Int32

        /// Creates a code from its number.
        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        /// A server-side error with no more specific code (-1).
        public static let systemError = Code(rawValue: -1)
        /// A runtime inconsistency was found (-2).
        public static let runtimeInconsistency = Code(rawValue: -2)
        /// A data inconsistency was found (-3).
        public static let dataInconsistency = Code(rawValue: -3)
        /// The connection to the server was lost (-4): a request in flight may or may not have been applied.
        public static let connectionLoss = Code(rawValue: -4)
        /// The message could not be serialised or read (-5).
        public static let marshallingError = Code(rawValue: -5)
        /// The operation is not implemented (-6).
        public static let unimplemented = Code(rawValue: -6)
        /// The operation timed out (-7); from this client: no reply within the request timeout.
        public static let operationTimeout = Code(rawValue: -7)
        /// Invalid arguments (-8).
        public static let badArguments = Code(rawValue: -8)
        /// The session is unknown to the server (-12).
        public static let unknownSession = Code(rawValue: -12)
        /// A generic API error (-100).
        public static let apiError = Code(rawValue: -100)
        /// The znode does not exist (-101).
        public static let noNode = Code(rawValue: -101)
        /// Not authorised by the znode's ACL (-102).
        public static let noAuth = Code(rawValue: -102)
        /// The expected version does not match the znode's (-103).
        public static let badVersion = Code(rawValue: -103)
        /// Ephemeral znodes cannot have children (-108).
        public static let noChildrenForEphemerals = Code(rawValue: -108)
        /// The znode already exists (-110).
        public static let nodeExists = Code(rawValue: -110)
        /// The znode has children (-111).
        public static let notEmpty = Code(rawValue: -111)
        /// The session expired (-112): its ephemeral znodes and watches are gone; create a new client.
        public static let sessionExpired = Code(rawValue: -112)
        /// Invalid callback (-113).
        public static let invalidCallback = Code(rawValue: -113)
        /// Invalid ACL (-114).
        public static let invalidACL = Code(rawValue: -114)
        /// Authentication failed (-115).
        public static let authFailed = Code(rawValue: -115)
        /// The session moved to another server (-118).
        public static let sessionMoved = Code(rawValue: -118)
        /// A write was sent to a read-only server (-119).
        public static let notReadOnly = Code(rawValue: -119)
        /// An ephemeral znode cannot be created by a local session (-120).
        public static let ephemeralOnLocalSession = Code(rawValue: -120)
        /// The watcher to remove does not exist (-121).
        public static let noWatcher = Code(rawValue: -121)
        /// The request timed out on the server (-122).
        public static let requestTimeout = Code(rawValue: -122)
        /// Reconfiguration is disabled (-123).
        public static let reconfigDisabled = Code(rawValue: -123)
        /// A quota was exceeded (-125).
        public static let quotaExceeded = Code(rawValue: -125)
        /// The server throttled the operation (-127).
        public static let throttledOp = Code(rawValue: -127)

        /// ZooKeeper's name for the code, such as `"NONODE"`, or `"UNKNOWN"`.
        public var name: String {
            Self.names[self.rawValue] ?? "UNKNOWN"
        }

        /// The name and number, such as `NONODE (-101)`.
        public var description: String { "\(self.name) (\(self.rawValue))" }

        private static let names: [Int32: String] = [
            -1: "SYSTEMERROR", -2: "RUNTIMEINCONSISTENCY", -3: "DATAINCONSISTENCY", -4: "CONNECTIONLOSS",
            -5: "MARSHALLINGERROR", -6: "UNIMPLEMENTED", -7: "OPERATIONTIMEOUT", -8: "BADARGUMENTS",
            -12: "UNKNOWNSESSION", -100: "APIERROR", -101: "NONODE", -102: "NOAUTH", -103: "BADVERSION",
            -108: "NOCHILDRENFOREPHEMERALS", -110: "NODEEXISTS", -111: "NOTEMPTY", -112: "SESSIONEXPIRED",
            -113: "INVALIDCALLBACK", -114: "INVALIDACL", -115: "AUTHFAILED", -118: "SESSIONMOVED",
            -119: "NOTREADONLY", -120: "EPHEMERALONLOCALSESSION", -121: "NOWATCHER", -122: "REQUESTTIMEOUT",
            -123: "RECONFIGDISABLED", -125: "QUOTAEXCEEDED", -127: "THROTTLEDOP",
        ]
    }

    /// The error code.
    public var code: Code
    /// The znode the failed operation was about, if any.
    public var path: String?
    /// Details for logs: the operation, the server, the underlying error.
    public var detail: String

    /// Creates an error.
    public init(code: Code, path: String? = nil, detail: String = "") {
        self.code = code
        self.path = path
        self.detail = detail
    }

    /// Such as `ZooKeeper NONODE (-101) for /a/b: getData`.
    public var description: String {
        var text = "ZooKeeper \(self.code)"
        if let path = self.path { text += " for \(path)" }
        if !self.detail.isEmpty { text += ": \(self.detail)" }
        return text
    }

    static func connectionLoss(_ detail: String, path: String? = nil) -> ZooKeeperError {
        ZooKeeperError(code: .connectionLoss, path: path, detail: detail)
    }

    static func sessionExpired(_ detail: String) -> ZooKeeperError {
        ZooKeeperError(code: .sessionExpired, detail: detail)
    }
}
