import JSONRPC
import Logging
import NIOCore
import ServiceLifecycle
import Testing

/// The client against a live server on 127.0.0.1.
@Suite("JSONRPCClient")
struct JSONRPCClientTests {
    @Test("round trip with a Codable struct")
    func roundTrip() async throws {
        try await withServer { port in
            try await withClient(clientConfiguration(port: port)) { client in
                let person = Person(name: "Zoë \"Z\" O'Brien", age: 41, tags: ["a/b", "{}"], nickname: nil)
                let older = try await client.call("People.Birthday", person, as: Person.self)
                #expect(older == Person(name: person.name, age: 42, tags: ["a/b", "{}", "birthday"], nickname: nil))
            }
        }
    }

    @Test("200 concurrent calls through a pool of 2")
    func manyConcurrentCalls() async throws {
        try await withServer { port in
            try await withClient(clientConfiguration(port: port, poolSize: 2)) { client in
                try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                    for index in 0..<200 {
                        group.addTask {
                            (index, try await client.call("Arith.Multiply", Operands(A: index, B: 3), as: Int.self))
                        }
                    }
                    var seen = 0
                    for try await (index, product) in group {
                        #expect(product == index * 3)
                        seen += 1
                    }
                    #expect(seen == 200)
                }
            }
        }
    }

    @Test("unknown method maps to .remote(method_not_found)")
    func unknownMethod() async throws {
        try await withServer { port in
            try await withClient(clientConfiguration(port: port)) { client in
                let error = await #expect(throws: JSONRPCClientError.self) {
                    try await client.call("Arith.Divide", Operands(A: 1, B: 1), as: Int.self)
                }
                #expect(error?.code == .remote(code: "method_not_found", message: "rpc: can't find method Arith.Divide"))
            }
        }
    }

    @Test("wrong params map to .remote(invalid_params)")
    func wrongParams() async throws {
        try await withServer { port in
            try await withClient(clientConfiguration(port: port)) { client in
                let error = await #expect(throws: JSONRPCClientError.self) {
                    try await client.call("Arith.Multiply", "seven times eight", as: Int.self)
                }
                guard case .remote(let code, _) = error?.code else {
                    Issue.record("expected a remote error, got \(String(describing: error))")
                    return
                }
                #expect(code == "invalid_params")
            }
        }
    }

    @Test("a handler's \"code: message\" error maps to .remote(code:message:)")
    func handlerError() async throws {
        try await withServer { port in
            try await withClient(clientConfiguration(port: port)) { client in
                let error = await #expect(throws: JSONRPCClientError.self) {
                    try await client.call("Users.Register", "alice", as: Bool.self)
                }
                #expect(error?.code == .remote(code: "username_taken", message: "that username is already taken"))
            }
        }
    }

    @Test("any other handler error is hidden as internal")
    func internalError() async throws {
        try await withServer { port in
            try await withClient(clientConfiguration(port: port)) { client in
                let error = await #expect(throws: JSONRPCClientError.self) {
                    try await client.call("Broken.Call", 1, as: Int.self)
                }
                #expect(error?.code == .remote(code: "internal", message: "internal error"))
                #expect(error?.description.contains("hunter2") == false)
            }
        }
    }

    @Test("a result of the wrong type is .invalidResponse")
    func wrongResultType() async throws {
        try await withServer { port in
            try await withClient(clientConfiguration(port: port)) { client in
                let error = await #expect(throws: JSONRPCClientError.self) {
                    try await client.call("Arith.Multiply", Operands(A: 1, B: 2), as: String.self)
                }
                #expect(error?.code == .invalidResponse)
            }
        }
    }

    @Test("a closed port gives .unavailable quickly")
    func closedPort() async throws {
        let port = try await JSONRPCTests.closedPort()
        try await withClient(clientConfiguration(port: port)) { client in
            let start = ContinuousClock.now
            let error = await #expect(throws: JSONRPCClientError.self) {
                try await client.call("Arith.Multiply", Operands(A: 1, B: 2), as: Int.self)
            }
            #expect(error?.code == .unavailable)
            #expect(ContinuousClock.now - start < .seconds(1))
        }
    }

    @Test("the client recovers by itself after the server restarts on the same port")
    func recoversAfterRestart() async throws {
        let port = try await withServer { port in port }
        let client = JSONRPCClient(configuration: clientConfiguration(port: port))
        try await withServer(serverConfiguration(port: port)) { _ in
            let product = try await client.call("Arith.Multiply", Operands(A: 2, B: 5), as: Int.self)
            #expect(product == 10)
        }
        // The server is gone: the call fails, quickly and clearly.
        let error = await #expect(throws: JSONRPCClientError.self) {
            try await client.call("Arith.Multiply", Operands(A: 2, B: 5), as: Int.self)
        }
        #expect(error?.code == .unavailable || error?.code == .connectionClosed)
        try await withServer(serverConfiguration(port: port)) { _ in
            let first = try await client.call("Arith.Multiply", Operands(A: 3, B: 5), as: Int.self)
            let second = try await client.call("Arith.Multiply", Operands(A: 4, B: 5), as: Int.self)
            #expect(first == 15)
            #expect(second == 20)
        }
        await client.shutdown()
    }

    @Test("a call past its timeout gives .timeout; the late reply is dropped")
    func requestTimeout() async throws {
        try await withServer { port in
            try await withClient(clientConfiguration(port: port, poolSize: 1)) { client in
                let start = ContinuousClock.now
                let error = await #expect(throws: JSONRPCClientError.self) {
                    try await client.call("Arith.Slow", Delay(milliseconds: 2000, value: 1), as: Int.self, timeout: .milliseconds(150))
                }
                #expect(error?.code == .timeout)
                #expect(ContinuousClock.now - start < .milliseconds(1900))  // before the reply, however busy the machine
                // Same connection: the late reply for the timed-out call arrives meanwhile and is ignored.
                let value = try await client.call("Arith.Slow", Delay(milliseconds: 2500, value: 2), as: Int.self)
                #expect(value == 2)
            }
        }
    }

    @Test("losing the connection fails every call in flight on it at once")
    func connectionLost() async throws {
        let server = JSONRPCServer(configuration: serverConfiguration(), handlers: makeHandlers())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let port = try #require(await server.boundAddress()?.port)
            try await withClient(clientConfiguration(port: port, poolSize: 1)) { client in
                // Open the connection first, so the three calls share it.
                #expect(try await client.call("Arith.Multiply", Operands(A: 1, B: 1), as: Int.self) == 1)
                try await withThrowingTaskGroup(of: JSONRPCClientError.Code?.self) { calls in
                    for _ in 0..<3 {
                        calls.addTask {
                            do {
                                _ = try await client.call("Arith.Slow", Delay(milliseconds: 3_000, value: 1), as: Int.self)
                                return nil
                            } catch let error as JSONRPCClientError {
                                return error.code
                            }
                        }
                    }
                    try await Task.sleep(for: .milliseconds(200))
                    // Stopping the server abruptly (cancellation) drops the connection.
                    group.cancelAll()
                    for try await code in calls {
                        #expect(code == .connectionClosed)
                    }
                }
            }
        }
    }

    @Test("graceful shutdown lets the call in flight finish, then refuses new ones")
    func gracefulShutdown() async throws {
        let server = JSONRPCServer(configuration: serverConfiguration(), handlers: makeHandlers())
        let serviceGroup = ServiceGroup(services: [server], gracefulShutdownSignals: [], logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await serviceGroup.run() }
            let port = try #require(await server.boundAddress()?.port)
            try await withClient(clientConfiguration(port: port, poolSize: 1)) { client in
                #expect(try await client.call("Arith.Multiply", Operands(A: 1, B: 1), as: Int.self) == 1)
                async let slow = client.call("Arith.Slow", Delay(milliseconds: 400, value: 99), as: Int.self)
                try await Task.sleep(for: .milliseconds(100))
                await serviceGroup.triggerGracefulShutdown()
                #expect(try await slow == 99)
                try await group.next()  // the service group returns once the server has stopped
                let error = await #expect(throws: JSONRPCClientError.self) {
                    try await client.call("Arith.Multiply", Operands(A: 1, B: 1), as: Int.self)
                }
                #expect(error?.code == .unavailable || error?.code == .connectionClosed)
            }
        }
    }

    @Test("graceful shutdown waits no longer than the grace period")
    func gracePeriodExpires() async throws {
        let configuration = serverConfiguration(shutdownGracePeriod: .milliseconds(200))
        let server = JSONRPCServer(configuration: configuration, handlers: makeHandlers())
        let serviceGroup = ServiceGroup(services: [server], gracefulShutdownSignals: [], logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await serviceGroup.run() }
            let port = try #require(await server.boundAddress()?.port)
            try await withClient(clientConfiguration(port: port, poolSize: 1)) { client in
                #expect(try await client.call("Arith.Multiply", Operands(A: 1, B: 1), as: Int.self) == 1)
                let stuck = Task {
                    try await client.call("Arith.Slow", Delay(milliseconds: 10_000, value: 1), as: Int.self)
                }
                try await Task.sleep(for: .milliseconds(100))
                let start = ContinuousClock.now
                await serviceGroup.triggerGracefulShutdown()
                try await group.next()
                #expect(ContinuousClock.now - start < .seconds(5))
                let error = await #expect(throws: JSONRPCClientError.self) {
                    try await stuck.value
                }
                #expect(error?.code == .connectionClosed)
            }
        }
    }

    @Test("cancelling the calling task cancels the call")
    func cancellation() async throws {
        try await withServer { port in
            try await withClient(clientConfiguration(port: port)) { client in
                let task = Task {
                    try await client.call("Arith.Slow", Delay(milliseconds: 3_000, value: 1), as: Int.self)
                }
                try await Task.sleep(for: .milliseconds(100))
                task.cancel()
                await #expect(throws: CancellationError.self) {
                    try await task.value
                }
                #expect(try await client.call("Arith.Multiply", Operands(A: 6, B: 7), as: Int.self) == 42)
            }
        }
    }

    @Test("a shut-down client refuses calls")
    func shutdownClient() async throws {
        try await withServer { port in
            let client = JSONRPCClient(configuration: clientConfiguration(port: port))
            let product = try await client.call("Arith.Multiply", Operands(A: 1, B: 2), as: Int.self)
            #expect(product == 2)
            await client.shutdown()
            let error = await #expect(throws: JSONRPCClientError.self) {
                try await client.call("Arith.Multiply", Operands(A: 1, B: 2), as: Int.self)
            }
            #expect(error?.code == .unavailable)
        }
    }
}
