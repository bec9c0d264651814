import Synchronization
import Testing

@testable import ParleyStorage

/// Writes that come while one is written go together in the next, each with its own answer.
@Suite struct GroupCommitTests {
    struct Refused: Error, Equatable {}

    /// Doubles each entry; refuses 13; the first write waits until `release` is called.
    final class Writer: Sendable {
        let batches = Mutex<[[Int]]>([])
        let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let started: AsyncStream<Void>
        let startedContinuation: AsyncStream<Void>.Continuation

        init() {
            (self.started, self.startedContinuation) = AsyncStream.makeStream()
        }

        func write(_ batch: [Int]) async -> [Result<Int, any Error>] {
            let first = self.batches.withLock { batches in
                batches.append(batch)
                return batches.count == 1
            }
            if first {
                await withCheckedContinuation { continuation in
                    self.gate.withLock { $0 = continuation }
                    self.startedContinuation.yield()
                }
            }
            return batch.map { $0 == 13 ? .failure(Refused()) : .success($0 * 2) }
        }

        func release() {
            self.gate.withLock { gate in
                defer { gate = nil }
                return gate
            }?.resume()
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func entriesWaitingForAWriteGoTogetherInTheNext() async throws {
        let writer = Writer()
        let commit = GroupCommit<Int, Int>(maximumBatch: 4) { await writer.write($0) }
        try await withThrowingTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            group.addTask { (1, await Result { try await commit.submit(1) }) }
            for await _ in writer.started { break }  // the first write is under way, alone
            for entry in [2, 13, 4, 5, 6, 7] {
                group.addTask { (entry, await Result { try await commit.submit(entry) }) }
            }
            // All six wait (none has started a write of its own) before the first write ends.
            while commit.waitingCount < 6 { try await Task.sleep(for: .milliseconds(5)) }
            writer.release()
            for try await (entry, result) in group {
                if entry == 13 {
                    #expect(throws: Refused.self) { try result.get() }
                } else {
                    #expect(try result.get() == entry * 2)
                }
            }
        }
        let batches = writer.batches.withLock { $0 }
        #expect(batches.first == [1])
        #expect(batches.dropFirst().map(\.count) == [4, 2])  // at most 4 at a time
        #expect(Set(batches.joined()) == [1, 2, 13, 4, 5, 6, 7])
        #expect(batches.joined().count == 7)
        // Idle again: the next write goes alone, at once.
        #expect(try await commit.submit(21) == 42)
        #expect(writer.batches.withLock { $0.last } == [21])
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
