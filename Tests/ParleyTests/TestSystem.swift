import AsyncHTTPClient
import NIOHTTP1
import Foundation
import Logging
import NIOCore
import NIOPosix
import ParleyBackend
import ParleyCore
import ParleyGateway
import ParleyStorage
import ParleyTestSupport
import ParleyVerifier
import Testing
import ServiceLifecycle
import Synchronization

/// A `ServiceGroup` running in a task, stopped gracefully by `stop()`.
struct RunningGroup: Sendable {
    let group: ServiceGroup
    let task: Task<Void, any Error>

    init(_ services: [any Service]) {
        let group = ServiceGroup(configuration: .init(services: services, logger: Logger(label: "test")))
        self.group = group
        self.task = Task { try await group.run() }
    }

    func stop() async {
        await self.group.triggerGracefulShutdown()
        _ = try? await self.task.value
    }
}

/// A backend on a real socket over a SQLite file in `dataDirectory`.
struct TestBackend {
    let running: RunningGroup
    let port: Int

    static func start(dataDirectory: String, port: Int = 0, verifier: (any CodeVerifying)? = nil) async throws -> TestBackend {
        try await Self.start(database: .sqlite(path: dataDirectory + "/"), port: port, verifier: verifier)
    }

    static func start(database: DatabaseURL, port: Int = 0, verifier: (any CodeVerifying)? = nil) async throws -> TestBackend {
        let storage = try await database.open()
        let server = BackendServer(storage: storage, configuration: .init(port: port, bcryptCost: 4, verifier: verifier))
        let running = RunningGroup([server])
        guard let bound = await server.boundAddress()?.port else {
            await running.stop()
            throw ParleyError(.unavailable, "backend did not start")
        }
        return TestBackend(running: running, port: bound)
    }

    func stop() async { await self.running.stop() }
}

/// A gateway on a real socket calling a backend over JSON-RPC.
struct TestGateway {
    let running: RunningGroup
    let port: Int
    var url: String { "http://127.0.0.1:\(self.port)" }

    static func start(
        backendPort: Int, idleTimeout: Duration = .seconds(30), contactsServers: [(host: String, port: Int)] = [],
        verifier: (any CodeVerifying)? = nil
    ) async throws -> TestGateway {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let service = GatewayService(
            configuration: .init(port: 0, idleTimeout: idleTimeout, contactsServers: contactsServers, verifier: verifier),
            backend: { ("127.0.0.1", backendPort) },
            onListening: { port in continuation.yield(port) }
        )
        let running = RunningGroup([service])
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw ParleyError(.unavailable, "gateway did not start") }
        return TestGateway(running: running, port: port)
    }

    func stop() async { await self.running.stop() }
}

/// A response as a test looks at it.
struct HTTPResult {
    var status: Int
    var body: String
    var headers: [(String, String)]

    func header(_ name: String) -> String? { self.headers.first { $0.0.lowercased() == name.lowercased() }?.1 }

    func json() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(self.body.utf8)) as? [String: Any] ?? [:]
    }

    var errorCode: String? { ((try? self.json())?["error"] as? [String: Any])?["code"] as? String }
}

/// One HTTP request over a real socket.
func http(
    _ method: HTTPMethod, _ url: String, json: String? = nil, token: String? = nil, headers extra: [(String, String)] = []
) async throws -> HTTPResult {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if let json {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
    }
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    for (name, value) in extra { request.headers.add(name: name, value: value) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 4 << 20)
    return HTTPResult(status: Int(response.status.code), body: String(buffer: body), headers: response.headers.map { ($0.name, $0.value) })
}

/// A plain TCP connection for sending bytes no well-behaved client would send.
struct RawConnection {
    let channel: any Channel
    private let received: Received

    /// Keeps every byte the peer sends.
    final class Received: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = Mutex(ByteBuffer())

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = Self.unwrapInboundIn(data)
            self.bytes.withLock { $0.writeBuffer(&buffer) }
        }
    }

    static func connect(port: Int) async throws -> RawConnection {
        let received = Received()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(received) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, received: received)
    }

    /// What the peer sent, once it closed the connection or `timeout` passed.
    func reply(within timeout: Duration) async -> String {
        _ = await self.closedByPeer(within: timeout)
        return self.received.bytes.withLock { String(buffer: $0) }
    }

    func send(_ bytes: [UInt8]) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Whether the peer closed the connection within `timeout`.
    func closedByPeer(within timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await self.channel.closeFuture.get()) != nil }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            if !first { try? await self.channel.close() }
            return first
        }
    }
}

/// The storage engines the system tests run on.
enum Engine: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { self.rawValue }

    /// A fresh, empty database of this engine; `folder` holds SQLite's file.
    func freshDatabase(in folder: TemporaryDirectory, server: PostgresServer? = nil) async throws -> DatabaseURL {
        switch self {
        case .sqlite:
            return .sqlite(path: folder.path + "/")
        case .postgres:
            let server = if let server { server } else { try await PostgresServer.shared() }
            let name = try await server.createDatabase()
            return try DatabaseURL(await server.url(database: name))
        }
    }
}

/// A TCP server that reads whatever comes and hangs up without answering: a backend that
/// dies in the middle of a request.
struct HangUpServer {
    let channel: any Channel
    var port: Int { self.channel.localAddress?.port ?? 0 }

    final class HangUp: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.close(promise: nil)
        }
    }

    static func start() async throws -> HangUpServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(HangUp()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return HangUpServer(channel: channel)
    }

    func stop() async { try? await self.channel.close() }
}
