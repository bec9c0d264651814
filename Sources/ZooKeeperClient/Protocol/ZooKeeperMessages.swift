import NIOCore

/// ZooKeeper's operation codes (`ZooDefs.OpCode`), for those this client sends.
enum ZooKeeperOpCode: Int32, Sendable {
    case create = 1
    case delete = 2
    case exists = 3
    case getData = 4
    case setData = 5
    case getChildren = 8
    case ping = 11
    case setWatches = 101
    case closeSession = -11
}

/// The reserved xids: replies with these are not answers to numbered requests.
enum ZooKeeperXid {
    /// A watch notification (`WatcherEvent`).
    static let notification: Int32 = -1
    /// A ping and its reply.
    static let ping: Int32 = -2
    /// The `SetWatches` sent after a reconnection, and its reply.
    static let setWatches: Int32 = -8
}

/// The first message of a connection: open a new session (`sessionID` 0) or resume one.
///
/// Jute `ConnectRequest` followed by the `readOnly` flag, as the Java client sends it.
struct ConnectRequest: Hashable, Sendable {
    var protocolVersion: Int32 = 0
    /// The last zxid this client saw; a server that is behind it refuses the connection.
    var lastZxidSeen: Int64
    /// The requested session timeout, in milliseconds.
    var timeoutMilliseconds: Int32
    var sessionID: Int64
    /// 16 zero bytes for a new session.
    var password: [UInt8]
    var readOnly: Bool = false

    func write(to buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.protocolVersion)
        buffer.writeJuteLong(self.lastZxidSeen)
        buffer.writeJuteInt(self.timeoutMilliseconds)
        buffer.writeJuteLong(self.sessionID)
        buffer.writeJuteBuffer(self.password)
        buffer.writeJuteBool(self.readOnly)
    }
}

/// The server's answer to a ``ConnectRequest``. A timeout of 0 or less means the session expired.
struct ConnectResponse: Hashable, Sendable {
    var protocolVersion: Int32
    /// The negotiated session timeout, in milliseconds.
    var timeoutMilliseconds: Int32
    var sessionID: Int64
    var password: [UInt8]
    /// Sent by servers since 3.4 when the client sent the flag; `false` when absent.
    var readOnly: Bool

    static func read(from buffer: inout ByteBuffer) throws -> ConnectResponse {
        let protocolVersion = try buffer.readJuteInt()
        let timeout = try buffer.readJuteInt()
        let sessionID = try buffer.readJuteLong()
        let password = try buffer.readJuteBuffer() ?? []
        let readOnly = buffer.readableBytes > 0 ? try buffer.readJuteBool() : false
        return ConnectResponse(
            protocolVersion: protocolVersion,
            timeoutMilliseconds: timeout,
            sessionID: sessionID,
            password: password,
            readOnly: readOnly
        )
    }

    func write(to buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.protocolVersion)
        buffer.writeJuteInt(self.timeoutMilliseconds)
        buffer.writeJuteLong(self.sessionID)
        buffer.writeJuteBuffer(self.password)
        buffer.writeJuteBool(self.readOnly)
    }
}

/// The header of every message from the server after the handshake.
struct ReplyHeader: Hashable, Sendable {
    var xid: Int32
    /// The zxid of the server's state when it answered; -1 on notifications.
    var zxid: Int64
    /// 0, or a ``ZooKeeperError/Code`` raw value.
    var error: Int32

    static func read(from buffer: inout ByteBuffer) throws -> ReplyHeader {
        ReplyHeader(xid: try buffer.readJuteInt(), zxid: try buffer.readJuteLong(), error: try buffer.readJuteInt())
    }

    func write(to buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.xid)
        buffer.writeJuteLong(self.zxid)
        buffer.writeJuteInt(self.error)
    }
}

/// A watch notification's body (xid -1).
struct WatcherEvent: Hashable, Sendable {
    /// A ``ZooKeeperWatchEvent/EventType`` raw value; -1 (`None`) for session state changes.
    var type: Int32
    /// The client state (`KeeperState`): 3 connected, -112 expired, …
    var state: Int32
    var path: String

    /// `KeeperState.Expired`.
    static let expiredState: Int32 = -112

    static func read(from buffer: inout ByteBuffer) throws -> WatcherEvent {
        WatcherEvent(type: try buffer.readJuteInt(), state: try buffer.readJuteInt(), path: try buffer.readJuteString() ?? "")
    }

    func write(to buffer: inout ByteBuffer) {
        buffer.writeJuteInt(self.type)
        buffer.writeJuteInt(self.state)
        buffer.writeJuteString(self.path)
    }
}

/// A request after the handshake: its operation and body (the jute `…Request` records).
enum ZooKeeperRequest: Hashable, Sendable {
    case create(path: String, data: [UInt8], acl: [ZooKeeperACL], mode: ZooKeeperCreateMode)
    case delete(path: String, version: Int32)
    case exists(path: String, watch: Bool)
    case getData(path: String, watch: Bool)
    case setData(path: String, data: [UInt8], version: Int32)
    case getChildren(path: String, watch: Bool)
    case ping
    case setWatches(relativeZxid: Int64, data: [String], exist: [String], child: [String])
    case closeSession

    var opCode: ZooKeeperOpCode {
        switch self {
        case .create: return .create
        case .delete: return .delete
        case .exists: return .exists
        case .getData: return .getData
        case .setData: return .setData
        case .getChildren: return .getChildren
        case .ping: return .ping
        case .setWatches: return .setWatches
        case .closeSession: return .closeSession
        }
    }

    /// The znode the request is about, for error messages.
    var path: String? {
        switch self {
        case .create(let path, _, _, _), .delete(let path, _), .exists(let path, _), .getData(let path, _),
            .setData(let path, _, _), .getChildren(let path, _):
            return path
        case .ping, .setWatches, .closeSession:
            return nil
        }
    }

    /// Writes the whole frame: length prefix, `RequestHeader {xid, type}`, then the body.
    func writeFrame(xid: Int32, to buffer: inout ByteBuffer) {
        let lengthIndex = buffer.writerIndex
        buffer.writeJuteInt(0)
        buffer.writeJuteInt(xid)
        buffer.writeJuteInt(self.opCode.rawValue)
        self.writeBody(to: &buffer)
        buffer.setInteger(Int32(buffer.writerIndex - lengthIndex - 4), at: lengthIndex, endianness: .big)
    }

    private func writeBody(to buffer: inout ByteBuffer) {
        switch self {
        case .create(let path, let data, let acl, let mode):
            buffer.writeJuteString(path)
            buffer.writeJuteBuffer(data)
            buffer.writeJuteInt(Int32(acl.count))
            for entry in acl {
                entry.write(to: &buffer)
            }
            buffer.writeJuteInt(mode.rawValue)
        case .delete(let path, let version):
            buffer.writeJuteString(path)
            buffer.writeJuteInt(version)
        case .exists(let path, let watch), .getData(let path, let watch), .getChildren(let path, let watch):
            buffer.writeJuteString(path)
            buffer.writeJuteBool(watch)
        case .setData(let path, let data, let version):
            buffer.writeJuteString(path)
            buffer.writeJuteBuffer(data)
            buffer.writeJuteInt(version)
        case .setWatches(let relativeZxid, let data, let exist, let child):
            buffer.writeJuteLong(relativeZxid)
            buffer.writeJuteStrings(data)
            buffer.writeJuteStrings(exist)
            buffer.writeJuteStrings(child)
        case .ping, .closeSession:
            break
        }
    }
}

extension ConnectRequest {
    /// The whole frame: length prefix and the request.
    func writeFrame(to buffer: inout ByteBuffer) {
        let lengthIndex = buffer.writerIndex
        buffer.writeJuteInt(0)
        self.write(to: &buffer)
        buffer.setInteger(Int32(buffer.writerIndex - lengthIndex - 4), at: lengthIndex, endianness: .big)
    }
}
