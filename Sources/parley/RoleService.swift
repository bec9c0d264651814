import ServiceLifecycle
import Synchronization

/// One role of `parley serve` in its service group. When a role fails (its port is taken, say)
/// the group stops every other role, and the process exits with the failure of the role that
/// caused it (``RoleFailures/cause``), not with the errors of the roles that depended on it.
struct RoleService: Service {
    /// What it is and where it listens, as said in the error: "balancer (gRPC) on 127.0.0.1:59900".
    let name: String
    let service: any Service
    let failures: RoleFailures

    func run() async throws {
        do {
            try await self.service.run()
        } catch {
            let failure = RoleFailure(role: self.name, error: error)
            self.failures.record(failure)
            throw failure
        }
    }
}

/// A role that stopped with an error.
struct RoleFailure: Error, CustomStringConvertible {
    let role: String
    let error: any Error

    var description: String { "the \(self.role) stopped: \(self.error)" }
}

/// The failures of the roles of one process, in the order they happened.
final class RoleFailures: Sendable {
    private let failures = Mutex<[RoleFailure]>([])

    func record(_ failure: RoleFailure) {
        self.failures.withLock { $0.append(failure) }
    }

    /// The first failure that was neither the group cancelling a role nor a role missing
    /// another one, if any.
    var cause: RoleFailure? {
        self.failures.withLock { failures in
            failures.first { !($0.error is CancellationError || $0.error is RoleNotStarted) }
        }
    }
}

/// Thrown by a role that needs another role of the same process that did not start (that
/// role's own failure is the cause).
struct RoleNotStarted: Error, CustomStringConvertible {
    let role: String

    var description: String { "the \(self.role) did not start" }
}
