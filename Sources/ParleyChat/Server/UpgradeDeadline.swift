import HummingbirdCore
import Logging
import NIOCore

/// A server child channel that closes a connection not upgraded to a WebSocket within
/// `deadline` of being accepted: one that sends nothing, or half a request head, would otherwise
/// hold its socket for good (no idle timeout runs before the first request is read). The
/// upgrade removes the deadline (``UpgradeDeadlineHandler/remove(from:)``); from there the chat
/// session's own deadlines apply.
struct UpgradeDeadlineChannel<Inner: ServerChildChannel>: ServerChildChannel {
    let inner: Inner
    let deadline: Duration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Inner.Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(UpgradeDeadlineHandler(deadline: self.deadline), name: UpgradeDeadlineHandler.name)
        }.flatMap {
            self.inner.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Inner.Value, logger: Logger) async {
        await self.inner.handle(value: value, logger: logger)
    }
}

/// Closes its channel once `deadline` has passed, unless removed before.
final class UpgradeDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    static let name = "parley.websocket-upgrade-deadline"

    private let deadline: Duration
    private var timer: Scheduled<Void>?

    init(deadline: Duration) {
        self.deadline = deadline
    }

    /// Removes the deadline from `channel` (it is upgraded).
    static func remove(from channel: any Channel) {
        channel.pipeline.removeHandler(name: Self.name, promise: nil)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(self.deadline)) {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
    }
}
