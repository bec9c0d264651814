import NIOCore

/// Gathers the frames decoded from one read into one array, so that the task serving the
/// connection handles a burst of frames in one step (one hop to the replica's actor) instead
/// of one step per frame.
///
/// The batch goes on at the end of the read (`channelReadComplete`), and before an error or
/// the end of the connection, so frames before a bad one are still handled in order.
public final class ContactsFrameBatcher<Frame: Sendable>: ChannelInboundHandler {
    /// One decoded frame.
    public typealias InboundIn = Frame
    /// The frames of one read, in order.
    public typealias InboundOut = [Frame]

    private var batch: [Frame] = []

    /// Creates a batcher.
    public init() {}

    /// Adds a frame to the batch.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.batch.append(Self.unwrapInboundIn(data))
    }

    /// Passes the batch on.
    public func channelReadComplete(context: ChannelHandlerContext) {
        self.flush(context: context)
        context.fireChannelReadComplete()
    }

    /// Passes the batch on, then the error.
    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.flush(context: context)
        context.fireErrorCaught(error)
    }

    /// Passes the batch on, then the end of the connection.
    public func channelInactive(context: ChannelHandlerContext) {
        self.flush(context: context)
        context.fireChannelInactive()
    }

    /// Passes the batch on, then the event (such as input closed).
    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        self.flush(context: context)
        context.fireUserInboundEventTriggered(event)
    }

    private func flush(context: ChannelHandlerContext) {
        guard !self.batch.isEmpty else {
            return
        }
        let batch = self.batch
        self.batch = []
        context.fireChannelRead(Self.wrapInboundOut(batch))
    }
}

@available(*, unavailable)
extension ContactsFrameBatcher: Sendable {}
