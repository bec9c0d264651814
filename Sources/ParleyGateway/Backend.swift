import NIOCore
import ParleyCore

/// What the gateway needs from the backend; `RPCBackend` calls it over JSON-RPC.
///
/// Every method throws `ParleyError`; a backend that cannot be reached gives `.unavailable`.
public protocol Backend: Sendable {
    /// `Account.Register`.
    func register(_ params: BackendAPI.RegisterParams) async throws -> User
    /// `Account.Login`.
    func login(_ params: BackendAPI.LoginParams) async throws -> BackendAPI.LoginResult
    /// `Account.Check`.
    func check(_ params: BackendAPI.CheckParams) async throws -> BackendAPI.Availability
    /// `Account.ResetPassword`.
    func resetPassword(_ params: BackendAPI.ResetParams) async throws
    /// `Account.Profile`.
    func profile(token: String) async throws -> Profile
    /// `Account.UpdateProfile`.
    func updateProfile(_ params: BackendAPI.ProfileParams) async throws -> Profile
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
    /// `Board.Post`, the stored post as JSON bytes to serve as they are.
    func postJSON(_ params: BackendAPI.PostParams) async throws -> ByteBuffer
}
