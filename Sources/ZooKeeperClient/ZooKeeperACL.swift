import NIOCore

/// One access control entry of a znode: who (`scheme` and `id`) may do what (`permissions`).
public struct ZooKeeperACL: Hashable, Sendable {
    /// What an ACL entry allows.
    public struct Permissions: OptionSet, Hashable, Sendable {
        /// The bits as ZooKeeper sends them.
        public var rawValue: Int32

        /// Creates permissions from ZooKeeper's bits.
        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        /// Read the data and list the children.
        public static let read = Permissions(rawValue: 1 << 0)
        /// Set the data.
        public static let write = Permissions(rawValue: 1 << 1)
        /// Create children.
        public static let create = Permissions(rawValue: 1 << 2)
        /// Delete children.
        public static let delete = Permissions(rawValue: 1 << 3)
        /// Change the ACL.
        public static let admin = Permissions(rawValue: 1 << 4)
        /// Everything (31).
        public static let all: Permissions = [.read, .write, .create, .delete, .admin]
    }

    /// What the entry allows.
    public var permissions: Permissions
    /// The authentication scheme, such as `"world"`, `"digest"` or `"ip"`.
    public var scheme: String
    /// The identity within the scheme, such as `"anyone"`.
    public var id: String

    /// Creates an ACL entry.
    public init(permissions: Permissions, scheme: String, id: String) {
        self.permissions = permissions
        self.scheme = scheme
        self.id = id
    }

    /// Everyone may do everything (ZooKeeper's `OPEN_ACL_UNSAFE`): the default for new znodes.
    public static let openUnsafe: [ZooKeeperACL] = [ZooKeeperACL(permissions: .all, scheme: "world", id: "anyone")]

    /// Everyone may read (ZooKeeper's `READ_ACL_UNSAFE`).
    public static let readUnsafe: [ZooKeeperACL] = [ZooKeeperACL(permissions: .read, scheme: "world", id: "anyone")]

    func write(to buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.permissions.rawValue)
        buffer.writeJuteString(self.scheme)
        buffer.writeJuteString(self.id)
    }
}

/// How ``ZooKeeperClient/create(path:data:mode:acl:createParents:)`` creates a znode.
public enum ZooKeeperCreateMode: Int32, Hashable, Sendable, CaseIterable {
    /// Stays until deleted.
    case persistent = 0
    /// Deleted when the session that created it ends (closed or expired).
    case ephemeral = 1
    /// Persistent, with a 10-digit, monotonically increasing counter of the parent appended to the name.
    case persistentSequential = 2
    /// Ephemeral and sequential: the building block of leader election and locks.
    case ephemeralSequential = 3

    /// Whether the server appends a sequence number to the name.
    public var isSequential: Bool { self == .persistentSequential || self == .ephemeralSequential }

    /// Whether the znode ends with its session.
    public var isEphemeral: Bool { self == .ephemeral || self == .ephemeralSequential }
}
