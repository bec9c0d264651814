/// The watches the server holds for this session, by the table the server keeps them in
/// (as the Java client's `ZKWatchManager`): so that one notification completes every local watch
/// it concerns, and so that they can be set again on a new connection (`SetWatches`).
struct WatchRegistry {
    /// Set by `getData`, or by `exists` on a znode that exists.
    private(set) var data: [String: [ZooKeeperWatch]] = [:]
    /// Set by `exists` on a znode that does not exist.
    private(set) var exist: [String: [ZooKeeperWatch]] = [:]
    /// Set by `getChildren`.
    private(set) var child: [String: [ZooKeeperWatch]] = [:]

    var isEmpty: Bool { self.data.isEmpty && self.exist.isEmpty && self.child.isEmpty }

    /// Records a watch once its request succeeded: `nodeExists` tells, for an `exists` watch,
    /// whether the server put it in the data table (the znode exists) or the exist table.
    mutating func add(_ watch: ZooKeeperWatch, nodeExists: Bool) {
        switch watch.kind {
        case .exists where nodeExists, .data:
            self.data[watch.path, default: []].append(watch)
        case .exists:
            self.exist[watch.path, default: []].append(watch)
        case .children:
            self.child[watch.path, default: []].append(watch)
        }
    }

    /// Removes and returns the watches a notification completes.
    mutating func take(for type: ZooKeeperWatchEvent.EventType, path: String) -> [ZooKeeperWatch] {
        var watches: [ZooKeeperWatch] = []
        switch type {
        case .nodeCreated, .nodeDataChanged:
            watches += self.data.removeValue(forKey: path) ?? []
            watches += self.exist.removeValue(forKey: path) ?? []
        case .nodeDeleted:
            watches += self.data.removeValue(forKey: path) ?? []
            watches += self.exist.removeValue(forKey: path) ?? []
            watches += self.child.removeValue(forKey: path) ?? []
        case .nodeChildrenChanged:
            watches += self.child.removeValue(forKey: path) ?? []
        default:
            break
        }
        return watches
    }

    /// Removes and returns every watch (the session ended).
    mutating func takeAll() -> [ZooKeeperWatch] {
        defer { self = WatchRegistry() }
        return self.data.values.flatMap { $0 } + self.exist.values.flatMap { $0 } + self.child.values.flatMap { $0 }
    }

    /// The `SetWatches` request that sets every watch again on a new connection, or `nil` if none.
    func setWatchesRequest(relativeZxid: Int64) -> ZooKeeperRequest? {
        guard !self.isEmpty else { return nil }
        return .setWatches(
            relativeZxid: relativeZxid,
            data: self.data.keys.sorted(),
            exist: self.exist.keys.sorted(),
            child: self.child.keys.sorted()
        )
    }
}
