import Foundation
import JSONRPC
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Go's `net/rpc` example argument type.
struct Operands: Codable, Sendable {
    var A: Int
    var B: Int
}

/// A call that sleeps before answering.
struct Delay: Codable, Sendable {
    var milliseconds: Int
    var value: Int
}

struct Person: Codable, Sendable, Equatable {
    var name: String
    var age: Int
    var tags: [String]
    var nickname: String?
}

struct SecretDatabaseError: Error {
    var connectionString = "postgres://admin:hunter2@db"
}

/// Tracks how many calls run at once, and the most ever seen.
final class ConcurrencyProbe: Sendable {
    private let counts = Mutex((current: 0, maximum: 0))

    func enter() {
        self.counts.withLock {
            $0.current += 1
            $0.maximum = max($0.maximum, $0.current)
        }
    }

    func leave() {
        self.counts.withLock { $0.current -= 1 }
    }

    var maximum: Int {
        self.counts.withLock { $0.maximum }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
}

let quietLogger: Logger = {
    var logger = Logger(label: "jsonrpc.test")
    logger.logLevel = .critical
    return logger
}()

func makeHandlers(probe: ConcurrencyProbe = ConcurrencyProbe()) -> JSONRPCHandlerRegistry {
    var handlers = JSONRPCHandlerRegistry()
    handlers.register("Arith.Multiply") { (operands: Operands) in
        operands.A * operands.B
    }
    handlers.register("Arith.Slow") { (delay: Delay) in
        probe.enter()
        defer { probe.leave() }
        try await Task.sleep(for: .milliseconds(delay.milliseconds))
        return delay.value
    }
    handlers.register("People.Birthday") { (person: Person) in
        var older = person
        older.age += 1
        older.tags.append("birthday")
        return older
    }
    handlers.register("People.Cached") { (person: Person) in
        try JSONRPCRawResult(encoding: person)
    }
    handlers.register("Users.Register") { (_: String) -> Bool in
        throw JSONRPCError(code: "username_taken", message: "that username is already taken")
    }
    handlers.register("Broken.Call") { (_: Int) -> Int in
        throw SecretDatabaseError()
    }
    return handlers
}

func serverConfiguration(
    port: Int = 0,
    maximumMessageLength: Int = 1_048_576,
    idleTimeout: Duration = .seconds(60),
    maxConcurrentRequestsPerConnection: Int = 64,
    shutdownGracePeriod: Duration = .seconds(2)
) -> JSONRPCServer.Configuration {
    JSONRPCServer.Configuration(
        host: "127.0.0.1",
        port: port,
        maximumMessageLength: maximumMessageLength,
        idleTimeout: idleTimeout,
        maxConcurrentRequestsPerConnection: maxConcurrentRequestsPerConnection,
        shutdownGracePeriod: shutdownGracePeriod,
        logger: quietLogger
    )
}

func clientConfiguration(port: Int, poolSize: Int = 2, requestTimeout: Duration = .seconds(5)) -> JSONRPCClient.Configuration {
    JSONRPCClient.Configuration(
        host: "127.0.0.1",
        port: port,
        poolSize: poolSize,
        connectTimeout: .seconds(1),
        requestTimeout: requestTimeout,
        logger: quietLogger
    )
}

/// Runs a server on 127.0.0.1 for the duration of `body`, then cancels it and waits for it to stop.
func withServer<T: Sendable>(
    _ configuration: JSONRPCServer.Configuration = serverConfiguration(),
    handlers: JSONRPCHandlerRegistry = makeHandlers(),
    _ body: (_ port: Int) async throws -> T
) async throws -> T {
    let server = JSONRPCServer(configuration: configuration, handlers: handlers)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try await server.run()
        }
        guard let port = await server.boundAddress()?.port else {
            group.cancelAll()
            throw TestFailure(description: "the server did not start")
        }
        do {
            let result = try await body(port)
            group.cancelAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

/// Runs `body` with a client, shutting it down afterwards.
func withClient<T: Sendable>(
    _ configuration: JSONRPCClient.Configuration,
    _ body: (JSONRPCClient) async throws -> T
) async throws -> T {
    let client = JSONRPCClient(configuration: configuration)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// A raw TCP connection for hand-written bytes; reads whole JSON messages.
struct RawClient {
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    func send(_ text: String) async throws {
        try await self.outbound.write(ByteBuffer(string: text))
    }

    func send(bytes: [UInt8]) async throws {
        try await self.outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The next message as a string, or `nil` once the server closed the connection (EOF or reset).
    mutating func receive() async -> String? {
        do {
            return try await self.iterator.next().map { String(buffer: $0) }
        } catch {
            return nil
        }
    }

    /// The next message parsed as a JSON object.
    mutating func receiveObject() async throws -> [String: Any] {
        guard let text = await self.receive() else {
            throw TestFailure(description: "the connection closed")
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw TestFailure(description: "not a JSON object: \(text)")
        }
        return object
    }
}

/// Connects a ``RawClient``; a watchdog closes the connection after `watchdog` so a test never hangs.
func withRawClient<T: Sendable>(
    port: Int,
    watchdog: TimeAmount = .seconds(5),
    _ body: (inout RawClient) async throws -> T
) async throws -> T {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(JSONValueFrameDecoder()))
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    let rawChannel = channel.channel
    let timer = rawChannel.eventLoop.scheduleTask(in: watchdog) {
        rawChannel.close(promise: nil)
    }
    defer { timer.cancel() }
    return try await channel.executeThenClose { inbound, outbound in
        var client = RawClient(iterator: inbound.makeAsyncIterator(), outbound: outbound)
        return try await body(&client)
    }
}

/// A port on 127.0.0.1 with nothing listening.
func closedPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0)
        .get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}
