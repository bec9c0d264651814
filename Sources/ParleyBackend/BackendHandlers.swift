import JSONRPC
import ParleyCore

/// The backend's JSON-RPC methods (`BackendAPI`), each calling the service that owns its rules.
public func backendHandlers(accounts: AccountService, board: BoardService) -> JSONRPCHandlerRegistry {
    var handlers = JSONRPCHandlerRegistry()
    handlers.register(BackendAPI.register, parleyErrors(accounts.register))
    handlers.register(BackendAPI.login, parleyErrors(accounts.login))
    handlers.register(BackendAPI.session, parleyErrors(accounts.session))
    handlers.register(BackendAPI.logout, parleyErrors(accounts.logout))
    handlers.register(BackendAPI.check, parleyErrors(accounts.check))
    handlers.register(BackendAPI.resetPassword, parleyErrors(accounts.resetPassword))
    handlers.register(BackendAPI.profile, parleyErrors(accounts.profile))
    handlers.register(BackendAPI.updateProfile, parleyErrors(accounts.updateProfile))
    handlers.register(BackendAPI.post, parleyErrors(board.post))
    handlers.register(BackendAPI.list, parleyErrors(board.list))
    return handlers
}

/// Sends a `ParleyError` to the caller as `"code: message"`; anything else stays internal
/// (logged by the server, never shown to the caller).
private func parleyErrors<P: Sendable, R: Sendable>(
    _ handler: @escaping @Sendable (P) async throws -> R
) -> @Sendable (P) async throws -> R {
    { params in
        do {
            return try await handler(params)
        } catch let error as ParleyError {
            throw JSONRPCError(code: error.code.rawValue, message: error.message)
        }
    }
}
