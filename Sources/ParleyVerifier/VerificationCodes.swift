import Logging
import ParleyCore
import SMTPClient

/// The rules of the email verification codes, over a ``CodeStore`` and a ``Mailer``.
///
/// - ``issue(email:purpose:clientAddress:)`` sends a new code of 6 random digits (from
///   ``CodeGenerator/system``, a CSPRNG), valid ``Configuration/validity`` (3 minutes), replacing any
///   earlier code of the same address and purpose. An address gets at most one code per
///   ``Configuration/resendCooldown`` (60 s) and ``Configuration/emailLimit`` (10) per hour, whatever
///   the purpose; a client address asks for at most ``Configuration/clientLimit`` (30) per hour.
///   A refusal says "try again in N s" with the real time left.
/// - ``check(email:purpose:code:)`` accepts a code once; the ``Configuration/maxWrongTries``-th
///   (5th) wrong try burns it. The comparison is in constant time (in the store).
/// - The address is normalised first (``EmailAddress``): `" Alice@Example.COM "` and
///   `"alice@example.com"` are one address.
///
/// Races are settled by the store's atomic steps: of many concurrent requests for one address only
/// the one that claims the cooldown sends a code, and a code is consumed by exactly one check.
///
/// A failed send (``Mailer`` throws) deletes the new code and the cooldown, so the user can ask again
/// at once, but stays counted in the hourly limits: a send that failed late (a timeout after the
/// message was handed over) may still have been delivered, and the hourly limits are what keep a
/// retry loop from flooding a mailbox; 10 an hour leave room for retries.
///
/// A struct with no state of its own: every value lives in the store, so several processes over one
/// Redis apply the same limits. The store's clock is the clock of the rules.
public struct VerificationCodes: Sendable {
    /// The numbers of the rules.
    public let configuration: Configuration
    private let store: any CodeStore
    private let mailer: any Mailer
    private let generator: CodeGenerator
    private let logger: Logger

    /// Creates the rules.
    ///
    /// - Parameters:
    ///   - store: Where codes, cooldowns and counters live.
    ///   - mailer: How codes are delivered.
    ///   - configuration: The numbers; issue 5's by default.
    ///   - generator: Where codes come from; the system's CSPRNG by default.
    ///   - logger: For sends, refusals and failures (codes are never logged).
    public init(
        store: any CodeStore,
        mailer: any Mailer,
        configuration: Configuration = Configuration(),
        generator: CodeGenerator = .system,
        logger: Logger = Logger(label: "parley.verifier")
    ) {
        self.store = store
        self.mailer = mailer
        self.configuration = configuration
        self.generator = generator
        self.logger = logger
    }

    /// Sends a new code for `purpose` to `email`.
    ///
    /// - Parameters:
    ///   - email: The address, as the user typed it.
    ///   - purpose: What the code will be accepted for.
    ///   - clientAddress: The address of the client asking (its IP), for the per-client limit;
    ///     `nil` when unknown (the limit is then not applied).
    /// - Returns: The normalised address, how long the code is valid and when a new one may be asked.
    /// - Throws: `ParleyError`: `.invalidInput` for a bad address; `.rateLimited` with "try again in
    ///   N s" for a limit; `.unavailable` when the code could not be sent or the store is unreachable.
    public func issue(email: String, purpose: CodePurpose, clientAddress: String?) async throws -> IssuedCode {
        let address = try EmailAddress(email)
        let configuration = self.configuration
        let keys = Keys(prefix: configuration.keyPrefix, email: address, purpose: purpose)
        let token = Self.randomToken()
        var logger = self.logger
        logger[metadataKey: "verifier.purpose"] = "\(purpose)"
        logger[metadataKey: "verifier.email"] = "\(address)"

        var undo = Undo()
        do {
            if case .held(let remaining) = try await self.store.claim(keys.cooldown, token: token, for: configuration.resendCooldown) {
                throw Self.limited("A code was sent to \(address) less than \(VerificationMail.describe(configuration.resendCooldown)) ago", remaining)
            }
            undo.cooldown = true
            if case .limited(let remaining) = try await self.store.count(keys.emailCount, limit: configuration.emailLimit, window: configuration.emailWindow) {
                throw Self.limited("\(address) has been sent \(configuration.emailLimit) codes in the last \(Self.describeWindow(configuration.emailWindow))", remaining)
            }
            undo.emailCount = true
            if let clientAddress {
                let key = keys.client(clientAddress)
                if case .limited(let remaining) = try await self.store.count(key, limit: configuration.clientLimit, window: configuration.clientWindow) {
                    throw Self.limited("Too many codes were asked for from your network address in the last \(Self.describeWindow(configuration.clientWindow))", remaining)
                }
            }
            let code = self.generator.makeCode()
            guard CodeGenerator.isWellFormed(code) else {
                throw ParleyError(.internal, "The code generator made a code that is not 6 digits.")
            }
            let message = try VerificationMail.make(
                code: code, purpose: purpose, to: address, from: configuration.sender, validity: configuration.validity
            )
            try await self.store.putCode(keys.code, code: code, for: configuration.validity)
            undo.code = code
            // Sent: from here on the hourly counts stay, whatever happens.
            undo.emailCount = false
            try await self.send(message, logger: logger)
        } catch {
            await self.rollback(undo, keys: keys, token: token, logger: logger)
            throw Self.userFacing(error, logger: logger, doing: "send a code")
        }
        logger.info("verification code sent")
        return IssuedCode(email: address, purpose: purpose, validFor: configuration.validity, resendAfter: configuration.resendCooldown)
    }

    /// Accepts `code` for `purpose` and `email` once, and consumes it.
    ///
    /// - Throws: `ParleyError`: `.invalidInput` for a bad address or a code that is not 6 digits;
    ///   `.invalidCredentials` for a wrong code (with the tries left), a burned one, or when there is
    ///   no valid code (expired, used, never sent); `.unavailable` when the store is unreachable.
    public func check(email: String, purpose: CodePurpose, code: String) async throws {
        let address = try EmailAddress(email)
        let code = code.trimmingWhitespace()
        guard CodeGenerator.isWellFormed(code) else {
            throw ParleyError(.invalidInput, "A verification code is 6 digits, such as 012345.")
        }
        var logger = self.logger
        logger[metadataKey: "verifier.purpose"] = "\(purpose)"
        logger[metadataKey: "verifier.email"] = "\(address)"
        let keys = Keys(prefix: self.configuration.keyPrefix, email: address, purpose: purpose)
        let result: ConsumeResult
        do {
            result = try await self.store.consumeCode(keys.code, code: code, maxTries: self.configuration.maxWrongTries)
        } catch {
            throw Self.userFacing(error, logger: logger, doing: "check a code")
        }
        switch result {
        case .accepted:
            logger.info("verification code accepted")
        case .wrong(let triesLeft):
            logger.info("wrong verification code", metadata: ["verifier.tries_left": "\(triesLeft)"])
            let tries = triesLeft == 1 ? "1 try" : "\(triesLeft) tries"
            throw ParleyError(.invalidCredentials, "That code is not right; \(tries) left before it stops working.")
        case .burned:
            logger.notice("verification code burned after too many wrong tries")
            throw ParleyError(
                .invalidCredentials,
                "That code is not right, and after \(self.configuration.maxWrongTries) wrong tries it no longer works; ask for a new code."
            )
        case .missing:
            throw ParleyError(
                .invalidCredentials,
                "There is no valid code for \(address): it has expired, was already used, or was never sent; ask for a new code."
            )
        }
    }

    // MARK: - Sending and undoing

    private func send(_ message: Email, logger: Logger) async throws {
        do {
            try await self.mailer.send(message)
        } catch let error as ParleyError {
            logger.warning("verification mail refused", metadata: ["error": "\(error)"])
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.error("verification mail failed", metadata: ["error": "\(error)"])
            throw ParleyError(.unavailable, "The code could not be sent to \(message.to[0].address) just now; please try again in a moment.")
        }
    }

    /// What ``issue(email:purpose:clientAddress:)`` has written and must take back if it fails.
    private struct Undo {
        var cooldown = false
        var emailCount = false
        var code: String?
    }

    private func rollback(_ undo: Undo, keys: Keys, token: String, logger: Logger) async {
        do {
            if let code = undo.code {
                try await self.store.delete(keys.code, ifValue: code)
            }
            if undo.emailCount {
                try await self.store.uncount(keys.emailCount)
            }
            if undo.cooldown {
                try await self.store.delete(keys.cooldown, ifValue: token)
            }
        } catch {
            logger.error("cannot undo a failed issue in the code store", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Errors

    private static func limited(_ reason: String, _ remaining: Duration) -> ParleyError {
        ParleyError(.rateLimited, "\(reason); try again in \(Self.wholeSeconds(remaining)) s.")
    }

    /// A `ParleyError` as it is; a store failure as `.unavailable`.
    private static func userFacing(_ error: any Error, logger: Logger, doing what: String) -> any Error {
        if error is ParleyError || error is CancellationError {
            return error
        }
        logger.error("code store failed", metadata: ["error": "\(error)"])
        return ParleyError(.unavailable, "Cannot \(what) right now: the code store is unavailable; please try again in a moment.")
    }

    /// `remaining` rounded up to whole seconds, at least 1.
    static func wholeSeconds(_ remaining: Duration) -> Int64 {
        let (seconds, attoseconds) = remaining.components
        return max(1, seconds + (attoseconds > 0 ? 1 : 0))
    }

    private static func describeWindow(_ window: Duration) -> String {
        window == .seconds(3600) ? "hour" : VerificationMail.describe(window)
    }

    private static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() as UInt64, radix: 16) + String(generator.next() as UInt64, radix: 16)
    }
}

/// The store keys of one request.
private struct Keys {
    /// The code of this address and purpose.
    var code: String
    /// The resend cooldown of this address (all purposes).
    var cooldown: String
    /// The hourly count of codes sent to this address (all purposes).
    var emailCount: String
    private var prefix: String

    init(prefix: String, email: EmailAddress, purpose: CodePurpose) {
        self.prefix = prefix
        self.code = "\(prefix)code:\(purpose):\(email.normalized)"
        self.cooldown = "\(prefix)cooldown:\(email.normalized)"
        self.emailCount = "\(prefix)sent:\(email.normalized)"
    }

    /// The hourly count of codes asked for by a client address.
    func client(_ address: String) -> String {
        "\(self.prefix)client:\(address)"
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and line breaks.
    fileprivate func trimmingWhitespace() -> String {
        let scalars = self.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else {
            return ""
        }
        return String(scalars[first...last])
    }
}
