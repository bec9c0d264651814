/// A task did not finish in time.
public struct TaskTimedOut: Error {
    /// How long it was given.
    public var limit: Duration
}

extension Task where Failure == any Error {
    /// The task's value; when it takes longer than `limit`, the task is cancelled and
    /// ``TaskTimedOut`` thrown (so that a test that would hang fails instead).
    public func value(within limit: Duration) async throws -> Success {
        try await withThrowingTaskGroup { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await self.value
                } onCancel: {
                    self.cancel()
                }
            }
            group.addTask {
                try await Task<Never, Never>.sleep(for: limit)
                throw TaskTimedOut(limit: limit)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }
}
