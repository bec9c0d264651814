import NIOCore
import NIOPosix

/// A client's TCP connection to a chat server: send messages, read the server's messages in order.
///
/// ```swift
/// let connection = try await ChatClientConnection.connect(host: ticket.host, port: ticket.port)
/// try await connection.send(.authenticate(ChatAuthenticate(token: ticket.token)))
/// for await message in connection.messages { … }
/// ```
///
/// `messages` ends when the connection closes. A frame the client cannot decode is skipped (a
/// newer server may send types this client does not know).
public final class ChatClientConnection: Sendable {
    /// The server's messages, in order; finishes when the connection closes.
    public let messages: AsyncStream<ChatMessage>
    private let channel: any Channel

    private init(channel: any Channel, messages: AsyncStream<ChatMessage>) {
        self.channel = channel
        self.messages = messages
    }

    /// Connects within `timeout`.
    public static func connect(host: String, port: Int, timeout: Duration = .seconds(5)) async throws -> ChatClientConnection {
        let (messages, continuation) = AsyncStream<ChatMessage>.makeStream()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(ChatFrameDecoder(), maximumBufferSize: ChatFrame.headerLength + ChatFrame.maximumBodyLength),
                        Reader(continuation: continuation)
                    )
                }
            }
            .connect(host: host, port: port).get()
        return ChatClientConnection(channel: channel, messages: messages)
    }

    /// Sends one message.
    public func send(_ message: ChatMessage) async throws {
        try await self.sendRaw(message.encodeTCPBytes(allocator: self.channel.allocator))
    }

    /// Sends bytes as they are (tests send broken frames with it).
    public func sendRaw(_ bytes: ByteBuffer) async throws {
        try await self.channel.writeAndFlush(bytes)
    }

    /// Closes the connection.
    public func close() async {
        try? await self.channel.close()
    }

    /// Stops reading from the socket (tests play a client that does not read).
    public func stopReading() async throws {
        try await self.channel.setOption(.autoRead, value: false).get()
    }

    private final class Reader: ChannelInboundHandler {
        typealias InboundIn = ChatFrame
        let continuation: AsyncStream<ChatMessage>.Continuation

        init(continuation: AsyncStream<ChatMessage>.Continuation) {
            self.continuation = continuation
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if let message = try? ChatMessage.decode(frame: Self.unwrapInboundIn(data), direction: .serverToClient) {
                self.continuation.yield(message)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.continuation.finish()
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
