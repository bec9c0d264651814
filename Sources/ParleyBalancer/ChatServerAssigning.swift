/// What the gateway needs of the balancer: a chat server and a ticket for a logged-in user.
///
/// ``BalancerClient`` and ``BalancerConnection`` conform; tests of the gateway may pass a fake.
public protocol ChatServerAssigning: Sendable {
    /// The least-loaded live chat server for the user, with a ticket bound to the user and to it.
    ///
    /// - Throws: `ParleyError`: `.unavailable` when no chat server is live or the balancer cannot be
    ///   reached; `.invalidInput` for a user id that is not positive or an invalid username.
    func assign(userID: Int64, username: String) async throws -> ChatAssignment
}

/// What a chat server needs of the balancer: to register and to report its load.
///
/// ``BalancerClient`` and ``BalancerConnection`` conform; ``ChatServerHeartbeat`` calls them.
public protocol ChatServerReporting: Sendable {
    /// Registers the server (again); returns how often to report and how long the lease is.
    func register(_ server: ChatServerInfo) async throws -> ChatServerRegistry.Terms
    /// Reports the server's connection count; `.notFound` means "register again".
    func reportLoad(name: String, connections: Int) async throws
}

extension BalancerClient: ChatServerAssigning, ChatServerReporting {}
