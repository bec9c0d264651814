import JSONRPC
import ParleyCore
import Synchronization

/// The board's newest pages (`Board.List` without a cursor), encoded, by page size.
///
/// Most reads of the board are of its newest page, and that page changes only when a post is
/// written, which the ``BoardService`` of the backend that writes does: it drops every kept page
/// after each post (``invalidate()``). A page read while a post was being written is not kept
/// (a generation counter tells), and a page is kept only while this backend's ``WriteFence``
/// state is the one it was read under, so a backend that lost the lead and won it back (another
/// leader wrote meanwhile) reads again. Posts written by anything else (a second backend on the same
/// database without ZooKeeper) show once a page is ``maximumAge`` old. So do posts of a new leader
/// read through a backend that lost the lead without knowing it yet (until its ZooKeeper session
/// expires, 1.5 s by default): reading the database, it would have shown them.
final class NewestPages: Sendable {
    /// Pages larger than this are not kept (at most 100 sizes are).
    static let maximumPageBytes = 64 * 1024

    private struct Entry {
        var page: JSONRPCRawResult
        var fence: WriteFence.State
        var readAt: ContinuousClock.Instant
    }

    private struct State {
        var generation: UInt64 = 0
        var entries: [Int: Entry] = [:]
    }

    let maximumAge: Duration
    private let state = Mutex(State())

    init(maximumAge: Duration) {
        self.maximumAge = maximumAge
    }

    /// The kept page of `limit` posts, if still good under `fence`; and the generation to store
    /// a page read now with.
    func page(limit: Int, fence: WriteFence.State, now: ContinuousClock.Instant) -> (page: JSONRPCRawResult?, generation: UInt64) {
        self.state.withLock { state in
            guard let entry = state.entries[limit], entry.fence == fence, now - entry.readAt < self.maximumAge else {
                return (nil, state.generation)
            }
            return (entry.page, state.generation)
        }
    }

    /// Keeps `page`, read from `readAt` on under `fence`, unless a post was written since
    /// ``page(limit:fence:now:)`` gave `generation`, or this backend follows another (a read that
    /// passed the leader check just before the lead was lost): a follower answers `not_leader`,
    /// so it keeps nothing to answer with.
    func store(_ page: JSONRPCRawResult, limit: Int, fence: WriteFence.State, generation: UInt64, readAt: ContinuousClock.Instant) {
        if case .following = fence { return }
        guard page.json.readableBytes <= Self.maximumPageBytes else { return }
        self.state.withLock { state in
            guard state.generation == generation else { return }
            state.entries[limit] = Entry(page: page, fence: fence, readAt: readAt)
        }
    }

    /// Drops every kept page: a post was written (or may have been).
    func invalidate() {
        self.state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll()
        }
    }
}
