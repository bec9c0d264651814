import Synchronization

/// Whether this process may write, and with which leadership epoch: the fencing of issue 4.
///
/// A single backend is ``State/unfenced``: it writes as it always did. In a cluster, the backend
/// that leads records its epoch (from ZooKeeper) in the database when it takes over, and every
/// write statement it runs carries that epoch: the database applies the write only while its
/// recorded epoch is still this one. A leader that was paused while another took over (a higher
/// epoch is recorded) thus cannot write when it wakes up, even before it learns it lost.
public final class WriteFence: Sendable {
    /// What a backend may do.
    public enum State: Sendable, Equatable {
        /// No leader election: write without an epoch.
        case unfenced
        /// Leads in this epoch.
        case leading(epoch: Int64)
        /// Does not lead; the leader's address when known.
        case following(leader: String?)
    }

    private let state: Mutex<State>

    /// Creates a fence in `state` (unfenced by default).
    public init(_ state: State = .unfenced) {
        self.state = Mutex(state)
    }

    /// The state now.
    public var current: State {
        self.state.withLock { $0 }
    }

    /// Moves to `state`.
    public func set(_ state: State) {
        self.state.withLock { $0 = state }
    }

    /// The epoch a write must carry, `nil` when unfenced.
    /// - Throws: ``notLeader(_:)`` when this backend does not lead.
    public func epochForWrite() throws(ParleyError) -> Int64? {
        switch self.current {
        case .unfenced: return nil
        case .leading(let epoch): return epoch
        case .following(let leader): throw Self.notLeader(leader)
        }
    }

    /// The database refused a write: a newer leader recorded a higher epoch since this backend
    /// took over (it was paused, or cut off, while another took its place).
    public static let superseded = ParleyError(
        .notLeader, "This backend no longer leads: a newer leader has taken over; try again in a moment."
    )

    /// The error of a backend that does not lead, naming the leader when known.
    public static func notLeader(_ leader: String?) -> ParleyError {
        if let leader {
            return ParleyError(.notLeader, "This backend does not lead; the leader is \(leader).")
        }
        return ParleyError(.notLeader, "This backend does not lead, and no leader is known right now; try again in a moment.")
    }
}
