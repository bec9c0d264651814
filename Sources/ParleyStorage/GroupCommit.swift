import Synchronization

/// Writes that arrive while one is being written go together in the next write (group commit):
/// one statement and one commit for many, instead of one each, on a database that writes one
/// statement at a time (SQLite).
///
/// No task of its own and no timer: the first caller writes its entry at once; callers that come
/// meanwhile wait; when a write ends, the first of them writes every entry waiting then (up to
/// `maximumBatch`) and tells the others their results. A write alone is never delayed.
final class GroupCommit<Entry: Sendable, Output: Sendable>: Sendable {
    /// Writes a batch; returns one result per entry, in order.
    typealias Write = @Sendable ([Entry]) async -> [Result<Output, any Error>]

    private enum Turn: Sendable {
        case done(Result<Output, any Error>)
        /// Write this caller's entry and those of `others`, then hand over.
        case lead(others: [Waiting])
    }

    private struct Waiting: Sendable {
        let entry: Entry
        let continuation: CheckedContinuation<Turn, Never>
    }

    private struct State {
        var waiting: [Waiting] = []
        var writing = false
    }

    private let state = Mutex(State())
    private let maximumBatch: Int
    private let write: Write

    init(maximumBatch: Int, write: @escaping Write) {
        precondition(maximumBatch > 0, "maximumBatch must be positive")
        self.maximumBatch = maximumBatch
        self.write = write
    }

    /// How many entries wait for the write under way to end.
    var waitingCount: Int {
        self.state.withLock { $0.waiting.count }
    }

    /// Writes `entry`, with others that wait at the same time.
    func submit(_ entry: Entry) async throws -> Output {
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let leads = self.state.withLock { state in
                guard state.writing else {
                    state.writing = true
                    return true
                }
                state.waiting.append(Waiting(entry: entry, continuation: continuation))
                return false
            }
            if leads { continuation.resume(returning: .lead(others: [])) }
        }
        let others: [Waiting]
        switch turn {
        case .done(let result): return try result.get()
        case .lead(let waiting): others = waiting
        }

        // The others' writes must not fail because this caller was cancelled (a write may check
        // for cancellation): a batch with others runs in a task of its own.
        let batch = [entry] + others.map(\.entry)
        let results = others.isEmpty ? await self.write(batch) : await Task { [write] in await write(batch) }.value
        precondition(results.count == others.count + 1, "a batch write must give one result per entry")
        for (waiting, result) in zip(others, results.dropFirst()) {
            waiting.continuation.resume(returning: .done(result))
        }
        // Hand over to the first caller waiting, with the others waiting now.
        let next = self.state.withLock { state -> [Waiting]? in
            guard !state.waiting.isEmpty else {
                state.writing = false
                return nil
            }
            let count = min(state.waiting.count, self.maximumBatch)
            defer { state.waiting.removeFirst(count) }
            return Array(state.waiting.prefix(count))
        }
        if let next {
            next[0].continuation.resume(returning: .lead(others: Array(next.dropFirst())))
        }
        return try results[0].get()
    }
}

/// The results of a batch some of whose entries were written together: each entry's from
/// `written` by its key (taken once, so a repeat is written alone after it), the others written
/// alone, in order, each for its own answer (what a statement for many cannot tell apart).
func eachResult<Entry, Key: Hashable, Output>(
    of batch: [Entry],
    written: [Key: Output],
    key: (Entry) -> Key?,
    alone: (Entry) async throws -> Output
) async -> [Result<Output, any Error>] {
    var written = written
    var results: [Result<Output, any Error>] = []
    for entry in batch {
        if let key = key(entry), let done = written.removeValue(forKey: key) {
            results.append(.success(done))
        } else {
            do {
                results.append(.success(try await alone(entry)))
            } catch {
                results.append(.failure(error))
            }
        }
    }
    return results
}

/// `count` rows of `columns` numbered parameters for a `VALUES` list: `(?1, ?2), (?3, ?4)`.
func sqliteParameterRows(_ count: Int, columns: Int) -> String {
    (0..<count).map { row in
        "(" + (1...columns).map { "?\(row * columns + $0)" }.joined(separator: ", ") + ")"
    }.joined(separator: ", ")
}
