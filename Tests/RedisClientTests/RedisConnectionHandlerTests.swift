import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import RedisClient

/// The connection handler without I/O: order of replies, push messages, timeouts, closing.
@Suite("RedisConnectionHandler")
struct RedisConnectionHandlerTests {
    private func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPReplyDecoder()))
        try channel.pipeline.syncOperations.addHandler(RedisConnectionHandler(address: "test:6379", logger: Logger(label: "test")))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 6379)).wait()
        #expect(channel.isActive)
        return channel
    }

    private func send(
        _ commands: [RESPCommand],
        on channel: EmbeddedChannel,
        timeout: TimeAmount = .seconds(1)
    ) -> EventLoopFuture<[RESPValue]> {
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        let request = RedisRequest(commands: commands, name: commands.first?.name ?? "", timeout: timeout, promise: promise)
        channel.pipeline.writeAndFlush(request, promise: nil)
        return promise.futureResult
    }

    private func result(_ future: EventLoopFuture<[RESPValue]>) -> Result<[RESPValue], any Error>? {
        let result = Mutex<Result<[RESPValue], any Error>?>(nil)
        future.whenComplete { completed in result.withLock { $0 = completed } }
        return result.withLock { $0 }
    }

    @Test func repliesGoToRequestsInOrderAndPushesAreDropped() throws {
        let channel = try self.makeChannel()
        let first = self.send([RESPCommand("GET", "a"), RESPCommand("GET", "b")], on: channel)
        let second = self.send([RESPCommand("PING")], on: channel)
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: written) == "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n")
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "*1\r\n$4\r\nPING\r\n")

        try channel.writeInbound(ByteBuffer(string: "$1\r\n1\r\n>2\r\n+invalidate\r\n_\r\n"))
        #expect(self.result(first).isPending)
        try channel.writeInbound(ByteBuffer(string: "$-1\r\n+PONG\r\n"))
        #expect(try self.result(first)?.get() == [.bulkString(ByteBuffer(string: "1")), .bulkString(nil)])
        #expect(try self.result(second)?.get() == [.simpleString("PONG")])
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test func timeoutClosesTheConnectionAndFailsEveryRequest() throws {
        let channel = try self.makeChannel()
        let slow = self.send([RESPCommand("BLPOP", "k", "0")], on: channel, timeout: .milliseconds(100))
        let behind = self.send([RESPCommand("PING")], on: channel, timeout: .seconds(10))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(99))
        #expect(self.result(slow).isPending)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        for future in [slow, behind] {
            guard case .failure(let error as RedisClientError) = self.result(future) else {
                Issue.record("not failed with a RedisClientError")
                continue
            }
            #expect(error.code == .timeout)
            #expect(error.detail.contains("no reply to BLPOP from test:6379 within 100 ms"))
        }
        #expect(!channel.isActive)
    }

    @Test func replyWithNothingInFlightIsAProtocolError() throws {
        let channel = try self.makeChannel()
        try channel.writeInbound(ByteBuffer(string: "+OK\r\n"))
        #expect(!channel.isActive)
    }

    @Test func decoderErrorFailsRequestsWithAProtocolError() throws {
        let channel = try self.makeChannel()
        let request = self.send([RESPCommand("GET", "a")], on: channel)
        _ = try? channel.writeInbound(ByteBuffer(string: "?garbage\r\n"))
        guard case .failure(let error as RedisClientError) = self.result(request) else {
            Issue.record("not failed with a RedisClientError")
            return
        }
        #expect(error.code == .protocolError)
        #expect(!channel.isActive)
    }

    @Test func connectionLostFailsRequestsInFlight() throws {
        let channel = try self.makeChannel()
        let request = self.send([RESPCommand("INCR", "n")], on: channel)
        channel.pipeline.fireChannelInactive()
        guard case .failure(let error as RedisClientError) = self.result(request) else {
            Issue.record("not failed with a RedisClientError")
            return
        }
        #expect(error.code == .connectionFailed)
        #expect(error.description.contains("may or may not have run"))
        _ = try? channel.finish()
    }
}

extension Optional where Wrapped == Result<[RESPValue], any Error> {
    /// Whether the future had not completed.
    var isPending: Bool { self == nil }
}
