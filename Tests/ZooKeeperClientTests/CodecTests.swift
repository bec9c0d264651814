import NIOCore
import NIOTestUtils
import Testing
@testable import ZooKeeperClient

/// Bytes from a hex string; spaces and newlines are ignored.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

func buffer(_ bytes: [UInt8]) -> ByteBuffer {
    ByteBuffer(bytes: bytes)
}

@Suite("Jute codec, byte by byte")
struct CodecTests {
    @Test("ConnectRequest: length, protocol version, last zxid, timeout, session, password, readOnly")
    func connectRequest() {
        let request = ConnectRequest(
            lastZxidSeen: 0x0000_0001_0000_0005,
            timeoutMilliseconds: 4000,
            sessionID: 0x0123_4567_89ab_cdef,
            password: Array(1...16)
        )
        var frame = ByteBuffer()
        request.writeFrame(to: &frame)
        #expect(Array(frame.readableBytesView) == hex("""
            0000002d
            00000000
            0000000100000005
            00000fa0
            0123456789abcdef
            00000010 0102030405060708090a0b0c0d0e0f10
            00
            """))
    }

    @Test("A new session asks with id 0 and 16 zero bytes")
    func newSessionRequest() {
        let machine = SessionStateMachine(serverCount: 1, requestedTimeout: .seconds(10), connectTimeout: .seconds(1))
        let request = machine.connectRequest
        #expect(request.sessionID == 0)
        #expect(request.password == [UInt8](repeating: 0, count: 16))
        #expect(request.timeoutMilliseconds == 10_000)
        #expect(request.lastZxidSeen == 0)
    }

    @Test("ConnectResponse with and without the readOnly byte; timeout 0 is an expired session")
    func connectResponse() throws {
        var withFlag = buffer(hex("00000000 00000fa0 0123456789abcdef 00000002 abcd 01"))
        let response = try ConnectResponse.read(from: &withFlag)
        #expect(response == ConnectResponse(protocolVersion: 0, timeoutMilliseconds: 4000, sessionID: 0x0123_4567_89ab_cdef, password: [0xab, 0xcd], readOnly: true))
        var withoutFlag = buffer(hex("00000000 00000000 0000000000000000 00000010 00000000000000000000000000000000"))
        let expired = try ConnectResponse.read(from: &withoutFlag)
        #expect(expired.timeoutMilliseconds == 0)
        #expect(expired.readOnly == false)
    }

    @Test("create with OPEN_ACL_UNSAFE, ephemeral sequential")
    func createRequest() {
        let request = ZooKeeperRequest.create(path: "/a", data: Array("hi".utf8), acl: ZooKeeperACL.openUnsafe, mode: .ephemeralSequential)
        var frame = ByteBuffer()
        request.writeFrame(xid: 1, to: &frame)
        #expect(Array(frame.readableBytesView) == hex("""
            00000033
            00000001 00000001
            00000002 2f61
            00000002 6869
            00000001
              0000001f
              00000005 776f726c64
              00000006 616e796f6e65
            00000003
            """))
    }

    @Test("getChildren with a watch")
    func getChildrenRequest() {
        var frame = ByteBuffer()
        ZooKeeperRequest.getChildren(path: "/election", watch: true).writeFrame(xid: 7, to: &frame)
        #expect(Array(frame.readableBytesView) == hex("00000016 00000007 00000008 00000009 2f656c656374696f6e 01"))
    }

    @Test("delete, exists, getData, setData bodies")
    func otherRequests() {
        var frame = ByteBuffer()
        ZooKeeperRequest.delete(path: "/x", version: -1).writeFrame(xid: 2, to: &frame)
        #expect(Array(frame.readableBytesView) == hex("00000012 00000002 00000002 00000002 2f78 ffffffff"))
        frame.clear()
        ZooKeeperRequest.exists(path: "/x", watch: false).writeFrame(xid: 3, to: &frame)
        #expect(Array(frame.readableBytesView) == hex("0000000f 00000003 00000003 00000002 2f78 00"))
        frame.clear()
        ZooKeeperRequest.getData(path: "/x", watch: true).writeFrame(xid: 4, to: &frame)
        #expect(Array(frame.readableBytesView) == hex("0000000f 00000004 00000004 00000002 2f78 01"))
        frame.clear()
        ZooKeeperRequest.setData(path: "/x", data: [7], version: 5).writeFrame(xid: 5, to: &frame)
        #expect(Array(frame.readableBytesView) == hex("00000017 00000005 00000005 00000002 2f78 00000001 07 00000005"))
    }

    @Test("ping: xid -2, op 11, no body; closeSession: op -11")
    func pingAndClose() {
        var frame = ByteBuffer()
        ZooKeeperRequest.ping.writeFrame(xid: ZooKeeperXid.ping, to: &frame)
        #expect(Array(frame.readableBytesView) == hex("00000008 fffffffe 0000000b"))
        frame.clear()
        ZooKeeperRequest.closeSession.writeFrame(xid: 9, to: &frame)
        #expect(Array(frame.readableBytesView) == hex("00000008 00000009 fffffff5"))
    }

    @Test("SetWatches: xid -8, op 101, relative zxid and three string vectors")
    func setWatches() {
        var frame = ByteBuffer()
        ZooKeeperRequest.setWatches(relativeZxid: 0x20, data: ["/a"], exist: [], child: ["/b", "/c"])
            .writeFrame(xid: ZooKeeperXid.setWatches, to: &frame)
        #expect(Array(frame.readableBytesView) == hex("""
            0000002e fffffff8 00000065
            0000000000000020
            00000001 00000002 2f61
            00000000
            00000002 00000002 2f62 00000002 2f63
            """))
    }

    @Test("A reply header with an error (NONODE)")
    func replyHeaderWithError() throws {
        var bytes = buffer(hex("00000005 0000000000000010 ffffff9b"))
        let header = try ReplyHeader.read(from: &bytes)
        #expect(header == ReplyHeader(xid: 5, zxid: 0x10, error: -101))
        #expect(ZooKeeperError.Code(rawValue: header.error) == .noNode)
        #expect(bytes.readableBytes == 0)
    }

    @Test("A watch notification: xid -1, then WatcherEvent {type, state, path}")
    func watcherEvent() throws {
        var bytes = buffer(hex("ffffffff ffffffffffffffff 00000000 00000002 00000003 00000004 2f612f62"))
        let header = try ReplyHeader.read(from: &bytes)
        #expect(header.xid == ZooKeeperXid.notification)
        let event = try WatcherEvent.read(from: &bytes)
        #expect(event == WatcherEvent(type: 2, state: 3, path: "/a/b"))
        #expect(ZooKeeperWatchEvent.EventType(rawValue: event.type) == .nodeDeleted)
    }

    @Test("Stat: 11 fields, 68 bytes")
    func stat() throws {
        let stat = ZooKeeperStat(czxid: 1, mzxid: 2, ctime: 3, mtime: 4, version: 5, cversion: 6, aversion: 7,
                                 ephemeralOwner: 8, dataLength: 9, numChildren: 10, pzxid: 11)
        var bytes = ByteBuffer()
        stat.write(to: &bytes)
        #expect(bytes.readableBytes == 68)
        #expect(try ZooKeeperStat.read(from: &bytes) == stat)
    }

    @Test("Strings and buffers: -1 is null; impossible lengths are rejected")
    func primitives() throws {
        var null = buffer(hex("ffffffff ffffffff"))
        #expect(try null.readJuteString() == nil)
        #expect(try null.readJuteBuffer() == nil)
        var negative = buffer(hex("fffffffe"))
        #expect(throws: JuteDecodingError.self) { try negative.readJuteString() }
        var tooLong = buffer(hex("00000010 6162"))
        #expect(throws: JuteDecodingError.self) { try tooLong.readJuteBuffer() }
        var hugeVector = buffer(hex("7fffffff 00000000"))
        #expect(throws: JuteDecodingError.self) { try hugeVector.readJuteStrings() }
        var children = buffer(hex("00000002 00000001 61 00000002 6263"))
        #expect(try children.readJuteStrings() == ["a", "bc"])
        var utf8 = ByteBuffer()
        utf8.writeJuteString("zürich")
        #expect(Array(utf8.readableBytesView.prefix(4)) == hex("00000007"))
    }
}
