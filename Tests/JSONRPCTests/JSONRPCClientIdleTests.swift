import NIOCore
import Testing

@testable import JSONRPC

/// The client closes a pooled connection that has been idle, before the server would, and
/// the next call opens a new one.
@Suite("JSONRPCClient idle connections")
struct JSONRPCClientIdleTests {
    @Test("an idle pooled connection is closed by the client; the next call reconnects")
    func idleConnectionIsClosedAndReopened() async throws {
        try await withServer { port in
            var configuration = clientConfiguration(port: port, poolSize: 1)
            configuration.idleTimeout = .milliseconds(200)
            try await withClient(configuration) { client in
                #expect(try await client.call("Arith.Multiply", Operands(A: 2, B: 3), as: Int.self) == 6)
                #expect(Self.readySlots(client) == 1)
                var closed = false
                for _ in 0..<50 where !closed {
                    try await Task.sleep(for: .milliseconds(100))
                    closed = Self.readySlots(client) == 0
                }
                #expect(closed, "the idle connection stays open")
                #expect(try await client.call("Arith.Multiply", Operands(A: 4, B: 5), as: Int.self) == 20)
            }
        }
    }

    static func readySlots(_ client: JSONRPCClient) -> Int {
        client.state.withLock { state in
            state.slots.filter { if case .ready = $0 { return true } else { return false } }.count
        }
    }
}
