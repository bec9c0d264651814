import NIOCore

extension ZooKeeperClient {
    /// Creates a znode and returns its path: with the 10-digit sequence number appended for the
    /// sequential modes (`/election/n_` → `/election/n_0000000007`).
    ///
    /// - Parameters:
    ///   - path: The znode's path; for a sequential mode, the prefix of its name.
    ///   - data: Its data (at most about 1 MiB).
    ///   - mode: Persistent or ephemeral, sequential or not.
    ///   - acl: Who may do what; everyone everything by default.
    ///   - createParents: Whether to create missing parents first (as persistent, empty znodes).
    /// - Throws: ``ZooKeeperError``: ``ZooKeeperError/Code/nodeExists``, ``ZooKeeperError/Code/noNode``
    ///   (no parent), ``ZooKeeperError/Code/noChildrenForEphemerals``, and those of every call.
    @discardableResult
    public func create(
        path: String,
        data: [UInt8] = [],
        mode: ZooKeeperCreateMode = .persistent,
        acl: [ZooKeeperACL] = ZooKeeperACL.openUnsafe,
        createParents: Bool = false
    ) async throws -> String {
        try Self.validate(path)
        let request = ZooKeeperRequest.create(path: path, data: data, acl: acl, mode: mode)
        var reply: ZooKeeperReply
        do {
            reply = try await self.perform(request)
        } catch let error as ZooKeeperError where error.code == .noNode && createParents {
            try await self.ensurePath(Self.parent(of: path))
            reply = try await self.perform(request)
        }
        return try Self.decode(path) { try reply.body.readJuteString() ?? "" }
    }

    /// Creates `path` and each missing ancestor as persistent, empty znodes; existing ones are
    /// left as they are.
    public func ensurePath(_ path: String) async throws {
        try Self.validate(path)
        guard path != "/", try await self.exists(path: path) == nil else { return }
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            do {
                try await self.create(path: prefix)
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                continue
            }
        }
    }

    /// Deletes a znode.
    ///
    /// - Parameters:
    ///   - path: The znode.
    ///   - version: The version it must have, or -1 for any.
    /// - Throws: ``ZooKeeperError``: ``ZooKeeperError/Code/noNode``, ``ZooKeeperError/Code/badVersion``,
    ///   ``ZooKeeperError/Code/notEmpty``, and those of every call.
    public func delete(path: String, version: Int32 = -1) async throws {
        try Self.validate(path)
        _ = try await self.perform(.delete(path: path, version: version))
    }

    /// The znode's stat, or `nil` if it does not exist.
    public func exists(path: String) async throws -> ZooKeeperStat? {
        try Self.validate(path)
        return try await self.exists(path: path, watch: nil)
    }

    /// The znode's stat (`nil` if it does not exist) and a watch that fires once when it is
    /// created, deleted or its data changes.
    ///
    /// The recipe for waiting on a predecessor: if the stat is `nil` it is already gone; otherwise
    /// `try await watch.event()` returns when it is deleted (or changed: check again).
    public func existsAndWatch(path: String) async throws -> (stat: ZooKeeperStat?, watch: ZooKeeperWatch) {
        try Self.validate(path)
        let watch = ZooKeeperWatch(path: path, kind: .exists)
        return (try await self.exists(path: path, watch: watch), watch)
    }

    private func exists(path: String, watch: ZooKeeperWatch?) async throws -> ZooKeeperStat? {
        var reply = try await self.perform(.exists(path: path, watch: watch != nil), watch: watch, allowNoNode: true)
        guard reply.header.error == 0 else { return nil }
        return try Self.decode(path) { try ZooKeeperStat.read(from: &reply.body) }
    }

    /// The znode's data and stat.
    ///
    /// - Throws: ``ZooKeeperError``: ``ZooKeeperError/Code/noNode``, and those of every call.
    public func getData(path: String) async throws -> (data: [UInt8], stat: ZooKeeperStat) {
        try Self.validate(path)
        return try await self.getData(path: path, watch: nil)
    }

    /// The znode's data and stat, and a watch that fires once when its data changes or it is deleted.
    public func getDataAndWatch(path: String) async throws -> (data: [UInt8], stat: ZooKeeperStat, watch: ZooKeeperWatch) {
        try Self.validate(path)
        let watch = ZooKeeperWatch(path: path, kind: .data)
        let (data, stat) = try await self.getData(path: path, watch: watch)
        return (data, stat, watch)
    }

    private func getData(path: String, watch: ZooKeeperWatch?) async throws -> (data: [UInt8], stat: ZooKeeperStat) {
        var reply = try await self.perform(.getData(path: path, watch: watch != nil), watch: watch)
        return try Self.decode(path) {
            let data = try reply.body.readJuteBuffer() ?? []
            return (data, try ZooKeeperStat.read(from: &reply.body))
        }
    }

    /// Replaces the znode's data and returns its new stat.
    ///
    /// - Parameters:
    ///   - version: The version it must have, or -1 for any.
    /// - Throws: ``ZooKeeperError``: ``ZooKeeperError/Code/noNode``, ``ZooKeeperError/Code/badVersion``,
    ///   and those of every call.
    @discardableResult
    public func setData(path: String, data: [UInt8], version: Int32 = -1) async throws -> ZooKeeperStat {
        try Self.validate(path)
        var reply = try await self.perform(.setData(path: path, data: data, version: version))
        return try Self.decode(path) { try ZooKeeperStat.read(from: &reply.body) }
    }

    /// The names (not paths) of the znode's children, in no particular order.
    ///
    /// - Throws: ``ZooKeeperError``: ``ZooKeeperError/Code/noNode``, and those of every call.
    public func getChildren(path: String) async throws -> [String] {
        try Self.validate(path)
        return try await self.getChildren(path: path, watch: nil)
    }

    /// The names of the znode's children, and a watch that fires once when a child is created or
    /// deleted, or the znode is deleted.
    public func getChildrenAndWatch(path: String) async throws -> (children: [String], watch: ZooKeeperWatch) {
        try Self.validate(path)
        let watch = ZooKeeperWatch(path: path, kind: .children)
        return (try await self.getChildren(path: path, watch: watch), watch)
    }

    private func getChildren(path: String, watch: ZooKeeperWatch?) async throws -> [String] {
        var reply = try await self.perform(.getChildren(path: path, watch: watch != nil), watch: watch)
        return try Self.decode(path) { try reply.body.readJuteStrings() }
    }

    /// The sequence number the server appended to a sequential znode's name
    /// (`n_0000000042` → 42), or `nil` if the name does not end with 10 digits.
    public static func sequenceNumber(of name: String) -> Int64? {
        let digits = name.utf8.suffix(10)
        guard digits.count == 10, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return nil
        }
        return Int64(String(decoding: digits, as: UTF8.self))
    }

    // MARK: - Helpers

    /// Rejects paths the server would reject, without a round trip.
    static func validate(_ path: String) throws {
        guard path.hasPrefix("/"), path == "/" || !path.hasSuffix("/"), !path.contains("//"), !path.utf8.contains(0) else {
            throw ZooKeeperError(code: .badArguments, path: path, detail: "invalid znode path")
        }
    }

    /// The parent of an absolute path (`/a/b` → `/a`, `/a` → `/`).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// Runs a body decoder, turning malformed bytes into ``ZooKeeperError/Code/marshallingError``.
    static func decode<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as JuteDecodingError {
            throw ZooKeeperError(code: .marshallingError, path: path, detail: error.detail)
        }
    }
}
