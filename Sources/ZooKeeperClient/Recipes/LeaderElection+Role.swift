extension LeaderElection {
    /// The candidate that leads an election: its znode, the payload it published and its epoch.
    public struct Leader: Hashable, Sendable, CustomStringConvertible {
        /// The leader's znode, such as `/app/election/n_3f0c…_0000000007`.
        public var path: String
        /// The bytes the leader published (for instance its advertised address).
        public var payload: [UInt8]
        /// The leadership's epoch: the `czxid` of the leader's znode (see ``LeaderElection``).
        public var epoch: Int64

        /// Creates a leader description.
        public init(path: String, payload: [UInt8], epoch: Int64) {
            self.path = path
            self.payload = payload
            self.epoch = epoch
        }

        /// Such as `leader /app/election/n_…_0000000007 (epoch 4294967302)`.
        public var description: String { "leader \(self.path) (epoch \(self.epoch))" }
    }

    /// What a candidate knows of its own role.
    public enum Role: Hashable, Sendable, CustomStringConvertible {
        /// This candidate leads, in this epoch (the `czxid` of its znode).
        case leader(epoch: Int64)
        /// Another candidate leads.
        case follower(leader: Leader)
        /// Not known: not joined yet, the session is disconnected (it may have expired meanwhile),
        /// or it expired, or the candidate resigned. Act as a follower that does not know the
        /// leader: a former leader must stop acting as one at once.
        case unknown

        /// Whether this is ``leader(epoch:)``.
        public var isLeader: Bool {
            if case .leader = self { return true }
            return false
        }

        /// Such as `leader (epoch 4294967302)`, `follower of leader /app/election/n_… (epoch …)`, `unknown`.
        public var description: String {
            switch self {
            case .leader(let epoch): return "leader (epoch \(epoch))"
            case .follower(let leader): return "follower of \(leader)"
            case .unknown: return "unknown"
            }
        }
    }
}
