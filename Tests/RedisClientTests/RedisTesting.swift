import ParleyTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import RedisClient

/// Helpers shared by the tests that talk to a real server.
enum RedisTesting {
    /// A configuration for `server` with its password and short timeouts.
    static func configuration(
        _ server: RedisServer,
        password: String? = nil,
        database: Int = 0,
        protocolVersion: RedisClient.ProtocolVersion = .resp2,
        commandTimeout: Duration = .seconds(5),
        poolSize: Int = 2
    ) async -> RedisClient.Configuration {
        let serverPassword = server.password
        return RedisClient.Configuration(
            host: "127.0.0.1",
            port: await server.port,
            password: password ?? serverPassword,
            database: database,
            protocolVersion: protocolVersion,
            connectTimeout: .seconds(2),
            commandTimeout: commandTimeout,
            poolSize: poolSize
        )
    }

    /// Runs `body` with a client of `configuration`, and shuts the client down afterwards.
    static func withClient<T: Sendable>(
        _ configuration: RedisClient.Configuration,
        _ body: (RedisClient) async throws -> T
    ) async throws -> T {
        let client = RedisClient(configuration: configuration)
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// A key no other test uses.
    static func key(_ name: String = #function) -> String {
        "test:\(name.prefix(while: { $0 != "(" })):\(UUID().uuidString.prefix(8))"
    }
}

/// A TCP server on 127.0.0.1 that answers anything it reads with a fixed reply, or never
/// answers at all (`reply: nil`).
final class CannedServer: Sendable {
    let channel: any Channel

    var port: Int { self.channel.localAddress?.port ?? 0 }

    init(reply: String?) async throws {
        self.channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Answer(reply: reply))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    func close() async {
        try? await self.channel.close()
    }

    private final class Answer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let reply: String?

        init(reply: String?) {
            self.reply = reply
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard let reply = self.reply else { return }
            context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: reply)), promise: nil)
        }
    }
}
