import JSONRPC
import Logging
import NIOCore
import ParleyCore

/// The backend reached over JSON-RPC through a small pool of persistent connections.
///
/// Errors come back as `ParleyError`: the backend's own errors keep their code; a backend
/// that cannot be reached, drops the connection or does not answer in time is `.unavailable`.
public struct RPCBackend: Backend {
    let client: JSONRPCClient
    let logger: Logger

    /// Wraps a JSON-RPC client connected to a backend.
    public init(client: JSONRPCClient, logger: Logger = Logger(label: "parley.gateway.rpc")) {
        self.client = client
        self.logger = logger
    }

    public func register(_ params: BackendAPI.RegisterParams) async throws -> User {
        try await self.call(BackendAPI.register, params)
    }

    public func login(_ params: BackendAPI.LoginParams) async throws -> BackendAPI.LoginResult {
        try await self.call(BackendAPI.login, params)
    }

    public func check(_ params: BackendAPI.CheckParams) async throws -> BackendAPI.Availability {
        try await self.call(BackendAPI.check, params)
    }

    public func resetPassword(_ params: BackendAPI.ResetParams) async throws {
        let _: BackendAPI.Empty = try await self.call(BackendAPI.resetPassword, params)
    }

    public func profile(token: String) async throws -> Profile {
        try await self.call(BackendAPI.profile, BackendAPI.TokenParams(token: token))
    }

    public func updateProfile(_ params: BackendAPI.ProfileParams) async throws -> Profile {
        try await self.call(BackendAPI.updateProfile, params)
    }

    public func session(token: String) async throws -> BackendAPI.SessionInfo {
        try await self.call(BackendAPI.session, BackendAPI.TokenParams(token: token))
    }

    public func logout(token: String) async throws {
        let _: BackendAPI.Empty = try await self.call(BackendAPI.logout, BackendAPI.TokenParams(token: token))
    }

    public func post(_ params: BackendAPI.PostParams) async throws -> Post {
        try await self.call(BackendAPI.post, params)
    }

    public func list(_ params: BackendAPI.ListParams) async throws -> BackendAPI.PostPage {
        try await self.call(BackendAPI.list, params)
    }

    public func listJSON(_ params: BackendAPI.ListParams) async throws -> ByteBuffer {
        try await self.callReturningJSON(BackendAPI.list, params)
    }

    public func postJSON(_ params: BackendAPI.PostParams) async throws -> ByteBuffer {
        try await self.callReturningJSON(BackendAPI.post, params)
    }

    func callReturningJSON<P: Encodable & Sendable>(_ method: String, _ params: P) async throws -> ByteBuffer {
        do {
            return try await self.client.callReturningRawResult(method, params)
        } catch let error as JSONRPCClientError {
            throw self.translate(error, method: method)
        }
    }

    func call<P: Encodable & Sendable, R: Decodable & Sendable>(_ method: String, _ params: P) async throws -> R {
        do {
            return try await self.client.call(method, params, as: R.self)
        } catch let error as JSONRPCClientError {
            throw self.translate(error, method: method)
        }
    }

    func translate(_ error: JSONRPCClientError, method: String) -> ParleyError {
        switch error.code {
        case .remote(let code, let message):
            if let code = ParleyError.Code(rawValue: code) {
                return ParleyError(code, message)
            }
            self.logger.error("backend error", metadata: ["rpc.method": "\(method)", "error": "\(code): \(message)"])
            return ParleyError(.internal, "The backend could not handle the request.")
        default:
            self.logger.warning("backend unavailable", metadata: ["rpc.method": "\(method)", "error": "\(error)"])
            return ParleyError(.unavailable, "The backend is unavailable. Try again in a moment.")
        }
    }
}
