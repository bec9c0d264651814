import NIOCore
import Synchronization

/// The bounded queue of frames waiting to go out on one peer link, and its resync requests.
///
/// Enqueueing never waits: when the bytes waiting would pass the limit, the link is closed
/// instead (the peer is resynced when a link to it comes back).
final class ContactsOutbox: Sendable {
    /// Batches of whole frames, each written in one write.
    let frames: AsyncStream<ByteBuffer>
    /// Requests to send the whole state (an AskForUpdate, or a resync after an overflow).
    let resyncs: AsyncStream<Void>
    private let framesContinuation: AsyncStream<ByteBuffer>.Continuation
    private let resyncsContinuation: AsyncStream<Void>.Continuation
    private let queuedBytes = Mutex(0)
    private let limit: Int
    private let channel: any Channel

    init(channel: any Channel, limit: Int) {
        self.channel = channel
        self.limit = limit
        (self.frames, self.framesContinuation) = AsyncStream.makeStream()
        (self.resyncs, self.resyncsContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `buffer`; returns `false` (and closes the link) when it would pass the limit.
    /// A buffer larger than the limit is still taken when nothing else waits.
    func enqueue(_ buffer: ByteBuffer) -> Bool {
        let size = buffer.readableBytes
        let accepted = self.queuedBytes.withLock { queued in
            guard queued == 0 || queued + size <= self.limit else {
                return false
            }
            queued += size
            return true
        }
        guard accepted else {
            self.close()
            return false
        }
        self.framesContinuation.yield(buffer)
        return true
    }

    /// Records that `count` queued bytes were written.
    func didWrite(_ count: Int) {
        self.queuedBytes.withLock { $0 -= count }
    }

    /// Asks the link to send the whole state; requests made while one waits are merged.
    func requestResync() {
        self.resyncsContinuation.yield()
    }

    /// Closes the link.
    func close() {
        self.channel.close(promise: nil)
        self.finish()
    }

    /// Ends both streams.
    func finish() {
        self.framesContinuation.finish()
        self.resyncsContinuation.finish()
    }
}
