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

    /// Starts listening on a free port and returns it.
    func start() async throws -> Int {
        let listener = try await ServerBootstrap(group: self.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                self.track(inbound)
                return inbound.eventLoop.makeCompletedFuture {
                    try inbound.pipeline.syncOperations.addHandler(Relay(proxy: self, partner: nil))
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
                    try outbound.pipeline.syncOperations.addHandler(Relay(proxy: self, partner: inbound))
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

        init(proxy: TCPProxy, partner: (any Channel)?) {
            self.proxy = proxy
            self.partner = partner
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !self.proxy.isPaused, let partner = self.partner else { return }
            partner.writeAndFlush(Self.unwrapInboundIn(data), promise: nil)
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
