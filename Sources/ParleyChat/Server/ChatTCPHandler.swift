import NIOCore

/// The last handler of a TCP chat connection: turns frames into session input, in order.
///
/// Decoding errors become `error` answers queued behind the requests before them; a frame over
/// the rate limit, or one that finds the session's inbound queue full, is answered `rate_limited`
/// and not carried out. A frame too large for the decoder is answered and the connection closed.
final class ChatTCPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ChatFrame

    private let connection: ChatConnection
    private let inbound: AsyncStream<ChatInbound>.Continuation
    private let configuration: ChatServerConfiguration

    init(connection: ChatConnection, inbound: AsyncStream<ChatInbound>.Continuation, configuration: ChatServerConfiguration) {
        self.connection = connection
        self.inbound = inbound
        self.configuration = configuration
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        let admitted = self.connection.admitFrame(burst: self.configuration.rateBurst, perSecond: self.configuration.ratePerSecond)
        let item: ChatInbound
        do throws(ChatMessageDecodingError) {
            let message = try ChatMessage.decode(frame: frame, direction: .clientToServer)
            item = admitted ? .message(message) : .refused(Self.rateLimited(message))
        } catch {
            item = .refused(error.reply ?? ChatError(code: .invalidInput, message: error.message))
        }
        if case .dropped = self.inbound.yield(item) {
            self.connection.send(.error(Self.rateLimited(nil)))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let violation = error as? any ChatProtocolViolation, let reply = violation.reply {
            self.connection.close(after: .error(reply))
        } else {
            self.connection.drop()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.connection.closedByPeer()
        self.inbound.finish()
        context.fireChannelInactive()
    }

    /// `rate_limited` for a frame not carried out, with its ids when it had any.
    static func rateLimited(_ message: ChatMessage?) -> ChatError {
        var error = ChatError(code: .rateLimited, message: "Too many messages: slow down and try again in a second.")
        if let message {
            error.requestId = ChatSession.requestId(of: message)
            if case .sendText(let body) = message {
                error.clientMessageId = body.clientMessageId
            }
        }
        return error
    }
}
