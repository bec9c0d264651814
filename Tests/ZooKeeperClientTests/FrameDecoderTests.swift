import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing
@testable import ZooKeeperClient

@Suite("ZooKeeperFrameDecoder")
struct FrameDecoderTests {
    @Test("Frames split anywhere decode the same (ByteToMessageDecoderVerifier)")
    func splitAnywhere() throws {
        let ping = hex("fffffffe 0000000000000010 00000000")
        let notification = hex("ffffffff ffffffffffffffff 00000000 00000004 00000003 00000002 2f61")
        let empty: [UInt8] = []
        func framed(_ body: [UInt8]) -> [UInt8] {
            var frame = ByteBuffer()
            frame.writeInteger(Int32(body.count))
            frame.writeBytes(body)
            return Array(frame.readableBytesView)
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (buffer(framed(ping)), [buffer(ping)]),
                (buffer(framed(notification) + framed(empty) + framed(ping)), [buffer(notification), buffer(empty), buffer(ping)]),
            ],
            decoderFactory: { ZooKeeperFrameDecoder() }
        )
    }

    @Test("A frame longer than the limit is rejected as soon as its length arrives")
    func oversized() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(ZooKeeperFrameDecoder(maximumFrameLength: 16)))
        #expect(throws: ZooKeeperFrameError.frameTooLarge(length: 17, limit: 16)) {
            try channel.writeInbound(buffer(hex("00000011")))
        }
        _ = try? channel.finish()
    }

    @Test("A negative length is rejected")
    func negativeLength() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(ZooKeeperFrameDecoder()))
        #expect(throws: ZooKeeperFrameError.negativeLength(-1)) {
            try channel.writeInbound(buffer(hex("ffffffff 00")))
        }
        _ = try? channel.finish()
    }

    @Test("Garbage (an HTTP answer) is rejected, not buffered")
    func garbage() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(ZooKeeperFrameDecoder()))
        #expect(throws: ZooKeeperFrameError.frameTooLarge(length: 0x4854_5450, limit: ZooKeeperFrameDecoder.defaultMaximumFrameLength)) {
            try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 400 Bad Request\r\n\r\n"))
        }
        _ = try? channel.finish()
    }

    @Test("The stream ending inside a frame is an error")
    func truncated() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(ZooKeeperFrameDecoder()))
        try channel.writeInbound(buffer(hex("00000010 0102")))
        #expect(throws: ZooKeeperFrameError.truncatedFrame(bufferedBytes: 2)) {
            try channel.finish()
        }
    }
}
