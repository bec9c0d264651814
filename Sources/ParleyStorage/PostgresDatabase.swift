import Foundation
import Logging
import ParleyCore
import PostgresNIO
import Synchronization

/// The connection pool every PostgreSQL repository goes through, with Parley's timeouts and
/// its rule for errors: an unreachable database becomes `PostgresDatabase.unavailable`.
///
/// Timeouts: a connection must come out of the pool within `connectTimeout` (the pool keeps
/// retrying a dead server in the background, so waiting longer would only hold the caller);
/// a statement is cancelled by the server after `queryTimeout` (`statement_timeout`), and
/// should the server not answer at all, the client closes the connection `queryTimeout` plus
/// one second after the lease, or at `connectTimeout` if that is later.
struct PostgresDatabase: Sendable {
    /// The error every repository call throws while the database cannot be reached.
    static let unavailable = ParleyError(.unavailable, "The database is unavailable. Try again in a moment.")

    /// The pool; its `run()` is owned by `PostgresStorage`.
    let client: PostgresClient
    /// Where the database is, without the password, for logs.
    let location: String
    /// The longest wait for a connection out of the pool.
    let connectTimeout: Duration
    /// The longest a statement may run.
    let queryTimeout: Duration
    /// Where unavailability is logged.
    let logger: Logger

    /// Runs one statement and returns all its rows.
    func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await self.withConnection { connection in
            try await connection.query(query, logger: self.logger).collect()
        }
    }

    /// Runs `body` inside `BEGIN` … `COMMIT` on one connection, rolling back when it throws.
    ///
    /// Only the wait for the connection is bounded here: the body sets its own limits (the
    /// migrations lift `statement_timeout` for their transaction).
    func withTransaction<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await self.withConnection(limitQueries: false) { connection in
            _ = try await connection.query("BEGIN", logger: self.logger).collect()
            do {
                let result = try await body(connection)
                _ = try await connection.query("COMMIT", logger: self.logger).collect()
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: self.logger).collect()
                throw error
            }
        }
    }

    /// Leases a connection within `connectTimeout`, runs `operation` on it and, with
    /// `limitQueries`, closes the connection if the operation outlives `queryTimeout`.
    ///
    /// The operation must not keep the connection: it goes back to the pool afterwards.
    func withConnection<Result: Sendable>(
        limitQueries: Bool = true,
        _ operation: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let lease = Lease()
        do {
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    // A connection that the server or a query timeout closed a moment ago may still
                    // be in the pool (closed, or closing and refusing work); nothing was sent on it,
                    // so take another. The timer below still bounds the whole call.
                    while true {
                        do {
                            let result: Result? = try await self.client.withConnection { connection in
                                guard !connection.isClosed else { return nil }
                                lease.start(connection)
                                defer { lease.finish() }
                                return try await operation(connection)
                            }
                            if let result { return result }
                        } catch let error as PSQLError where error.code == .clientClosedConnection && !Task.isCancelled {
                            // Only this call's own timer closes a connection it holds, and then
                            // the task is cancelled: the connection was closing before the lease.
                            lease.reset()
                        }
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
                group.addTask {
                    try await Task.sleep(for: self.connectTimeout)
                    guard let leasedAt = lease.startedAt else {
                        throw PostgresTimeoutError(waitingFor: "connection", timeout: self.connectTimeout)
                    }
                    guard limitQueries else { return nil }
                    // The server's statement_timeout fires first; this is for a server that went
                    // silent. Checked from here on: at most max(connect, query + 1 s) after the start.
                    try await Task.sleep(until: leasedAt + self.queryTimeout + .seconds(1), clock: .continuous)
                    lease.closeConnection()
                    throw PostgresTimeoutError(waitingFor: "answer", timeout: self.queryTimeout)
                }
                while let result = try await group.next() {
                    if let result {
                        group.cancelAll()
                        return result
                    }
                }
                throw CancellationError()
            }
        } catch {
            throw self.translate(error, afterLease: lease.startedAt != nil)
        }
    }

    /// `unavailable` for errors that mean the database cannot be reached, logged with their
    /// cause; every other error unchanged.
    private func translate(_ error: any Error, afterLease: Bool) -> any Error {
        if error is ParleyError || (error is CancellationError && Task.isCancelled) {
            return error
        }
        if Task.isCancelled, !afterLease {
            // The caller gave up while waiting for a connection.
            return CancellationError()
        }
        // Before a connection is leased, the pool fails only when it cannot give one
        // (shut down, or its circuit breaker open after a long outage).
        guard !afterLease || PostgresFailure.isConnectionFailure(error) else {
            return error
        }
        self.logger.warning(
            "database unavailable",
            metadata: [
                "storage.location": "\(self.location)",
                "error": "\(PostgresFailure.describe(error))",
            ]
        )
        return Self.unavailable
    }
}

/// When a lease started, and its connection while it lasts, shared by the tasks of one call.
private final class Lease: Sendable {
    private let state = Mutex<(startedAt: ContinuousClock.Instant?, connection: PostgresConnection?)>((nil, nil))

    /// When the pool handed out a connection, or `nil` while waiting for one.
    var startedAt: ContinuousClock.Instant? { self.state.withLock { $0.startedAt } }

    /// Records the leased connection.
    func start(_ connection: PostgresConnection) {
        self.state.withLock { $0 = (.now, connection) }
    }

    /// Back to waiting for a connection, after one that was closing.
    func reset() {
        self.state.withLock { $0 = (nil, nil) }
    }

    /// Forgets the connection: it goes back to the pool and must not be closed by this call.
    func finish() {
        self.state.withLock { $0.connection = nil }
    }

    /// Closes the leased connection unless the operation finished, failing what runs on it;
    /// the pool replaces it.
    func closeConnection() {
        self.state.withLock { state in
            guard let connection = state.connection else { return }
            let closed: EventLoopFuture<Void> = connection.close()
            _ = closed
        }
    }
}
