import NIOCore
import ParleyCore

/// What the gateway needs from the backend; `RPCBackend` calls it over JSON-RPC.
///
/// Every method throws `ParleyError`; a backend that cannot be reached gives `.unavailable`.
public protocol Backend: Sendable {
    /// `Account.Register`.
    func register(_ credentials: BackendAPI.Credentials) async throws -> User
    /// `Account.Login`.
    func login(_ credentials: BackendAPI.Credentials) async throws -> BackendAPI.LoginResult
    /// `Account.Session`; throws `.unauthenticated` for an unknown or expired token.
    func session(token: String) async throws -> BackendAPI.SessionInfo
    /// `Account.Logout`.
    func logout(token: String) async throws
    /// `Board.Post`.
    func post(_ params: BackendAPI.PostParams) async throws -> Post
    /// `Board.List`.
    func list(_ params: BackendAPI.ListParams) async throws -> BackendAPI.PostPage
    /// `Board.List`, its result as JSON bytes to serve as they are.
    func listJSON(_ params: BackendAPI.ListParams) async throws -> ByteBuffer
}
