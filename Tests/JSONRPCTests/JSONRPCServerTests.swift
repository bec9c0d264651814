import Foundation
import JSONRPC
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The server, driven by hand-written bytes on a raw socket.
@Suite("JSONRPCServer on a raw socket")
struct JSONRPCServerTests {
    @Test("Go's Arith.Multiply request gets Go's exact response")
    func goCompatibleResponse() async throws {
        try await withServer { port in
            try await withRawClient(port: port) { client in
                try await client.send(#"{"method":"Arith.Multiply","params":[{"A":7,"B":8}],"id":0}"# + "\n")
                let text = try #require(await client.receive())
                #expect(text.contains(#""error":null"#))
                let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
                #expect(object["id"] as? Int == 0)
                #expect(object["result"] as? Int == 56)
                #expect(object["error"] is NSNull)
                #expect(text == #"{"id":0,"result":56,"error":null}"#)
            }
        }
    }

    @Test("scalar ids are echoed verbatim, whatever their type; an array or object id closes the connection")
    func echoesIDs() async throws {
        try await withServer { port in
            try await withRawClient(port: port) { client in
                try await client.send(#"{"method":"Arith.Multiply","params":[{"A":2,"B":3}],"id":"abc"}"#)
                #expect(await client.receive() == #"{"id":"abc","result":6,"error":null}"#)
                try await client.send(#"{"id":18446744073709551615,"params":[{"A":1,"B":1}],"method":"Arith.Multiply"}"#)
                #expect(await client.receive() == #"{"id":18446744073709551615,"result":1,"error":null}"#)
                for id in ["-9223372036854775808", "null", "true", "1.5"] {
                    try await client.send(#"{"method":"Arith.Multiply","params":[{"A":2,"B":2}],"id":"# + id + "}")
                    #expect(await client.receive() == #"{"id":"# + id + #","result":4,"error":null}"#)
                }
            }
            // A nested id (it cost seconds of CPU to decode before) has no answer: closed.
            let nested = String(repeating: #"["a","a","#, count: 500) + "1" + String(repeating: "]", count: 500)
            for id in [#"[1,"x"]"#, #"{"k":false}"#, nested] {
                try await withRawClient(port: port) { client in
                    try await client.send(#"{"method":"Arith.Multiply","params":[{"A":2,"B":2}],"id":"# + id + "}")
                    #expect(await client.receive() == nil)
                }
            }
        }
    }

    @Test("responses are written as calls complete: a fast call overtakes a slow one")
    func outOfOrder() async throws {
        try await withServer { port in
            try await withRawClient(port: port) { client in
                try await client.send(
                    #"{"method":"Arith.Slow","params":[{"milliseconds":400,"value":1}],"id":1}"#
                        + #"{"method":"Arith.Multiply","params":[{"A":3,"B":3}],"id":2}"#
                )
                let first = try await client.receiveObject()
                let second = try await client.receiveObject()
                #expect(first["id"] as? Int == 2)
                #expect(first["result"] as? Int == 9)
                #expect(second["id"] as? Int == 1)
                #expect(second["result"] as? Int == 1)
            }
        }
    }

    @Test("a result encoded in advance is written as it is, and reads back like any other")
    func rawResult() async throws {
        try await withServer { port in
            try await withRawClient(port: port) { client in
                try await client.send(#"{"method":"People.Cached","params":[{"name":"Zoë \/ \u0000","age":3,"tags":["a"]}],"id":1}"#)
                // The result's bytes as the handler encoded them (JSONEncoder orders keys as it likes).
                let response = try #require(await client.receive())
                #expect(response.hasPrefix(#"{"id":1,"result":{"#) && response.hasSuffix(#"},"error":null}"#))
                #expect(response.contains(#""name":"Zoë / \u0000""#))
                let object = try JSONSerialization.jsonObject(with: Data(response.utf8)) as? NSDictionary
                let result = try #require(object?["result"] as? NSDictionary)
                #expect(result == ["name": "Zoë / \u{0}", "age": 3, "tags": ["a"]] as NSDictionary)
            }
        }
        try await withServer { port in
            try await withClient(clientConfiguration(port: port)) { client in
                let person = Person(name: "Zoë", age: 3, tags: ["a"])
                #expect(try await client.call("People.Cached", person, as: Person.self) == person)
                let raw = try await client.callReturningRawResult("People.Cached", person)
                #expect(try JSONDecoder().decode(Person.self, from: Data(raw.readableBytesView)) == person)
            }
        }
        // Encoded by a JSONEncoder (outside the server), it is the value it holds.
        let inner = try JSONRPCRawResult(encoding: ["k": [1, 2]])
        #expect(String(decoding: try JSONEncoder().encode(["v": inner]), as: UTF8.self) == #"{"v":{"k":[1,2]}}"#)
    }

    @Test("a method that can answer at once does so on the event loop, and leaves the rest to its handler")
    func answersAtOnce() async throws {
        let calledInTask = Mutex<[String: Bool]>([:])
        var handlers = makeHandlers()
        handlers.register(
            "Cache.Get",
            answeringAtOnce: { (key: String) -> String? in
                calledInTask.withLock { $0["at once " + key] = withUnsafeCurrentTask { $0 != nil } }
                if key == "refused" { throw JSONRPCError(code: "refused", message: "not this one") }
                return key == "kept" ? "kept value" : nil
            },
            { (key: String) -> String in
                calledInTask.withLock { $0["handler " + key] = withUnsafeCurrentTask { $0 != nil } }
                return "read value of " + key
            }
        )
        try await withServer(handlers: handlers) { port in
            try await withRawClient(port: port) { client in
                // A slow call in flight does not hold up an answer at once.
                try await client.send(
                    #"{"method":"Arith.Slow","params":[{"milliseconds":300,"value":1}],"id":1}"#
                        + #"{"method":"Cache.Get","params":["kept"],"id":2}"#
                )
                #expect(await client.receive() == #"{"id":2,"result":"kept value","error":null}"#)
                #expect(try await client.receiveObject()["id"] as? Int == 1)
                try await client.send(#"{"method":"Cache.Get","params":["other"],"id":3}"#)
                #expect(await client.receive() == #"{"id":3,"result":"read value of other","error":null}"#)
                try await client.send(#"{"method":"Cache.Get","params":["refused"],"id":4}"#)
                #expect(await client.receive() == #"{"id":4,"result":null,"error":"refused: not this one"}"#)
                try await client.send(#"{"method":"Cache.Get","params":[7],"id":5}"#)
                let wrong = try await client.receiveObject()
                #expect(wrong["id"] as? Int == 5)
                #expect((wrong["error"] as? String)?.hasPrefix("invalid_params: ") == true)
            }
        }
        // The answers at once ran on the event loop, in no task; the handler in one.
        #expect(calledInTask.withLock { $0 } == ["at once kept": false, "at once other": false, "handler other": true, "at once refused": false])
    }

    @Test("a client that does not read its answers gets no more answers at once: the rest wait in the handler's way")
    func answersAtOnceHeedAClientThatDoesNotRead() async throws {
        let calls = Mutex((atOnce: 0, handler: 0))
        let mebibyte = String(repeating: "x", count: 1 << 20)
        var handlers = makeHandlers()
        handlers.register(
            "Big.Get",
            answeringAtOnce: { (_: Int) -> String? in
                calls.withLock { $0.atOnce += 1 }
                return mebibyte
            },
            { (_: Int) -> String in
                calls.withLock { $0.handler += 1 }
                try await Task.sleep(for: .seconds(60))
                return mebibyte
            }
        )
        let (atOnce, handler) = try await withServer(handlers: handlers) { port in
            try await withRawClient(port: port) { client in
                // 100 MiB of answers if all were given at once; the client reads none of them.
                try await client.send(String(repeating: #"{"method":"Big.Get","params":[1],"id":1}"#, count: 100))
                var taken = -1
                while taken != calls.withLock({ $0.atOnce + $0.handler }) {
                    taken = calls.withLock { $0.atOnce + $0.handler }
                    try await Task.sleep(for: .milliseconds(500))
                }
                return calls.withLock { $0 }
            }
        }
        // Answers at once until the socket's buffers and NIO's were full, then the handler's way,
        // whose limit of calls in flight (64) stopped the reading.
        #expect(atOnce < 50)
        #expect(handler > 0 && handler <= 64, "\(atOnce) at once, \(handler) by the handler")
    }

    @Test("an unknown method gets Go's error text")
    func unknownMethod() async throws {
        try await withServer { port in
            try await withRawClient(port: port) { client in
                try await client.send(#"{"method":"Nope.Nothing","params":[{}],"id":7}"#)
                let response = try await client.receiveObject()
                #expect(response["id"] as? Int == 7)
                #expect(response["result"] is NSNull)
                #expect(response["error"] as? String == "method_not_found: rpc: can't find method Nope.Nothing")
            }
        }
    }

    @Test("wrong params get invalid_params and the connection stays usable")
    func wrongParams() async throws {
        try await withServer { port in
            try await withRawClient(port: port) { client in
                try await client.send(#"{"method":"Arith.Multiply","id":1}"#)
                #expect(try await client.receiveObject()["error"] as? String == "invalid_params: jsonrpc: request body missing params")

                try await client.send(#"{"method":"Arith.Multiply","params":[{"A":1,"B":2},{"A":3,"B":4}],"id":2}"#)
                let twoParams = try await client.receiveObject()["error"] as? String
                #expect(twoParams?.hasPrefix("invalid_params: params must be an array with exactly one element") == true)

                try await client.send(#"{"method":"Arith.Multiply","params":{"A":1,"B":2},"id":3}"#)
                #expect(try await client.receiveObject()["error"] as? String == "invalid_params: params must be an array with exactly one element")

                try await client.send(#"{"method":"Arith.Multiply","params":[{"A":"seven","B":2}],"id":4}"#)
                let wrongType = try await client.receiveObject()["error"] as? String
                #expect(wrongType?.hasPrefix("invalid_params: cannot decode params: wrong type at 'params[0].A'") == true)

                try await client.send(#"{"params":[1],"id":5}"#)
                #expect(try await client.receiveObject()["error"] as? String == "invalid_request: request has no method")

                try await client.send(#"{"method":"Arith.Multiply","params":[{"A":4,"B":5}],"id":6}"#)
                #expect(try await client.receiveObject()["result"] as? Int == 20)
            }
        }
    }

    @Test("invalid UTF-8 in the params gets an error response, the id being known")
    func invalidUTF8InParams() async throws {
        var handlers = makeHandlers()
        handlers.register("Echo.String") { (text: String) in text }
        try await withServer(handlers: handlers) { port in
            try await withRawClient(port: port) { client in
                var bytes = Array(#"{"method":"Echo.String","params":["ab"],"id":9}"#.utf8)
                bytes.insert(0xFF, at: bytes.count - 11)
                try await client.send(bytes: bytes)
                let response = try await client.receiveObject()
                #expect(response["id"] as? Int == 9)
                #expect((response["error"] as? String)?.hasPrefix("invalid_params: ") == true)
                try await client.send(#"{"method":"Echo.String","params":["ok ✓"],"id":10}"#)
                #expect(try await client.receiveObject()["result"] as? String == "ok ✓")
            }
        }
    }

    @Test("a request whose id and method can be read gets an error response for anything wrong after them")
    func brokenRestOfARequest() async throws {
        try await withServer { port in
            try await withRawClient(port: port) { client in
                for broken in [#"{"id":3,"method":"Arith.Multiply","params":[{"A":1,"B":2}],"x":tru}"#, #"{"id":4,"method":"Arith.Multiply","params":[{"A":1 "B":2}]}"#] {
                    try await client.send(broken)
                    let response = try await client.receiveObject()
                    #expect(response["id"] as? Int != nil)
                    #expect((response["error"] as? String)?.hasPrefix("invalid_params: cannot decode params") == true, "\(response)")
                }
                // An id with a leading zero is not JSON: the decoder reads the request, and closes.
                try await client.send(#"{"id":07,"method":"Arith.Multiply","params":[{"A":1,"B":2}]}"#)
                #expect(await client.receive() == nil)
            }
        }
    }

    @Test("garbage closes that connection; other clients keep working")
    func garbageClosesConnection() async throws {
        try await withServer { port in
            try await withClient(clientConfiguration(port: port)) { jsonrpc in
                #expect(try await jsonrpc.call("Arith.Multiply", Operands(A: 2, B: 2), as: Int.self) == 4)
                try await withRawClient(port: port) { client in
                    try await client.send("hello, is this HTTP?\r\n\r\n")
                    #expect(await client.receive() == nil)
                }
                try await withRawClient(port: port) { client in
                    // Balanced brackets but not JSON: no id can be recovered, so close.
                    try await client.send("{this is not json}")
                    #expect(await client.receive() == nil)
                }
                try await withRawClient(port: port) { client in
                    // Invalid UTF-8 in the id: no id can be recovered, so close.
                    var bytes = Array(#"{"method":"Arith.Multiply","params":[{"A":1,"B":1}],"id":"ab"}"#.utf8)
                    bytes.insert(0xFF, at: bytes.count - 3)
                    try await client.send(bytes: bytes)
                    #expect(await client.receive() == nil)
                }
                #expect(try await jsonrpc.call("Arith.Multiply", Operands(A: 3, B: 2), as: Int.self) == 6)
            }
        }
    }

    @Test("an oversized message closes the connection before it ends")
    func oversize() async throws {
        try await withServer(serverConfiguration(maximumMessageLength: 1024)) { port in
            try await withRawClient(port: port) { client in
                try await client.send(#"{"method":"Arith.Multiply","params":[""# + String(repeating: "a", count: 4096))
                // The message never ends, yet the server closes the connection.
                #expect(await client.receive() == nil)
            }
        }
    }

    @Test("half a request then silence: closed after the idle timeout")
    func idleTimeout() async throws {
        try await withServer(serverConfiguration(idleTimeout: .milliseconds(300))) { port in
            let start = ContinuousClock.now
            try await withRawClient(port: port, watchdog: .seconds(5)) { client in
                try await client.send(#"{"method":"Arith.Multiply","par"#)
                #expect(await client.receive() == nil)
            }
            // Closed by the server's idle timer, not by the test's 5 s watchdog.
            #expect(ContinuousClock.now - start < .seconds(4))
        }
    }

    @Test("a slow call is not idle: the connection stays open until it answers")
    func busyIsNotIdle() async throws {
        try await withServer(serverConfiguration(idleTimeout: .milliseconds(200))) { port in
            try await withRawClient(port: port) { client in
                try await client.send(#"{"method":"Arith.Slow","params":[{"milliseconds":500,"value":42}],"id":1}"#)
                #expect(try await client.receiveObject()["result"] as? Int == 42)
            }
        }
    }

    @Test("calls in flight per connection are bounded; extra requests wait")
    func boundedConcurrency() async throws {
        let probe = ConcurrencyProbe()
        try await withServer(serverConfiguration(maxConcurrentRequestsPerConnection: 2), handlers: makeHandlers(probe: probe)) { port in
            try await withRawClient(port: port) { client in
                var requests = ""
                for id in 1...6 {
                    requests += #"{"method":"Arith.Slow","params":[{"milliseconds":100,"value":\#(id)}],"id":\#(id)}"#
                }
                try await client.send(requests)
                var ids = Set<Int>()
                for _ in 1...6 {
                    let response = try await client.receiveObject()
                    #expect(response["id"] as? Int == response["result"] as? Int)
                    ids.insert(response["id"] as? Int ?? 0)
                }
                #expect(ids == Set(1...6))
            }
        }
        #expect(probe.maximum == 2)
    }
}

@Suite("JSONRPCServer stopping")
struct JSONRPCServerStoppingTests {
    @Test("stopping while connections are still arriving: every accepted connection is closed, nothing traps")
    func stopWhileAccepting() async throws {
        for _ in 1...20 {
            let server = JSONRPCServer(configuration: serverConfiguration(), handlers: makeHandlers())
            let running = Task { try await server.run() }
            guard let port = await server.boundAddress()?.port else {
                running.cancel()
                throw TestFailure(description: "the server did not start")
            }
            // Connections the server accepts but whose task has not started when it stops.
            var connections: [any Channel] = []
            for _ in 0..<64 {
                connections.append(try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get())
            }
            running.cancel()
            try await running.value
            // Every connection ends, closed by the server; a test timer closes any left open, later.
            let stopped = ContinuousClock.now
            for connection in connections {
                connection.eventLoop.scheduleTask(in: .seconds(10)) { connection.close(promise: nil) }
            }
            for connection in connections {
                try await connection.closeFuture.get()
            }
            #expect(ContinuousClock.now - stopped < .seconds(5))
        }
    }
}
