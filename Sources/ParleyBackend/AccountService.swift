import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix
import ParleyCore

/// Registration, login and sessions: the rules of the `Account` JSON-RPC service.
public struct AccountService: Sendable {
    let users: any UserRepository
    let sessions: any SessionRepository
    let sessionTTL: Duration
    let bcryptCost: UInt8
    let now: @Sendable () -> Date

    /// A bcrypt hash of a random password, checked when the username is unknown so that a
    /// failed login takes as long whether or not the account exists.
    private let decoyHash: String

    /// Creates the service over the repositories.
    public init(
        users: any UserRepository,
        sessions: any SessionRepository,
        sessionTTL: Duration = .seconds(3600),
        bcryptCost: UInt8 = 10,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.users = users
        self.sessions = sessions
        self.sessionTTL = sessionTTL
        self.bcryptCost = bcryptCost
        self.now = now
        self.decoyHash = Bcrypt.hash(Self.randomToken(), cost: bcryptCost)
    }

    /// Creates an account after checking the username and password rules.
    public func register(_ params: BackendAPI.Credentials) async throws -> User {
        let username = try Username(params.username)
        try PasswordRule.validate(params.password)
        let hash = try await Self.offload { Bcrypt.hash(Self.prehash(params.password), cost: self.bcryptCost) }
        return try await self.users.create(username: username, passwordHash: hash, now: self.now())
    }

    /// Checks the password and opens a session; the same error whether the name or the password is wrong.
    public func login(_ params: BackendAPI.Credentials) async throws -> BackendAPI.LoginResult {
        let wrong = ParleyError(.invalidCredentials, "Wrong username or password.")
        guard params.password.count <= Limits.passwordLength.upperBound,
            params.username.count <= 4 * Limits.usernameLength.upperBound
        else { throw wrong }
        // A name that breaks the rules (a NUL, say) cannot belong to an account: no lookup, the
        // same answer and the same time as an unknown name, on every storage engine.
        let found: UserCredentials? =
            if let username = try? Username(params.username) {
                try await self.users.credentials(usernameKey: username.key)
            } else {
                nil
            }
        let hash = found?.passwordHash ?? self.decoyHash
        let matches = try await Self.offload { Bcrypt.verify(Self.prehash(params.password), hash: hash) }
        guard let found, matches else { throw wrong }

        let token = Self.randomToken()
        let expiresAt = self.expiry(from: self.now())
        try await self.sessions.create(tokenHash: Self.hash(token: token), userID: found.user.id, expiresAt: expiresAt)
        return .init(token: token, username: found.user.username, expiresAt: expiresAt)
    }

    /// The session behind a token, its expiry slid forward when more than a minute has passed
    /// since it was last moved. Throws `unauthenticated` when unknown or expired.
    public func session(_ params: BackendAPI.TokenParams) async throws -> BackendAPI.SessionInfo {
        let now = self.now()
        let tokenHash = Self.hash(token: params.token)
        guard var session = try await self.sessions.find(tokenHash: tokenHash, now: now) else {
            throw ParleyError(.unauthenticated, "You are not logged in, or your session expired.")
        }
        let slid = self.expiry(from: now)
        if slid.timeIntervalSince(session.expiresAt) > 60 {
            try await self.sessions.extend(tokenHash: tokenHash, until: slid)
            session.expiresAt = slid
        }
        return .init(userID: session.userID, username: session.username, expiresAt: session.expiresAt)
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
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Runs slow CPU work (bcrypt) on NIO's thread pool, off the cooperative pool.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
