import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on 127.0.0.1 in front of one server, which can cut the network without closing
/// connections: while paused, every byte in either direction is dropped and new connections are
/// accepted but go nowhere, as in a network partition. ``resume()`` closes the connections that
/// lived through the pause (their streams lost bytes) and forwards new ones again.
final class TCPProxy: Sendable {
    private struct State {
        var paused = false
        /// Replies (server to client) are dropped, requests still forwarded.
        var repliesPaused = false
        /// The request type after which replies are dropped, see ``pauseReplies(afterRequestOfType:)``.
        var cutAfterOpCode: Int32?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var listener: (any Channel)?
    }

    let targetPort: Int
    private let group: any EventLoopGroup
    private let state = Mutex(State())

    init(targetPort: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.targetPort = targetPort
        self.group = group
    }

    var isPaused: Bool { self.state.withLock { $0.paused } }

    /// Whether bytes from the server to the client are dropped now.
    var areRepliesPaused: Bool { self.state.withLock { $0.paused || $0.repliesPaused } }

    /// From the first client request of this type (ZooKeeper's op code, read from the frame
    /// header at the start of a read) on, forwards that request but drops every reply: as if the
    /// network failed just after the request was sent.
    func pauseReplies(afterRequestOfType opCode: Int32) {
        self.state.withLock { $0.cutAfterOpCode = opCode }
    }

    /// Called with each chunk from the client before it is forwarded.
    fileprivate func sawRequest(_ buffer: ByteBuffer) {
        guard let type = buffer.getInteger(at: buffer.readerIndex + 8, as: Int32.self) else { return }
        self.state.withLock { state in
            if state.cutAfterOpCode == type {
                state.cutAfterOpCode = nil
                state.repliesPaused = true
            }
        }
    }

    /// Starts listening on a free port and returns it.
    func start() async throws -> Int {
        let listener = try await ServerBootstrap(group: self.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                self.track(inbound)
                return inbound.eventLoop.makeCompletedFuture {
                    try inbound.pipeline.syncOperations.addHandler(Relay(proxy: self, partner: nil, fromClient: true))
                }.flatMap {
                    self.connectOutbound(for: inbound)
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        self.state.withLock { $0.listener = listener }
        return listener.localAddress!.port!
    }

    /// Connects to the target on the inbound connection's event loop and ties the two together.
    private func connectOutbound(for inbound: any Channel) -> EventLoopFuture<Void> {
        ClientBootstrap(group: inbound.eventLoop)
            .channelInitializer { outbound in
                self.track(outbound)
                return outbound.eventLoop.makeCompletedFuture {
                    try outbound.pipeline.syncOperations.addHandler(Relay(proxy: self, partner: inbound, fromClient: false))
                }
            }
            .connect(host: "127.0.0.1", port: self.targetPort)
            .assumeIsolated()
            .flatMapThrowing { outbound in
                // Connected on the inbound connection's event loop, so its pipeline is ours here.
                try inbound.pipeline.syncOperations.handler(type: Relay.self).partner = outbound
            }
            .nonisolated()
            .flatMap {
                inbound.setOption(.autoRead, value: true)
            }
            .flatMapError { _ in
                inbound.close()
            }
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        self.state.withLock { $0.connections[id] = channel }
        channel.closeFuture.whenComplete { _ in
            _ = self.state.withLock { $0.connections.removeValue(forKey: id) }
        }
    }

    /// Drops every byte from now on, in both directions.
    func pause() {
        self.state.withLock { $0.paused = true }
    }

    /// Closes the connections opened before now, and forwards again.
    func resume() {
        let connections = self.state.withLock { state -> [any Channel] in
            state.paused = false
            state.repliesPaused = false
            state.cutAfterOpCode = nil
            return Array(state.connections.values)
        }
        for connection in connections { connection.close(promise: nil) }
    }

    /// Stops listening and closes every connection.
    func stop() async {
        let (listener, connections) = self.state.withLock { ($0.listener, Array($0.connections.values)) }
        for connection in connections { connection.close(promise: nil) }
        try? await listener?.close()
    }

    /// Copies bytes to the partner connection unless the proxy is paused; closes the partner when
    /// its own connection closes.
    private final class Relay: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        let proxy: TCPProxy
        var partner: (any Channel)?
        /// Whether this relay reads from the client (and writes to the server).
        let fromClient: Bool

        init(proxy: TCPProxy, partner: (any Channel)?, fromClient: Bool) {
            self.proxy = proxy
            self.partner = partner
            self.fromClient = fromClient
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = Self.unwrapInboundIn(data)
            if self.fromClient {
                guard !self.proxy.isPaused, let partner = self.partner else { return }
                self.proxy.sawRequest(buffer)
                partner.writeAndFlush(buffer, promise: nil)
            } else {
                guard !self.proxy.areRepliesPaused, let partner = self.partner else { return }
                partner.writeAndFlush(buffer, promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.partner?.close(promise: nil)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
