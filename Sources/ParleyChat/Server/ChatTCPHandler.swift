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

    private let inbox: ChatInbox
    private let configuration: ChatServerConfiguration
    private var connection: ChatConnection { self.inbox.connection }

    init(inbox: ChatInbox, configuration: ChatServerConfiguration) {
        self.inbox = inbox
        self.configuration = configuration
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        let admitted = self.connection.admitFrame(burst: self.configuration.rateBurst, perSecond: self.configuration.ratePerSecond)
        // Bounded by the inbox, give or take the frames of one read.
        let item = ChatInbound(admitted: admitted) { () throws(ChatMessageDecodingError) in
            try ChatMessage.decode(frame: frame, direction: .clientToServer)
        }
        if self.inbox.arrived(item) {
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
        self.inbox.inputEnded()
        context.fireChannelInactive()
    }
}

/// A TCP connection's frames waiting for its session, and the session between frames.
///
/// No task is kept per connection: when a frame arrives and none is handling them, the inbox is
/// handed to the server (`ready`), which runs ``drain()`` in a task that handles the frames waiting
/// and ends. A task keeps the largest stack it ever had until it ends, so a task per connection
/// cost about 4 KB per idle connection (heaptrack), more than the rest of it. Reading stops at
/// `limit` frames waiting and resumes at half of it (backpressure).
final class ChatInbox: Sendable {
    private struct State {
        /// Frames not yet taken by ``drain()``.
        var frames: [ChatInbound] = []
        /// Frames arrived and not yet handled (those taken by ``drain()`` included).
        var waiting = 0
        var session: ChatSession
        /// A task runs (or is about to run) ``drain()``.
        var draining = false
        /// The peer closed its side: nothing more arrives.
        var inputEnded = false
        /// The session is over; frames still arriving are not carried out.
        var over = false
        var paused = false
    }

    let connection: ChatConnection
    private let channel: any Channel
    private let limit: Int
    private let ready: AsyncStream<ChatInbox>.Continuation
    private let state: Mutex<State>

    init(session: ChatSession, channel: any Channel, limit: Int, ready: AsyncStream<ChatInbox>.Continuation) {
        self.connection = session.connection
        self.channel = channel
        self.limit = max(1, limit)
        self.ready = ready
        self.state = Mutex(State(session: session))
    }

    /// A frame arrived; `true` when reading should stop now.
    func arrived(_ item: ChatInbound) -> Bool {
        let (start, pause) = self.state.withLock { state -> (Bool, Bool) in
            guard !state.over else { return (false, false) }
            state.frames.append(item)
            state.waiting += 1
            let pause = !state.paused && state.waiting >= self.limit
            if pause {
                state.paused = true
                // Under this lock, so that it changes in the same order as `paused`.
                self.connection.readingPaused(true)
            }
            return (Self.claimDrain(&state), pause)
        }
        if start { self.ready.yield(self) }
        return pause
    }

    /// The peer closed its side: the session ends once the frames before are handled.
    func inputEnded() {
        let start = self.state.withLock { state -> Bool in
            state.inputEnded = true
            return !state.over && Self.claimDrain(&state)
        }
        if start { self.ready.yield(self) }
    }

    private static func claimDrain(_ state: inout State) -> Bool {
        guard !state.draining else { return false }
        state.draining = true
        return true
    }

    /// Handles the frames waiting, in order. Returns `true` when the session is over (the peer
    /// closed, or the session closed the connection), after which nothing more is handled.
    func drain() async -> Bool {
        while true {
            // Takes every frame waiting at once (handled in order below): no per-frame dequeue.
            // No frame: this drain stops, telling whether the session is over.
            let (batch, current, over) = self.state.withLock { state -> ([ChatInbound], ChatSession, Bool) in
                guard !state.frames.isEmpty, !self.connection.isClosed else {
                    if state.inputEnded || self.connection.isClosed {
                        state.over = true
                        state.frames = []
                    }
                    state.draining = false
                    return ([], state.session, state.over)
                }
                defer { state.frames = [] }
                return (state.frames, state.session, false)
            }
            guard !batch.isEmpty else { return over }
            var session = current
            for item in batch {
                guard !self.connection.isClosed else { break }
                let keepGoing = await session.handle(item)
                let resume = self.state.withLock { state -> Bool in
                    state.session = session
                    state.waiting -= 1
                    if !keepGoing {
                        state.over = true
                        state.frames = []
                        state.draining = false
                    }
                    guard keepGoing, state.paused, state.waiting <= self.limit / 2 else { return false }
                    state.paused = false
                    self.connection.readingPaused(false)
                    return true
                }
                if resume {
                    self.channel.setOption(.autoRead, value: true).whenFailure { _ in }
                }
                if !keepGoing { return true }
            }
        }
    }
}
