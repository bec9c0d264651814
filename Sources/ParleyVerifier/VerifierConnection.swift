import Logging
import ParleyCore
import ServiceLifecycle

/// A ``VerifierClient`` whose address is known only once the process runs (in `parley serve` the
/// verifier binds its port in the same service group): a `Service` that asks for the address, then
/// keeps the client's connection until shutdown. Calls made meanwhile wait for the client.
public final class VerifierConnection: Service, CodeVerifying {
    private let client: Task<VerifierClient, any Error>

    /// Creates the connection; `address` is called once, when the first of `run()` or a call needs it.
    public init(
        timeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "parley.verifier.client"),
        address: @escaping @Sendable () async throws -> (host: String, port: Int)
    ) {
        self.client = Task {
            let (host, port) = try await address()
            return try VerifierClient(host: host, port: port, timeout: timeout, logger: logger)
        }
    }

    public func run() async throws {
        try await withTaskCancellationHandler {
            try await self.connected().run()
        } onCancel: {
            self.client.cancel()
        }
    }

    public func issue(email: String, purpose: CodePurpose, clientAddress: String?) async throws -> IssuedCode {
        try await self.connected().issue(email: email, purpose: purpose, clientAddress: clientAddress)
    }

    public func check(email: String, purpose: CodePurpose, code: String) async throws {
        try await self.connected().check(email: email, purpose: purpose, code: code)
    }

    private func connected() async throws -> VerifierClient {
        do {
            return try await self.client.value
        } catch let error as ParleyError {
            throw error
        } catch {
            throw ParleyError.verifierUnreachable
        }
    }
}

extension VerifierClient: CodeVerifying {}
