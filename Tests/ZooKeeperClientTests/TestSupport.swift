import Foundation
import Logging
import NIOCore
import Testing
@testable import ZooKeeperClient

/// Helpers shared by the tests that talk to a real ZooKeeper.
enum TestSupport {
    /// A logger that stays quiet unless `ZOOKEEPER_TEST_LOG` names a level.
    static let logger: Logger = {
        var logger = Logger(label: "zookeeper.test")
        let level = ProcessInfo.processInfo.environment["ZOOKEEPER_TEST_LOG"].flatMap(Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .critical
        return logger
    }()

    /// A configuration for `servers` with short timeouts for tests.
    static func configuration(
        _ connectionString: String,
        sessionTimeout: Duration = .seconds(4),
        requestTimeout: Duration = .seconds(5)
    ) throws -> ZooKeeperClient.Configuration {
        try ZooKeeperClient.Configuration(
            connectionString: connectionString,
            sessionTimeout: sessionTimeout,
            connectTimeout: .milliseconds(500),
            requestTimeout: requestTimeout,
            logger: Self.logger
        )
    }

    /// Connects to `server`, runs `body`, and closes the client whatever happens.
    static func withClient<T>(
        _ connectionString: String,
        sessionTimeout: Duration = .seconds(4),
        _ body: (ZooKeeperClient) async throws -> T
    ) async throws -> T {
        let client = try await ZooKeeperClient.connect(configuration: Self.configuration(connectionString, sessionTimeout: sessionTimeout))
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    /// A fresh path under the root for one test.
    static func uniquePath(_ name: String = #function) -> String {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        return "/test-\(clean)-\(UInt64.random(in: 0..<UInt64.max))"
    }

    /// Waits for the next event of `stream` within `timeout`; `nil` if it ended or took too long.
    static func next<S: AsyncSequence & Sendable>(
        _ stream: S,
        within timeout: Duration = .seconds(10)
    ) async -> S.Element? where S.Element: Sendable {
        await withTaskGroup(of: S.Element?.self) { group in
            group.addTask {
                var iterator = stream.makeAsyncIterator()
                return try? await iterator.next()
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Waits for a watch event within `timeout`; throws the watch's error, or a timeout.
    static func event(of watch: ZooKeeperWatch, within timeout: Duration = .seconds(10)) async throws -> ZooKeeperWatchEvent {
        try await withThrowingTaskGroup(of: ZooKeeperWatchEvent?.self) { group in
            group.addTask { try await watch.event() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let event = try await group.next() ?? nil else {
                throw ZooKeeperError(code: .operationTimeout, path: watch.path, detail: "the watch did not fire within \(timeout)")
            }
            return event
        }
    }

    /// Expects `body` to throw a ``ZooKeeperError`` with `code`.
    static func expectError<T>(
        _ code: ZooKeeperError.Code,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> T
    ) async {
        do {
            _ = try await body()
            Issue.record("expected \(code), got a result", sourceLocation: sourceLocation)
        } catch let error as ZooKeeperError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
        }
    }
}
