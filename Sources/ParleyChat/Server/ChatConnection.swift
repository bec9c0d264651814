import Foundation
import Logging
import NIOCore
import Synchronization

/// One client connection of a chat server, TCP or WebSocket, as the rest of the server sees it:
/// something to send messages to, with a bounded outgoing queue, and to close.
///
/// `send` never waits: it encodes the message and hands it to the transport. The bytes handed over
/// and not yet written to the socket are counted; a message that would take the count over
/// ``ChatServerConfiguration/outgoingQueueBytes`` is not sent and the connection is dropped at once
/// (a client that does not read must not hold memory or slow anyone else). Safe from any thread.
final class ChatConnection: Sendable {
    /// How messages leave: TCP frames written to the channel, or WebSocket texts for a writer task.
    enum Transport: Sendable {
        case tcp(any Channel)
        case webSocket(channel: any Channel, outbox: AsyncStream<WebSocketOutput>.Continuation)
    }

    /// What the WebSocket writer task does next.
    enum WebSocketOutput: Sendable {
        /// Write one text message of `bytes` bytes.
        case text(String, bytes: Int)
        /// Close with this status after what came before.
        case close(code: UInt16)
    }

    private struct State {
        var queuedBytes = 0
        var closed = false
        /// The user, once `authenticate` succeeded.
        var userID: Int64?
        /// When the last complete frame arrived (or the connection opened).
        var lastFrame: ContinuousClock.Instant
        /// When the server last started listening again after pausing (see ``readingPaused(_:)``).
        var listeningSince: ContinuousClock.Instant
        /// The server stopped reading from the peer (backpressure): its silence means nothing.
        var readingPaused = false
        /// The rate limit's bucket: frames that may still be sent now.
        var tokens: Double
    }

    /// Unique within the process, and larger for a connection opened later; tells a user's
    /// connections apart.
    let id: UInt64
    /// When the connection was accepted.
    let openedAt: ContinuousClock.Instant
    private let transport: Transport
    private let limit: Int
    private let state: Mutex<State>
    private static let nextID = Atomic<UInt64>(1)

    init(transport: Transport, outgoingQueueBytes: Int) {
        self.id = Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.transport = transport
        self.limit = outgoingQueueBytes
        let now = ContinuousClock.now
        self.openedAt = now
        self.state = Mutex(State(lastFrame: now, listeningSince: now, tokens: -1))
    }

    /// The authenticated user, if any.
    var userID: Int64? { self.state.withLock { $0.userID } }

    /// Records who the connection belongs to (after `authenticate`).
    func authenticated(as userID: Int64) {
        self.state.withLock { $0.userID = userID }
    }

    /// Notes that a complete frame arrived and takes a token from the rate limit's bucket
    /// (`burst` at most, refilled at `perSecond`): `false` when it is empty.
    func admitFrame(burst: Int, perSecond: Int) -> Bool {
        self.state.withLock { state in
            let now = ContinuousClock.now
            let elapsed = now - state.lastFrame
            state.lastFrame = now
            if state.tokens < 0 {
                state.tokens = Double(burst)
            } else {
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                state.tokens = min(Double(burst), state.tokens + seconds * Double(perSecond))
            }
            guard state.tokens >= 1 else { return false }
            state.tokens -= 1
            return true
        }
    }

    /// Since when the peer has been silent while the server listened: the last frame, or the end
    /// of the last pause if later; `nil` while reading is paused (a peer whose frames wait unread
    /// is not idle, whatever holds them up).
    var silentSince: ContinuousClock.Instant? {
        self.state.withLock { $0.readingPaused ? nil : max($0.lastFrame, $0.listeningSince) }
    }

    /// Notes that the server stopped (`true`) or started again (`false`) reading from the peer.
    func readingPaused(_ paused: Bool) {
        self.state.withLock { state in
            state.readingPaused = paused
            if !paused { state.listeningSince = .now }
        }
    }

    /// Whether the connection was closed or dropped (by either side).
    var isClosed: Bool { self.state.withLock { $0.closed } }

    /// Queues `message`; drops the connection instead when the outgoing queue would overflow.
    /// Returns `false` when the message was not queued.
    ///
    /// A message whose encoding (in this connection's form) is over 64 KiB is passed to `shorten`
    /// and sent as it comes back, until it fits; `nil` from `shorten` gives up.
    @discardableResult
    func send(_ message: ChatMessage, shortenedBy shorten: (ChatMessage) -> ChatMessage? = { _ in nil }) -> Bool {
        var message = message
        while true {
            if let encoded = self.encode(message) {
                return self.enqueue(encoded, thenClose: nil)
            }
            guard let shorter = shorten(message) else { return false }
            message = shorter
        }
    }

    /// Sends `message`, then closes (with `webSocketCode` on WebSocket) once it is written.
    func close(after message: ChatMessage?, webSocketCode: UInt16 = 1000) {
        if let encoded = message.flatMap(self.encode), self.enqueue(encoded, thenClose: webSocketCode) {
            return
        }
        self.closeNow(webSocketCode: webSocketCode)
    }

    /// Closes without sending anything more: a slow reader, or shutdown.
    func drop() {
        guard self.markClosed() else { return }
        switch self.transport {
        case .tcp(let channel):
            channel.close(mode: .all, promise: nil)
        case .webSocket(let channel, let outbox):
            outbox.finish()
            channel.close(mode: .all, promise: nil)
        }
    }

    /// Marks the connection closed by the peer (its transport ended).
    func closedByPeer() {
        _ = self.markClosed()
    }

    private func markClosed() -> Bool {
        self.state.withLock { state in
            if state.closed { return false }
            state.closed = true
            return true
        }
    }

    private func closeNow(webSocketCode: UInt16) {
        guard self.markClosed() else { return }
        switch self.transport {
        case .tcp(let channel):
            channel.close(mode: .all, promise: nil)
        case .webSocket(let channel, let outbox):
            outbox.yield(.close(code: webSocketCode))
            outbox.finish()
            Self.closeLater(channel)
        }
    }

    /// A message in the form of this connection's transport.
    private enum Encoded {
        case frame(ChatFrame)
        case text(String)
    }

    /// The message encoded for the transport; `nil` when it is over 64 KiB.
    private func encode(_ message: ChatMessage) -> Encoded? {
        switch self.transport {
        case .tcp(let channel): (try? message.encode(allocator: channel.allocator)).map(Encoded.frame)
        case .webSocket: (try? message.encodeWebSocketText()).map(Encoded.text)
        }
    }

    private func enqueue(_ encoded: Encoded, thenClose closeCode: UInt16?) -> Bool {
        switch (self.transport, encoded) {
        case (.tcp(let channel), .frame(let frame)):
            let bytes = ChatFrame.headerLength + frame.body.readableBytes
            guard self.reserve(bytes, closing: closeCode != nil) else { return false }
            let written = channel.writeAndFlush(frame)
            written.whenComplete { _ in self.release(bytes) }
            if closeCode != nil {
                written.whenComplete { _ in channel.close(mode: .all, promise: nil) }
                Self.closeLater(channel)
            }
        case (.webSocket(let channel, let outbox), .text(let text)):
            let bytes = text.utf8.count
            guard self.reserve(bytes, closing: closeCode != nil) else { return false }
            outbox.yield(.text(text, bytes: bytes))
            if let closeCode {
                outbox.yield(.close(code: closeCode))
                outbox.finish()
                Self.closeLater(channel)
            }
        case (.tcp, .text), (.webSocket, .frame):
            return false
        }
        return true
    }

    /// A peer that does not read never lets the last frame be written: close anyway after 5 s.
    private static func closeLater(_ channel: any Channel) {
        channel.eventLoop.scheduleTask(in: .seconds(5)) { channel.close(mode: .all, promise: nil) }
    }

    /// Counts `bytes` as queued. Over the limit: drops the connection and returns `false`.
    /// `closing`: the connection is closed after this message (so no further sends are taken).
    private func reserve(_ bytes: Int, closing: Bool) -> Bool {
        enum Outcome { case queued, closed, overflow }
        let outcome: Outcome = self.state.withLock { state in
            if state.closed { return .closed }
            if state.queuedBytes + bytes > self.limit { return .overflow }
            state.queuedBytes += bytes
            if closing { state.closed = true }
            return .queued
        }
        switch outcome {
        case .queued: return true
        case .closed: return false
        case .overflow:
            self.drop()
            return false
        }
    }

    /// Called when queued bytes were written to the socket.
    func release(_ bytes: Int) {
        self.state.withLock { $0.queuedBytes -= bytes }
    }
}
