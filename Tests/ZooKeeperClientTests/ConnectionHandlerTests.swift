import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
@testable import ZooKeeperClient

/// Records what a connection handler tells its session.
final class RecordingDelegate: ConnectionDelegate {
    struct Calls {
        var zxids: [Int64?] = []
        var notifications: [WatcherEvent] = []
        var registered: [(ZooKeeperWatch, Bool)] = []
        var expired: [String] = []
        var setWatches: ZooKeeperRequest?
    }

    let calls = Mutex(Calls())

    func frameReceived(zxid: Int64?) { self.calls.withLock { $0.zxids.append(zxid) } }
    func notificationReceived(_ event: WatcherEvent) { self.calls.withLock { $0.notifications.append(event) } }
    func register(_ watch: ZooKeeperWatch, nodeExists: Bool) { self.calls.withLock { $0.registered.append((watch, nodeExists)) } }
    func sessionExpiredByServer(_ detail: String) { self.calls.withLock { $0.expired.append(detail) } }
    func setWatchesRequest() -> ZooKeeperRequest? { self.calls.withLock { $0.setWatches } }
}

/// The connection handler on an `EmbeddedChannel`, with virtual time.
@Suite("ZooKeeperConnectionHandler")
struct ConnectionHandlerTests {
    struct Harness {
        let channel: EmbeddedChannel
        let loop: EmbeddedEventLoop
        let handshake: EventLoopPromise<ConnectResponse>
        let delegate: RecordingDelegate

        init(setWatches: ZooKeeperRequest? = nil) throws {
            self.loop = EmbeddedEventLoop()
            self.channel = EmbeddedChannel(loop: self.loop)
            self.delegate = RecordingDelegate()
            self.delegate.calls.withLock { $0.setWatches = setWatches }
            self.handshake = self.loop.makePromise(of: ConnectResponse.self)
            let request = ConnectRequest(lastZxidSeen: 0, timeoutMilliseconds: 3000, sessionID: 0, password: Array(repeating: 0, count: 16))
            try self.channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ZooKeeperFrameDecoder()))
            try self.channel.pipeline.syncOperations.addHandler(ZooKeeperConnectionHandler(
                connectRequest: request,
                handshake: self.handshake,
                handshakeDeadline: self.loop.now + .seconds(1),
                delegate: self.delegate,
                logger: Logger(label: "test")
            ))
            try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2181)).wait()
        }

        func written() throws -> [UInt8]? {
            try self.channel.readOutbound(as: ByteBuffer.self).map { Array($0.readableBytesView) }
        }

        func receive(_ bytes: [UInt8]) throws {
            var frame = ByteBuffer()
            frame.writeInteger(Int32(bytes.count))
            frame.writeBytes(bytes)
            try self.channel.writeInbound(frame)
        }

        /// Answers the handshake with a 3 s session.
        func accept() throws {
            _ = try self.written()
            try self.receive(hex("00000000 00000bb8 0000000000000042 00000010 0102030405060708090a0b0c0d0e0f10 00"))
        }

        func send(_ request: ZooKeeperRequest, watch: ZooKeeperWatch? = nil, timeout: TimeAmount = .seconds(5)) -> EventLoopFuture<ZooKeeperReply> {
            let reply = self.loop.makePromise(of: ZooKeeperReply.self)
            self.channel.writeAndFlush(ZooKeeperOutboundRequest(request: request, watch: watch, deadline: self.loop.now + timeout, reply: reply), promise: nil)
            return reply.futureResult
        }
    }

    @Test("Sends the ConnectRequest on connect and completes the handshake with the answer")
    func handshake() throws {
        let harness = try Harness()
        let sent = try #require(try harness.written())
        #expect(sent == hex("0000002d 00000000 0000000000000000 00000bb8 0000000000000000 00000010 00000000000000000000000000000000 00"))
        try harness.receive(hex("00000000 00000bb8 0000000000000042 00000010 0102030405060708090a0b0c0d0e0f10 00"))
        let response = try harness.handshake.futureResult.wait()
        #expect(response.sessionID == 0x42)
        #expect(response.timeoutMilliseconds == 3000)
        #expect(try harness.written() == nil)
    }

    @Test("A handshake answered with timeout 0 fails as SESSIONEXPIRED and closes")
    func expiredHandshake() throws {
        let harness = try Harness()
        _ = try harness.written()
        try harness.receive(hex("00000000 00000000 0000000000000000 00000010 00000000000000000000000000000000 00"))
        #expect(throws: ZooKeeperError.sessionExpired("the server refused to resume the session")) {
            try harness.handshake.futureResult.wait()
        }
        #expect(!harness.channel.isActive)
    }

    @Test("No handshake answer before the deadline: CONNECTIONLOSS")
    func handshakeTimeout() throws {
        let harness = try Harness()
        harness.loop.advanceTime(by: .seconds(1))
        #expect(throws: ZooKeeperError.self) { try harness.handshake.futureResult.wait() }
        #expect(!harness.channel.isActive)
    }

    @Test("After the handshake, watches are set again first (xid -8)")
    func setWatchesFirst() throws {
        let harness = try Harness(setWatches: .setWatches(relativeZxid: 9, data: ["/a"], exist: [], child: []))
        try harness.accept()
        #expect(try harness.written() == hex("00000022 fffffff8 00000065 0000000000000009 00000001 00000002 2f61 00000000 00000000"))
    }

    @Test("Requests are numbered from 1, replies matched by xid, watches registered on success")
    func requestsAndReplies() throws {
        let harness = try Harness()
        try harness.accept()
        let watch = ZooKeeperWatch(path: "/a", kind: .exists)
        let exists = harness.send(.exists(path: "/a", watch: true), watch: watch)
        let create = harness.send(.create(path: "/b", data: [], acl: ZooKeeperACL.openUnsafe, mode: .persistent))
        #expect(try harness.written() == hex("0000000f 00000001 00000003 00000002 2f61 01"))
        #expect(try harness.written()?.prefix(12) == ArraySlice(hex("00000031 00000002 00000001")))

        // NONODE on exists still registers the watch (as a creation watch).
        try harness.receive(hex("00000001 0000000000000007 ffffff9b"))
        #expect(try exists.wait().header.error == -101)
        try harness.receive(hex("00000002 0000000000000008 00000000 00000002 2f62"))
        var body = try create.wait().body
        #expect(try body.readJuteString() == "/b")
        let calls = harness.delegate.calls.withLock { $0 }
        #expect(calls.zxids.suffix(2) == [7, 8])
        #expect(calls.registered.count == 1)
        #expect(calls.registered.first?.0 === watch)
        #expect(calls.registered.first?.1 == false)
    }

    @Test("Notifications go to the session; SESSIONEXPIRED replies report expiry")
    func notificationsAndExpiry() throws {
        let harness = try Harness()
        try harness.accept()
        try harness.receive(hex("ffffffff ffffffffffffffff 00000000 00000002 00000003 00000002 2f61"))
        #expect(harness.delegate.calls.withLock { $0.notifications } == [WatcherEvent(type: 2, state: 3, path: "/a")])
        let reply = harness.send(.getData(path: "/a", watch: false))
        _ = try harness.written()
        try harness.receive(hex("00000001 0000000000000000 ffffff90"))
        #expect(try reply.wait().header.error == -112)
        #expect(harness.delegate.calls.withLock { $0.expired.count } == 1)
    }

    @Test("Pings every third of the session timeout; gives up after two thirds of silence")
    func pingsAndSilence() throws {
        let harness = try Harness()
        try harness.accept()
        let pending = harness.send(.getChildren(path: "/", watch: false), timeout: .seconds(10))
        _ = try harness.written()
        harness.loop.advanceTime(by: .milliseconds(999))
        #expect(try harness.written() == nil)
        harness.loop.advanceTime(by: .milliseconds(1))
        #expect(try harness.written() == hex("00000008 fffffffe 0000000b"))
        try harness.receive(hex("fffffffe 0000000000000000 00000000"))  // heard at 1000 ms
        harness.loop.advanceTime(by: .milliseconds(1999))
        #expect(harness.channel.isActive)
        harness.loop.advanceTime(by: .milliseconds(1))
        #expect(!harness.channel.isActive)
        #expect(throws: ZooKeeperError.connectionLoss("no message from the server for 2000 ms", path: "/")) {
            try pending.wait()
        }
    }

    @Test("A request without a reply before its deadline fails with OPERATIONTIMEOUT; a late reply is dropped")
    func requestTimeout() throws {
        let harness = try Harness()
        try harness.accept()
        let reply = harness.send(.exists(path: "/slow", watch: false), timeout: .milliseconds(300))
        harness.loop.advanceTime(by: .milliseconds(300))
        #expect(throws: ZooKeeperError(code: .operationTimeout, path: "/slow", detail: "no reply to exists within the request timeout")) {
            try reply.wait()
        }
        try harness.receive(hex("00000001 0000000000000003 00000000"))
        #expect(harness.channel.isActive)
    }

    @Test("A garbage reply closes the connection; requests in flight fail with CONNECTIONLOSS")
    func garbage() throws {
        let harness = try Harness()
        try harness.accept()
        let reply = harness.send(.exists(path: "/a", watch: false))
        try harness.receive(hex("0001"))
        #expect(!harness.channel.isActive)
        do {
            _ = try reply.wait()
            Issue.record("expected a failure")
        } catch let error as ZooKeeperError {
            #expect(error.code == .connectionLoss)
            #expect(error.detail.contains("MARSHALLINGERROR"))
        }
    }

    @Test("Requests before the handshake are refused as not sent")
    func notReady() throws {
        let harness = try Harness()
        let reply = harness.send(.exists(path: "/a", watch: false))
        #expect(throws: RequestNotSentError.self) { try reply.wait() }
    }
}
