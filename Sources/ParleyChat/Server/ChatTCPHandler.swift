import NIOCore
import Synchronization

/// The last handler of a TCP chat connection: turns frames into session input, in order.
///
/// Decoding errors become `error` answers queued behind the requests before them; a frame over
/// the rate limit is answered `rate_limited` and not carried out. When the session falls behind
/// (``ChatServerConfiguration/inboundQueueFrames`` frames waiting), the handler stops reading from
/// the socket until the session has caught up: a client sending faster than the server works is
/// slowed down by TCP, at no cost to others. A frame too large for the decoder is answered and
/// the connection closed.
final class ChatTCPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ChatFrame

    private let connection: ChatConnection
    private let inbound: AsyncStream<ChatInbound>.Continuation
    private let configuration: ChatServerConfiguration
    private let gate: ChatInboundGate

    init(
        connection: ChatConnection, inbound: AsyncStream<ChatInbound>.Continuation, gate: ChatInboundGate,
        configuration: ChatServerConfiguration
    ) {
        self.connection = connection
        self.inbound = inbound
        self.gate = gate
        self.configuration = configuration
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        let admitted = self.connection.admitFrame(burst: self.configuration.rateBurst, perSecond: self.configuration.ratePerSecond)
        // Bounded by the gate, give or take the frames of one read.
        self.inbound.yield(ChatInbound(admitted: admitted) { () throws(ChatMessageDecodingError) in
            try ChatMessage.decode(frame: frame, direction: .clientToServer)
        })
        if self.gate.arrived() {
            context.channel.setOption(.autoRead, value: false).whenFailure { _ in }
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
}

/// Counts the frames a TCP connection's session has yet to handle, and turns reading back on once
/// it has caught up (reading stops at `limit` frames waiting and resumes at half of it).
final class ChatInboundGate: Sendable {
    private struct State {
        var waiting = 0
        var paused = false
    }

    private let channel: any Channel
    private let limit: Int
    private let state = Mutex(State())

    init(channel: any Channel, limit: Int) {
        self.channel = channel
        self.limit = max(1, limit)
    }

    /// A frame arrived; `true` when reading should stop now.
    func arrived() -> Bool {
        self.state.withLock { state in
            state.waiting += 1
            guard !state.paused, state.waiting >= self.limit else { return false }
            state.paused = true
            return true
        }
    }

    /// The session handled a frame; resumes reading once the backlog is down to half the limit.
    func handled() {
        let resume = self.state.withLock { state in
            state.waiting -= 1
            guard state.paused, state.waiting <= self.limit / 2 else { return false }
            state.paused = false
            return true
        }
        if resume {
            self.channel.setOption(.autoRead, value: true).whenFailure { _ in }
        }
    }
}
