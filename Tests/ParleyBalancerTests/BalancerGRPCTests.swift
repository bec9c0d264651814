import ParleyTestSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import ParleyCore
import ParleyGRPC
import ServiceLifecycle
import Synchronization
import Testing

@testable import ParleyBalancer

/// The balancer over a real loopback gRPC connection: ``BalancerServer`` on 127.0.0.1, port 0, and
/// ``BalancerClient``.
@Suite("Balancer over gRPC", .timeLimit(.minutes(1)))
struct BalancerGRPCTests {
    @Test("Two chat servers register and report; the least loaded is assigned, with a ticket only it accepts")
    func assignLeastLoaded() async throws {
        try await GRPCTesting.withBalancer { _, client, _ in
            let one = BalancerTesting.server("chat-1", port: 60000)
            let two = BalancerTesting.server("chat-2", host: "::1", port: 61000)
            let terms = try await client.register(one)
            #expect(terms == ChatServerRegistry.Terms(reportInterval: .seconds(2), lease: .seconds(6)))
            _ = try await client.register(two)
            try await client.reportLoad(name: "chat-1", connections: 12)
            try await client.reportLoad(name: "chat-2", connections: 3)

            let before = Date()
            let assignment = try await client.assign(userID: 7, username: "alice")
            #expect(assignment.serverName == "chat-2")
            #expect(assignment.host == "::1")
            #expect(assignment.tcpPort == 61000)
            #expect(assignment.websocketURL == "ws://[::1]:61080/chat")
            #expect(assignment.expiresAt > before.addingTimeInterval(59))
            #expect(assignment.expiresAt < Date().addingTimeInterval(61))

            let ticket = try ChatTicketVerifier(secret: BalancerTesting.secret, serverName: "chat-2").verify(assignment.token)
            #expect(ticket.userID == 7)
            #expect(ticket.username == "alice")
            let elsewhere = BalancerTesting.ticketError {
                _ = try ChatTicketVerifier(secret: BalancerTesting.secret, serverName: "chat-1").verify(assignment.token)
            }
            #expect(elsewhere?.reason == .wrongServer)

            // chat-1 reports fewer connections: the next user goes there.
            try await client.reportLoad(name: "chat-1", connections: 1)
            let next = try await client.assign(userID: 8, username: "bob")
            #expect(next.serverName == "chat-1")
            #expect(next.host == "127.0.0.1")
            #expect(try ChatTicketVerifier(secret: BalancerTesting.secret, serverName: "chat-1").verify(next.token).userID == 8)
        }
    }

    @Test("A chat server whose heartbeat stops is no longer assigned once its lease runs out")
    func heartbeatStops() async throws {
        // Reports every 200 ms, lease 600 ms.
        try await GRPCTesting.withBalancer(registry: .init(reportInterval: .milliseconds(200))) { server, client, _ in
            let loads = Mutex<[String: Int]>(["chat-1": 0, "chat-2": 5])
            let one = ChatServerHeartbeat(client: client, server: BalancerTesting.server("chat-1"), logger: BalancerTesting.quietLogger) {
                loads.withLock { $0["chat-1"]! }
            }
            let two = ChatServerHeartbeat(client: client, server: BalancerTesting.server("chat-2"), logger: BalancerTesting.quietLogger) {
                loads.withLock { $0["chat-2"]! }
            }
            let oneTask = Task { try await one.run() }
            let twoTask = Task { try await two.run() }
            defer { twoTask.cancel() }
            #expect(try await GRPCTesting.eventually(within: .seconds(5)) { server.registry.servers().count == 2 })
            // Wait for a report of both (chat-2 at 5), then chat-1 (0) is the choice.
            #expect(try await GRPCTesting.eventually(within: .seconds(5)) {
                server.registry.servers().map(\.reportedConnections) == [0, 5]
            })
            #expect(try await client.assign(userID: 1, username: "alice").serverName == "chat-1")

            // Loads change, and the next reports carry them.
            loads.withLock { $0["chat-1"] = 9 }
            #expect(try await GRPCTesting.eventually(within: .seconds(5)) {
                server.registry.servers().map(\.reportedConnections) == [9, 5]
            })
            #expect(try await client.assign(userID: 1, username: "alice").serverName == "chat-2")

            // chat-2 goes silent (a crash): after its lease, chat-1 gets everyone, despite its load.
            twoTask.cancel()
            _ = try? await twoTask.value(within: .seconds(5))
            let dropped = try await GRPCTesting.eventually(within: .seconds(5)) {
                server.registry.servers().map(\.info.name) == ["chat-1"]
            }
            #expect(dropped)
            for user in 2...4 {
                #expect(try await client.assign(userID: Int64(user), username: "u\(user)").serverName == "chat-1")
            }

            // chat-1 stops too: nothing to assign.
            oneTask.cancel()
            _ = try? await oneTask.value(within: .seconds(5))
            #expect(try await GRPCTesting.eventually(within: .seconds(5)) { server.registry.servers().isEmpty })
            let none = try await BalancerTesting.parleyError { _ = try await client.assign(userID: 5, username: "eve") }
            #expect(none == ParleyError.noChatServer)
        }
    }

    @Test("Lease expiry on the balancer's clock: a server that stops reporting is not assigned")
    func leaseOnClock() async throws {
        let clock = ManualClock()
        try await GRPCTesting.withBalancer(clock: clock.clock) { _, client, _ in
            _ = try await client.register(BalancerTesting.server("chat-1"))
            _ = try await client.register(BalancerTesting.server("chat-2"))
            try await client.reportLoad(name: "chat-1", connections: 0)
            try await client.reportLoad(name: "chat-2", connections: 100)
            clock.advance(by: .seconds(4))
            try await client.reportLoad(name: "chat-2", connections: 100)
            #expect(try await client.assign(userID: 1, username: "alice").serverName == "chat-1")
            clock.advance(by: .seconds(2))  // chat-1: 6 s without a report
            #expect(try await client.assign(userID: 1, username: "alice").serverName == "chat-2")
            let gone = try await BalancerTesting.parleyError { try await client.reportLoad(name: "chat-1", connections: 0) }
            #expect(gone.code == .notFound)
            // It registers again and is back.
            _ = try await client.register(BalancerTesting.server("chat-1"))
            #expect(try await client.assign(userID: 1, username: "alice").serverName == "chat-1")
        }
    }

    @Test("Nothing registered: AssignChatServer is UNAVAILABLE with the documented message")
    func nothingRegistered() async throws {
        try await GRPCTesting.withBalancer { _, client, port in
            let error = try await BalancerTesting.parleyError { _ = try await client.assign(userID: 1, username: "alice") }
            #expect(error == ParleyError(.unavailable, "No chat server is available right now; try again in a moment."))

            // On the wire, for any gRPC client.
            try await withGRPCClient(
                transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { raw in
                let stub = Parley_Balancer_V1_BalancerService.Client(wrapping: raw)
                let refused = await #expect(throws: RPCError.self) {
                    _ = try await stub.assignChatServer(.with { $0.userID = 1; $0.username = "alice" })
                }
                #expect(refused?.code == .unavailable)
                #expect(refused?.message == "unavailable: No chat server is available right now; try again in a moment.")
            }
        }
    }

    @Test("ReportLoad from an unknown server is NOT_FOUND; bad fields are INVALID_ARGUMENT")
    func badRequests() async throws {
        try await GRPCTesting.withBalancer { _, client, port in
            let unknown = try await BalancerTesting.parleyError { try await client.reportLoad(name: "chat-9", connections: 1) }
            #expect(unknown.code == .notFound)
            let badUser = try await BalancerTesting.parleyError { _ = try await client.assign(userID: 0, username: "alice") }
            #expect(badUser == ParleyError(.invalidInput, "A user id is a positive number."))
            let badName = try await BalancerTesting.parleyError { _ = try await client.assign(userID: 1, username: "no spaces") }
            #expect(badName == ParleyError(.invalidInput, "A username may hold only letters, digits, '_', '-' and '.'."))

            try await withGRPCClient(
                transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
            ) { raw in
                let stub = Parley_Balancer_V1_BalancerService.Client(wrapping: raw)
                let notFound = await #expect(throws: RPCError.self) {
                    _ = try await stub.reportLoad(.with { $0.name = "chat-9"; $0.connections = 1 })
                }
                #expect(notFound?.code == .notFound)
                #expect(notFound?.message.hasPrefix("not_found: ") == true)
                for info in [
                    Parley_Balancer_V1_ChatServerInfo.with { $0.name = ""; $0.host = "h"; $0.tcpPort = 1; $0.websocketPort = 1; $0.grpcPort = 1 },
                    .with { $0.name = "c"; $0.host = "0.0.0.0"; $0.tcpPort = 1; $0.websocketPort = 1; $0.grpcPort = 1 },
                    .with { $0.name = "c"; $0.host = "h"; $0.tcpPort = 70000; $0.websocketPort = 1; $0.grpcPort = 1 },
                    .with { $0.name = "c"; $0.host = "h"; $0.tcpPort = 1; $0.websocketPort = 0; $0.grpcPort = 1 },
                ] {
                    let invalid = await #expect(throws: RPCError.self) { _ = try await stub.registerChatServer(info) }
                    #expect(invalid?.code == .invalidArgument)
                    #expect(invalid?.message.hasPrefix("invalid_input: ") == true)
                }
                // Nothing was registered by the refused requests.
                let none = await #expect(throws: RPCError.self) {
                    _ = try await stub.assignChatServer(.with { $0.userID = 1; $0.username = "alice" })
                }
                #expect(none?.code == .unavailable)
            }
        }
    }

    @Test("A client of a port where nothing listens fails with .unavailable well before its timeout")
    func nothingListens() async throws {
        let port = try await GRPCTesting.closedPort()
        let client = try BalancerClient(host: "127.0.0.1", port: port, timeout: .seconds(5), logger: BalancerTesting.quietLogger)
        try await GRPCTesting.running(client) {
            for _ in 0..<2 {
                let clock = ContinuousClock()
                let start = clock.now
                let error = try await BalancerTesting.parleyError {
                    _ = try await client.assign(userID: 1, username: "alice")
                }
                #expect(error == ParleyError.balancerUnreachable)
                #expect(clock.now - start < .seconds(2))
                let register = try await BalancerTesting.parleyError { _ = try await client.register(BalancerTesting.server("chat-1")) }
                #expect(register == ParleyError.balancerUnreachable)
            }
        }
    }

    @Test("A heartbeat registers again by itself when the balancer restarts and has forgotten it")
    func balancerRestart() async throws {
        let configuration = BalancerServer.Configuration(
            host: "127.0.0.1", port: 0, secret: BalancerTesting.secret, registry: .init(reportInterval: .milliseconds(200))
        )
        let first = BalancerServer(configuration: configuration, logger: BalancerTesting.quietLogger)
        let firstTask = Task { try await first.run() }
        let port = try await first.boundPort()
        let client = try BalancerClient(host: "127.0.0.1", port: port, logger: BalancerTesting.quietLogger)
        try await GRPCTesting.running(client) { () async throws in
            let heartbeat = ChatServerHeartbeat(
                client: client, server: BalancerTesting.server("chat-1"), retryDelay: .milliseconds(100),
                logger: BalancerTesting.quietLogger
            ) { 3 }
            let heartbeatTask = Task { try await heartbeat.run() }
            defer { heartbeatTask.cancel() }
            #expect(try await GRPCTesting.eventually(within: .seconds(5)) {
                first.registry.servers().map(\.reportedConnections) == [3]
            })

            firstTask.cancel()
            _ = try? await firstTask.value(within: .seconds(5))

            var restarted = configuration
            restarted.port = port
            let second = BalancerServer(configuration: restarted, logger: BalancerTesting.quietLogger)
            let secondTask = Task { try await second.run() }
            defer { secondTask.cancel() }
            #expect(try await second.boundPort() == port)
            #expect(second.registry.servers().isEmpty)

            // The heartbeat's next report is NOT_FOUND; it registers again and reports.
            #expect(try await GRPCTesting.eventually(within: .seconds(5)) {
                second.registry.servers().map(\.reportedConnections) == [3]
            })
            #expect(try await GRPCTesting.eventually(within: .seconds(5)) {
                (try? await client.assign(userID: 1, username: "alice"))?.serverName == "chat-1"
            })
        }
    }

    @Test("Graceful shutdowns: the heartbeat and the client stop, then the server stops and calls fail as unreachable")
    func gracefulShutdown() async throws {
        let server = BalancerServer(
            configuration: .init(host: "127.0.0.1", port: 0, secret: BalancerTesting.secret, registry: .init(reportInterval: .milliseconds(200))),
            logger: BalancerTesting.quietLogger
        )
        let serverGroup = ServiceGroup(services: [server], logger: BalancerTesting.quietLogger)
        let serverTask = Task { try await serverGroup.run() }
        defer { serverTask.cancel() }
        let port = try await server.boundPort()
        let client = try BalancerClient(host: "127.0.0.1", port: port, logger: BalancerTesting.quietLogger)
        let heartbeat = ChatServerHeartbeat(client: client, server: BalancerTesting.server("chat-1"), logger: BalancerTesting.quietLogger) { 1 }
        let chatGroup = ServiceGroup(services: [client, heartbeat], logger: BalancerTesting.quietLogger)
        let chatTask = Task { try await chatGroup.run() }
        #expect(try await GRPCTesting.eventually(within: .seconds(5)) { server.registry.servers().count == 1 })
        await chatGroup.triggerGracefulShutdown()
        try await chatTask.value(within: .seconds(5))
        // No more reports: the lease (600 ms) runs out.
        #expect(try await GRPCTesting.eventually(within: .seconds(5)) { server.registry.servers().isEmpty })

        let other = try BalancerClient(host: "127.0.0.1", port: port, logger: BalancerTesting.quietLogger)
        try await GRPCTesting.running(other) {
            let none = try await BalancerTesting.parleyError { _ = try await other.assign(userID: 1, username: "alice") }
            #expect(none == .noChatServer)
            await serverGroup.triggerGracefulShutdown()
            try await serverTask.value(within: .seconds(5))
            let down = try await BalancerTesting.parleyError { _ = try await other.assign(userID: 1, username: "alice") }
            #expect(down == .balancerUnreachable)
        }
    }

    @Test("A connection whose address is known only at run time: calls wait for it; no address is unreachable")
    func lateAddress() async throws {
        let server = BalancerServer(
            configuration: .init(host: "127.0.0.1", port: 0, secret: BalancerTesting.secret),
            logger: BalancerTesting.quietLogger
        )
        let connection = BalancerConnection(logger: BalancerTesting.quietLogger) {
            ("127.0.0.1", try await server.boundPort())
        }
        try await withThrowingTaskGroup { group in
            group.addTask { try await connection.run() }
            // Called before the balancer runs: waits for its address.
            let call = Task { try await connection.register(BalancerTesting.server("chat-1")) }
            try await Task.sleep(for: .milliseconds(100))
            group.addTask { try await server.run() }
            let terms = try await call.value(within: .seconds(5))
            #expect(terms.reportInterval == .seconds(2))
            try await connection.reportLoad(name: "chat-1", connections: 1)
            let assigning: any ChatServerAssigning = connection
            #expect(try await assigning.assign(userID: 1, username: "alice").serverName == "chat-1")
            group.cancelAll()
        }

        struct NoAddress: Error {}
        let broken = BalancerConnection(logger: BalancerTesting.quietLogger) { throw NoAddress() }
        let error = try await BalancerTesting.parleyError { _ = try await broken.assign(userID: 1, username: "alice") }
        #expect(error == .balancerUnreachable)
    }

    // MARK: - Without a connection

    @Test("ParleyError codes map to gRPC statuses, and the wire form comes back exactly")
    func errorMapping() {
        let cases: [(ParleyError.Code, RPCError.Code)] = [
            (.invalidInput, .invalidArgument), (.invalidCredentials, .permissionDenied),
            (.rateLimited, .resourceExhausted), (.unavailable, .unavailable), (.notFound, .notFound),
            (.internal, .internalError), (.tooLarge, .internalError), (.unauthenticated, .internalError),
        ]
        for (code, status) in cases {
            let error = ParleyError(code, "Some message: with a colon; and ünïcode.")
            #expect(error.balancerRPCError.code == status)
            #expect(error.balancerRPCError.message == "\(code.rawValue): Some message: with a colon; and ünïcode.")
            #expect(ParleyError(balancerError: error.balancerRPCError) == error)
        }
        // Failures of the gRPC stack itself.
        for status in [RPCError.Code.unavailable, .deadlineExceeded, .cancelled, .aborted] {
            #expect(ParleyError(balancerError: RPCError(code: status, message: "connection refused")) == .balancerUnreachable)
        }
        #expect(ParleyError(balancerError: RPCError(code: .resourceExhausted, message: "too big")).code == .tooLarge)
        #expect(ParleyError(balancerError: RPCError(code: .unimplemented, message: "no such method")).code == .internal)
        #expect(ParleyError(balancerError: RPCError(code: .internalError, message: "bogus: x")).code == .internal)
    }

    @Test("Registration terms are sent in whole milliseconds, at least 1")
    func milliseconds() {
        #expect(BalancerGRPCService.milliseconds(.seconds(2)) == 2000)
        #expect(BalancerGRPCService.milliseconds(.milliseconds(1500)) == 1500)
        #expect(BalancerGRPCService.milliseconds(.microseconds(10)) == 1)
    }
}
