import Foundation
import Logging
import ParleyBalancer
import ParleyCore
import Synchronization
import Testing

/// Both clocks of the balancer, moved by hand.
final class ManualClock: Sendable {
    private let start = ContinuousClock.now
    /// The wall-clock time at the start: 2025-01-01T00:00:00Z.
    static let startDate = Date(timeIntervalSince1970: 1_735_689_600)
    private let offset = Mutex<Duration>(.zero)

    /// The clock to inject.
    var clock: BalancerClock {
        BalancerClock(
            monotonic: { [self] in self.start.advanced(by: self.elapsed) },
            wallClock: { [self] in Self.startDate.addingTimeInterval(Self.seconds(self.elapsed)) }
        )
    }

    /// How far the clock has been moved.
    var elapsed: Duration { self.offset.withLock { $0 } }

    /// Moves the time forward.
    func advance(by duration: Duration) {
        self.offset.withLock { $0 += duration }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let components = duration.components
        return TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18
    }
}

enum BalancerTesting {
    static let quietLogger: Logger = {
        var logger = Logger(label: "parley.balancer.test")
        logger.logLevel = .critical
        return logger
    }()

    /// A fixed secret.
    static let secret = try! ChatSecret("0123456789abcdef0123456789abcdef-test-secret")
    /// Another fixed secret.
    static let otherSecret = try! ChatSecret("fedcba9876543210fedcba9876543210-other-secret")

    /// A valid chat server description.
    static func server(_ name: String, host: String = "127.0.0.1", port: Int = 60000) -> ChatServerInfo {
        try! ChatServerInfo(name: name, host: host, tcpPort: port, websocketPort: port + 80, grpcPort: port + 90)
    }

    /// Runs `body` and returns the `ParleyError` it throws.
    static func parleyError(_ body: () async throws -> Void) async throws -> ParleyError {
        do {
            try await body()
        } catch let error as ParleyError {
            return error
        }
        Issue.record("expected a ParleyError, got success")
        return ParleyError(.internal, "no error")
    }

    /// Runs `body` and returns the `ChatTicketError` it throws.
    static func ticketError(_ body: () throws -> Void) -> ChatTicketError? {
        do {
            try body()
        } catch let error as ChatTicketError {
            return error
        } catch {
            Issue.record("expected a ChatTicketError, got \(error)")
            return nil
        }
        Issue.record("expected a ChatTicketError, got success")
        return nil
    }
}
