import NIOCore

/// The metadata ZooKeeper keeps for a znode (jute `org.apache.zookeeper.data.Stat`).
public struct ZooKeeperStat: Hashable, Sendable {
    /// The zxid of the change that created the znode.
    public var czxid: Int64
    /// The zxid of the change that last modified the znode's data.
    public var mzxid: Int64
    /// When the znode was created, in milliseconds since 1970.
    public var ctime: Int64
    /// When the znode's data was last modified, in milliseconds since 1970.
    public var mtime: Int64
    /// The number of changes to the data: the version `setData` and `delete` compare with.
    public var version: Int32
    /// The number of changes to the children.
    public var cversion: Int32
    /// The number of changes to the ACL.
    public var aversion: Int32
    /// The session id of the owner if the znode is ephemeral, otherwise 0.
    public var ephemeralOwner: Int64
    /// The length of the data, in bytes.
    public var dataLength: Int32
    /// The number of children.
    public var numChildren: Int32
    /// The zxid of the change that last modified the children.
    public var pzxid: Int64

    /// Creates a stat from its fields.
    public init(
        czxid: Int64, mzxid: Int64, ctime: Int64, mtime: Int64, version: Int32, cversion: Int32,
        aversion: Int32, ephemeralOwner: Int64, dataLength: Int32, numChildren: Int32, pzxid: Int64
    ) {
        self.czxid = czxid
        self.mzxid = mzxid
        self.ctime = ctime
        self.mtime = mtime
        self.version = version
        self.cversion = cversion
        self.aversion = aversion
        self.ephemeralOwner = ephemeralOwner
        self.dataLength = dataLength
        self.numChildren = numChildren
        self.pzxid = pzxid
    }

    /// Whether the znode is ephemeral (owned by a session).
    public var isEphemeral: Bool { self.ephemeralOwner != 0 }

    static func read(from buffer: inout ByteBuffer) throws -> ZooKeeperStat {
        ZooKeeperStat(
            czxid: try buffer.readJuteLong(),
            mzxid: try buffer.readJuteLong(),
            ctime: try buffer.readJuteLong(),
            mtime: try buffer.readJuteLong(),
            version: try buffer.readJuteInt(),
            cversion: try buffer.readJuteInt(),
            aversion: try buffer.readJuteInt(),
            ephemeralOwner: try buffer.readJuteLong(),
            dataLength: try buffer.readJuteInt(),
            numChildren: try buffer.readJuteInt(),
            pzxid: try buffer.readJuteLong()
        )
    }

    func write(to buffer: inout ByteBuffer) {
        buffer.writeJuteLong(self.czxid)
        buffer.writeJuteLong(self.mzxid)
        buffer.writeJuteLong(self.ctime)
        buffer.writeJuteLong(self.mtime)
        buffer.writeJuteInt(self.version)
        buffer.writeJuteInt(self.cversion)
        buffer.writeJuteInt(self.aversion)
        buffer.writeJuteLong(self.ephemeralOwner)
        buffer.writeJuteInt(self.dataLength)
        buffer.writeJuteInt(self.numChildren)
        buffer.writeJuteLong(self.pzxid)
    }
}
