import NIOCore
import Synchronization

/// A connection accepted by an async server channel, on its way from the event loop to the task
/// that serves it.
///
/// A server's child channel initializer wraps each `NIOAsyncChannel` in one of these, and the accept
/// loop ``take()``s it out. When the accept loop stops (cancellation, shutdown), NIO drops the
/// connections still buffered in the server channel's inbound stream; a bare `NIOAsyncChannel` would
/// then trap on its unfinished writer (apple/swift-nio#2813). A connection dropped here without
/// being taken is closed instead.
public final class AcceptedConnection<Inbound: Sendable, Outbound: Sendable>: Sendable {
    private let connection: Mutex<NIOAsyncChannel<Inbound, Outbound>?>

    /// Wraps a connection just accepted; call on its event loop, in the child channel initializer.
    public init(_ connection: NIOAsyncChannel<Inbound, Outbound>) {
        self.connection = Mutex(connection)
    }

    /// The connection, for the task that serves it; call once.
    public func take() -> NIOAsyncChannel<Inbound, Outbound> {
        guard let connection = self.connection.withLock({ $0.take() }) else {
            preconditionFailure("AcceptedConnection.take() called twice")
        }
        return connection
    }

    deinit {
        if let connection = self.connection.withLock({ $0.take() }) {
            // Finishes its writer and closes it, as serving it would have. (After the event loops
            // have shut down, closing fails, and the writer is finished all the same.)
            Task {
                try? await connection.executeThenClose { _, _ in }
            }
        }
    }
}
