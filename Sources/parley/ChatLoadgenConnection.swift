import NIOCore
import NIOPosix
import ParleyChat

/// One connection of `parley loadgen chat`. Everything per text happens on the connection's event
/// loop: a sender's texts are scheduled there, and frames are counted there as they arrive, with
/// no task per connection or per text. With a task per receiver and one per sender, `perf` showed
/// a third of the generator's samples in the kernel switching threads, and it took more CPU per
/// text than the chat server's work it measured left room for (BENCHMARKS.md).
final class ChatLoadgenConnection: Sendable {
    let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Connects and authenticates with `token`; the connection's frames are counted in `stats`
    /// from then on.
    static func connect(host: String, port: Int, token: String, stats: LoadStats) async throws -> ChatLoadgenConnection {
        let authenticated = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(30))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(ChatFrameDecoder(), maximumBufferSize: ChatFrame.headerLength + ChatFrame.maximumBodyLength),
                        Counter(stats: stats, authenticated: authenticated)
                    )
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            authenticated.fail(error)
            throw error
        }
        do {
            try await channel.writeAndFlush(ChatMessage.authenticate(ChatAuthenticate(token: token)).encodeTCPBytes(allocator: channel.allocator))
            try await authenticated.futureResult.get()
        } catch {
            authenticated.fail(error)
            try? await channel.close()
            throw error
        }
        return ChatLoadgenConnection(channel: channel)
    }

    /// Sends a text to `receiver` every `interval` from `first` until `end`, on the event loop;
    /// the future completes after the last.
    func sendTexts(
        to receiver: Int64, tag: String, first: NIODeadline, interval: TimeAmount, end: NIODeadline, stats: LoadStats
    ) -> EventLoopFuture<Void> {
        let done = self.channel.eventLoop.makePromise(of: Void.self)
        let channel = self.channel
        let padding = String(repeating: "x", count: 40)
        @Sendable func send(_ sequence: Int, at due: NIODeadline) {
            guard due < end else {
                done.succeed()
                return
            }
            channel.eventLoop.scheduleTask(deadline: due) {
                // The text starts with when it was sent: the receiver measures the latency from it.
                let text = "\(NIODeadline.now().uptimeNanoseconds) \(padding)"
                let message = ChatMessage.sendText(ChatSendText(clientMessageId: "\(tag)-\(sequence)", toUserId: receiver, text: text))
                if let frame = try? message.encodeTCPBytes(allocator: channel.allocator) {
                    channel.writeAndFlush(frame).whenComplete { result in
                        if case .success = result { stats.sent() } else { stats.failed() }
                    }
                } else {
                    stats.failed()
                }
                send(sequence + 1, at: due + interval)
            }
        }
        send(1, at: first)
        return done.futureResult
    }

    func close() async {
        try? await self.channel.close()
    }

    /// When a text pushed to its receiver was sent: the number its text starts with (see
    /// ``sendTexts(to:tag:first:interval:end:stats:)``), read from the frame's JSON body without
    /// decoding all of it; `nil` when the body has no such text.
    static func sentAt(pushed body: ByteBuffer) -> UInt64? {
        body.withUnsafeReadableBytes { bytes -> UInt64? in
            let key = #""text":""#.utf8
            // A plain loop: `firstRange(of:)` took a tenth of the generator's samples.
            var index = bytes.startIndex
            while index + key.count <= bytes.endIndex, !key.elementsEqual(bytes[index..<index + key.count]) {
                index += 1
            }
            let start = index + key.count
            guard start <= bytes.endIndex else { return nil }
            var value: UInt64 = 0
            index = start
            while index < bytes.endIndex, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
                guard !overflow1, !overflow2 else { return nil }
                value = sum
                index += 1
            }
            return index > start && index < bytes.endIndex && bytes[index] == UInt8(ascii: " ") ? value : nil
        }
    }

    /// Counts the frames of one connection: acks, delivered texts (with their latency) and
    /// errors; `authenticated` completes with the answer to `authenticate`.
    private final class Counter: ChannelInboundHandler, Sendable {
        typealias InboundIn = ChatFrame
        let stats: LoadStats
        let authenticated: EventLoopPromise<Void>

        init(stats: LoadStats, authenticated: EventLoopPromise<Void>) {
            self.stats = stats
            self.authenticated = authenticated
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = Self.unwrapInboundIn(data)
            switch frame.messageType {
            case .authenticated:
                // Heartbeats as the server asks, like any client (the server closes a silent
                // connection, and a receiver sends nothing else): between 1 s and an hour, 10 s if
                // the answer cannot be read.
                var seconds = 10
                if case .authenticated(let answer)? = try? ChatMessage.decode(frame: frame, direction: .serverToClient) {
                    seconds = min(max(answer.heartbeatSeconds, 1), 3600)
                }
                let channel = context.channel
                let interval = TimeAmount.seconds(Int64(seconds))
                channel.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { task in
                    guard channel.isActive else {
                        task.cancel()
                        return
                    }
                    if let heartbeat = try? ChatMessage.heartbeat(ChatHeartbeat()).encodeTCPBytes(allocator: channel.allocator) {
                        channel.writeAndFlush(heartbeat, promise: nil)
                    }
                }
                self.authenticated.succeed()
            case .textAck:
                self.stats.acknowledged()
            case .message:
                if let sent = ChatLoadgenConnection.sentAt(pushed: frame.body) {
                    let now = NIODeadline.now().uptimeNanoseconds
                    self.stats.delivered(latencyNanoseconds: Int64(now) - Int64(sent))
                }
            case .error:
                let reason = (try? ChatMessage.decode(frame: frame, direction: .serverToClient)).map { "\($0)" } ?? "\(frame)"
                self.authenticated.fail(LoadgenError("the chat server answered \(reason)"))
                self.stats.failed()
            default:
                break
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.authenticated.fail(LoadgenError("the chat server closed the connection"))
            self.stats.lost()
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.authenticated.fail(error)
            context.close(promise: nil)
        }
    }
}

/// Why a load generator's connection failed.
struct LoadgenError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
