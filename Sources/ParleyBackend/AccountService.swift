import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix
import ParleyCore
import ParleyVerifier

/// Registration, login, sessions, password reset and profiles: the rules of the `Account`
/// JSON-RPC service.
///
/// With a `verifier` (every role of `parley serve` has one), a new account needs an email address
/// and the code mailed to it, and a password reset needs the code mailed for a reset: the backend
/// checks codes itself, so no caller of its JSON-RPC port can skip that step. Without one (tests
/// of other features), accounts are made without an email and resets are refused.
public struct AccountService: Sendable {
    let users: any UserRepository
    let sessions: any SessionRepository
    let verifier: (any CodeVerifying)?
    let sessionTTL: Duration
    let bcryptCost: UInt8
    let now: @Sendable () -> Date
    let throttle: LoginThrottle
    /// Limits `check` calls that ask about an email address, per client address.
    let checkThrottle: LoginThrottle

    /// A bcrypt hash of a random password, checked when the username is unknown so that a
    /// failed login takes as long whether or not the account exists.
    private let decoyHash: String

    /// Creates the service over the repositories.
    public init(
        users: any UserRepository,
        sessions: any SessionRepository,
        verifier: (any CodeVerifying)? = nil,
        sessionTTL: Duration = .seconds(3600),
        bcryptCost: UInt8 = 10,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.users = users
        self.sessions = sessions
        self.verifier = verifier
        self.throttle = LoginThrottle()
        self.checkThrottle = LoginThrottle(client: .init(failures: 30, window: 15 * 60))
        self.sessionTTL = sessionTTL
        self.bcryptCost = bcryptCost
        self.now = now
        self.decoyHash = Bcrypt.hash(Self.randomToken(), cost: bcryptCost)
    }

    /// Creates an account after checking the username and password rules, and, with a verifier,
    /// the code mailed to the email address. The rules and whether the username is free (public:
    /// names are shown on posts) are checked before the code, so a refusal for those does not use
    /// it up; whether the address already has an account is said only after the code proved the
    /// mailbox, so that registering tells a stranger nothing about an address.
    public func register(_ params: BackendAPI.RegisterParams) async throws -> User {
        let username = try Username(params.username)
        try PasswordRule.validate(params.password)
        var email: EmailAddress?
        if let verifier = self.verifier {
            guard let typed = params.email, !typed.isEmpty else {
                throw ParleyError(.invalidInput, "An email address is needed to register; a code is sent to it.")
            }
            let address = try EmailAddress(typed)
            guard let code = params.code, !code.isEmpty else {
                throw ParleyError(.invalidInput, "Enter the code that was mailed to \(address).")
            }
            if try await self.users.taken(usernameKey: username.key, email: nil).username {
                throw ParleyError(.usernameTaken, "That username is already taken.")
            }
            try await verifier.check(email: address.normalized, purpose: .register, code: code)
            email = address
        } else if let typed = params.email, !typed.isEmpty {
            throw ParleyError(.invalidInput, "This server does not verify email addresses; register without one.")
        }
        let hash = try await Self.offload { Bcrypt.hash(Self.prehash(params.password), cost: self.bcryptCost) }
        return try await Self.afterCode(used: email != nil) {
            try await self.users.create(username: username, email: email?.normalized, passwordHash: hash, now: self.now())
        }
    }

    /// A write after a code was used up: should it be refused because this backend stopped
    /// leading meanwhile, the gateway must not send it to the next leader (the code is gone), so
    /// the user is told to ask for a new one.
    private static func afterCode<T>(used: Bool, _ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch let error as ParleyError where used && error.code == .notLeader {
            throw ParleyError(.unavailable, "The server changed just now and the code was used up; please ask for a new code and try again.")
        }
    }

    /// Whether a username and an email address could be used for a new account, as the seed's
    /// `/check_accountexists`. Both are optional; each is `available`, `taken` or `invalid`.
    public func check(_ params: BackendAPI.CheckParams) async throws -> BackendAPI.Availability {
        var problems: [String] = []
        var usernameKey: String?
        var usernameState: String?
        if let raw = params.username {
            do {
                usernameKey = try Username(raw).key
            } catch {
                usernameState = "invalid"
                problems.append(error.message)
            }
        }
        var email: String?
        var emailState: String?
        if let raw = params.email {
            // Whether an address has an account is worth guessing at: a few answers per client address.
            try self.checkThrottle.attempt(account: nil, client: params.clientAddress ?? "unknown", now: self.now())
            do {
                email = try EmailAddress(raw).normalized
            } catch let error as ParleyError {
                emailState = "invalid"
                problems.append(error.message)
            }
        }
        if usernameKey != nil || email != nil {
            // An empty key matches no account (a username has at least one character).
            let taken = try await self.users.taken(usernameKey: usernameKey ?? "", email: email)
            if usernameKey != nil {
                usernameState = taken.username ? "taken" : "available"
                if taken.username { problems.append("That username is already taken.") }
            }
            if email != nil {
                emailState = taken.email ? "taken" : "available"
                if taken.email { problems.append("That email address already belongs to an account.") }
            }
        }
        return .init(username: usernameState, email: emailState, message: problems.isEmpty ? nil : problems.joined(separator: " "))
    }

    /// Checks the password and opens a session; the same error whether the name or the password is
    /// wrong. `username` may be the username or the account's email address. Failed logins are
    /// limited per account and per client address (`LoginThrottle`).
    public func login(_ params: BackendAPI.LoginParams) async throws -> BackendAPI.LoginResult {
        let wrong = ParleyError(.invalidCredentials, "Wrong username or password.")
        guard params.password.count <= Limits.passwordLength.upperBound,
            params.username.count <= 260
        else { throw wrong }
        let now = self.now()
        // The throttle's key: the account's identity as typed, normalised, so `Alice` and `alice`
        // share one budget (an address and a username of one account are two budgets).
        let typed = params.username.trimmingCharacters(in: .whitespaces)
        let email = typed.contains("@") ? try? EmailAddress(typed) : nil
        let accountKey = email.map { "email:" + $0.normalized } ?? "name:" + Username.key(typed)
        try self.throttle.attempt(account: accountKey, client: params.clientAddress, now: now)

        // A name that breaks the rules (a NUL, say) cannot belong to an account: no lookup, the
        // same answer and the same time as an unknown name, on every storage engine.
        let found: UserCredentials? =
            if let email {
                try await self.users.credentials(email: email.normalized)
            } else if let username = try? Username(typed) {
                try await self.users.credentials(usernameKey: username.key)
            } else {
                nil
            }
        let hash = found?.passwordHash ?? self.decoyHash
        let matches = try await Self.offload { Bcrypt.verify(Self.prehash(params.password), hash: hash) }
        guard let found, matches else { throw wrong }
        self.throttle.succeeded(account: accountKey, client: params.clientAddress)

        let token = Self.randomToken()
        let expiresAt = self.expiry(from: now)
        try await self.sessions.create(
            tokenHash: Self.hash(token: token), userID: found.user.id, credentialVersion: found.credentialVersion,
            expiresAt: expiresAt
        )
        return .init(token: token, username: found.user.username, expiresAt: expiresAt)
    }

    /// Sets a new password for the account of an email address, proved by the code mailed to it
    /// for a reset, and ends every session of that account.
    public func resetPassword(_ params: BackendAPI.ResetParams) async throws -> BackendAPI.Empty {
        guard let verifier = self.verifier else {
            throw ParleyError(.unavailable, "This server does not verify email addresses, so it cannot reset passwords.")
        }
        let address = try EmailAddress(params.email)
        try PasswordRule.validate(params.password)
        try await verifier.check(email: address.normalized, purpose: .reset, code: params.code)
        let hash = try await Self.offload { Bcrypt.hash(Self.prehash(params.password), cost: self.bcryptCost) }
        let userID = try await Self.afterCode(used: true) {
            try await self.users.resetPassword(email: address.normalized, passwordHash: hash)
        }
        // Whoever holds the code owns the mailbox, so they may learn that no account uses it.
        guard let userID else { throw ParleyError(.notFound, "No account uses \(address).") }
        // The sessions are already invalid (the credential version moved); this frees their rows.
        try? await self.sessions.deleteAll(userID: userID)
        // The new password starts with a clean slate, under both names of the account.
        let username = try? await self.users.credentials(email: address.normalized)?.user.username
        self.throttle.clear(accounts: ["email:" + address.normalized] + (username.map { ["name:" + Username.key($0)] } ?? []))
        return .init()
    }

    /// The profile of the session's owner.
    public func profile(_ params: BackendAPI.TokenParams) async throws -> Profile {
        let session = try await self.session(params)
        guard let profile = try await self.users.profile(userID: session.userID) else { throw Self.gone }
        return profile
    }

    /// Changes the nickname and description of the session's owner.
    public func updateProfile(_ params: BackendAPI.ProfileParams) async throws -> Profile {
        let draft = try ProfileDraft(nickname: params.nickname, description: params.description)
        let session = try await self.session(.init(token: params.token))
        guard let profile = try await self.users.updateProfile(userID: session.userID, draft: draft) else { throw Self.gone }
        return profile
    }

    private static let gone = ParleyError(.unauthenticated, "This account no longer exists.")

    /// The session behind a token, its expiry slid forward when more than a minute has passed
    /// since it was last moved. Throws `unauthenticated` when unknown or expired.
    public func session(_ params: BackendAPI.TokenParams) async throws -> BackendAPI.SessionInfo {
        let now = self.now()
        guard let found = try await self.sessions.find(tokenHash: Self.hash(token: params.token), now: now) else {
            throw Self.notLoggedIn
        }
        let session = try await self.slide(found, now: now)
        return .init(userID: session.userID, username: session.username, expiresAt: session.expiresAt)
    }

    /// The answer to a token that is unknown, expired or revoked.
    static let notLoggedIn = ParleyError(.unauthenticated, "You are not logged in, or your session expired.")

    /// Sliding expiry: a session used at `now` expires a whole TTL later. It is written only
    /// when that moves the expiry by over a minute, so that most requests do not write.
    func slide(_ session: Session, now: Date) async throws -> Session {
        var session = session
        let slid = self.expiry(from: now)
        if slid.timeIntervalSince(session.expiresAt) > 60 {
            try await self.sessions.extend(tokenHash: session.tokenHash, until: slid)
            session.expiresAt = slid
        }
        return session
    }

    /// Ends a session; ending an unknown one is not an error.
    public func logout(_ params: BackendAPI.TokenParams) async throws -> BackendAPI.Empty {
        try await self.sessions.delete(tokenHash: Self.hash(token: params.token))
        return .init()
    }

    private func expiry(from now: Date) -> Date {
        let ttl = self.sessionTTL.components
        let seconds = Double(ttl.seconds) + Double(ttl.attoseconds) / 1e18
        return Date(timeIntervalSince1970: (now.timeIntervalSince1970 + seconds).rounded(.down))
    }

    /// 32 bytes from the system CSPRNG, base64url without padding.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// What bcrypt gets instead of the password: bcrypt reads a C string of at most 72 bytes,
    /// so a NUL would cut the password short and a long one would lose its end. SHA-256 in
    /// base64 is 44 bytes without a NUL, and keeps every byte of the password.
    static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }

    /// The stored form of a token: SHA-256, hex. A database leak does not leak sessions.
    static func hash(token: String) -> String {
        hexEncoded(SHA256.hash(data: Data(token.utf8)))
    }

    /// Runs slow CPU work (bcrypt) on NIO's thread pool, off the cooperative pool.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
