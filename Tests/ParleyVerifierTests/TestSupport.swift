import Foundation
import Logging
import ParleyCore
import ParleyTestSupport
import SMTPClient
import Synchronization
import Testing

@testable import ParleyVerifier

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let start = ContinuousClock.now
    private let offset = Mutex<Duration>(.zero)

    /// The clock to inject.
    var clock: VerifierClock {
        VerifierClock { [self] in self.start.advanced(by: self.offset.withLock { $0 }) }
    }

    /// Moves the time forward.
    func advance(by duration: Duration) {
        self.offset.withLock { $0 += duration }
    }
}

struct SomeMailFailure: Error {}

enum VerifierTesting {
    static let quietLogger: Logger = {
        var logger = Logger(label: "parley.verifier.test")
        logger.logLevel = .critical
        return logger
    }()

    /// The 6 digits after "Your Parley code: ".
    static func code(inSubject subject: String) -> String? {
        VerificationSubject.code(subject)
    }

    /// Rules over a memory store on a manual clock, with a capturing mailer.
    static func make(
        configuration: VerificationCodes.Configuration = .init(),
        mailer: CapturingMailer = CapturingMailer(),
        generator: CodeGenerator = .system
    ) -> (VerificationCodes, MemoryCodeStore, CapturingMailer, ManualClock) {
        let clock = ManualClock()
        let store = MemoryCodeStore(clock: clock.clock)
        let codes = VerificationCodes(
            store: store, mailer: mailer, configuration: configuration, generator: generator, logger: Self.quietLogger
        )
        return (codes, store, mailer, clock)
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

    /// A code different from `code`.
    static func wrong(_ code: String) -> String {
        code == "000000" ? "000001" : "000000"
    }
}
