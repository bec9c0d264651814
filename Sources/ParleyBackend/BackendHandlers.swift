import JSONRPC
import ParleyCore

/// The backend's JSON-RPC methods (`BackendAPI`), each calling the service that owns its rules.
/// A backend that does not lead (`fence` is following) answers every method with `not_leader`,
/// naming the leader.
public func backendHandlers(
    accounts: AccountService, board: BoardService, chat: ChatService, fence: WriteFence = WriteFence()
) -> JSONRPCHandlerRegistry {
    /// Checks the role, then sends a `ParleyError` to the caller as `"code: message"`; anything
    /// else stays internal (logged by the server, never shown to the caller).
    func method<P: Sendable, R: Sendable>(_ handler: @escaping @Sendable (P) async throws -> R) -> @Sendable (P) async throws -> R {
        { params in
            do {
                if case .following(let leader) = fence.current { throw WriteFence.notLeader(leader) }
                return try await handler(params)
            } catch let error as ParleyError {
                throw JSONRPCError(code: error.code.rawValue, message: error.message)
            }
        }
    }
    var handlers = JSONRPCHandlerRegistry()
    handlers.register(BackendAPI.register, method(accounts.register))
    handlers.register(BackendAPI.login, method(accounts.login))
    handlers.register(BackendAPI.session, method(accounts.session))
    handlers.register(BackendAPI.logout, method(accounts.logout))
    handlers.register(BackendAPI.check, method(accounts.check))
    handlers.register(BackendAPI.resetPassword, method(accounts.resetPassword))
    handlers.register(BackendAPI.profile, method(accounts.profile))
    handlers.register(BackendAPI.updateProfile, method(accounts.updateProfile))
    handlers.register(BackendAPI.post, method(board.post))
    // A kept newest page is answered at once (never by a backend that follows: it keeps none).
    handlers.register(BackendAPI.list, answeringAtOnce: board.keptNewestPage, method(board.listEncoded))
    handlers.register(BackendAPI.chatUser, method(chat.user))
    handlers.register(BackendAPI.chatSearch, method(chat.search))
    handlers.register(BackendAPI.chatRequest, method(chat.request))
    handlers.register(BackendAPI.chatRequests, method(chat.requests))
    handlers.register(BackendAPI.chatAccept, method(chat.accept))
    handlers.register(BackendAPI.chatDecline, method(chat.decline))
    handlers.register(BackendAPI.chatFriends, method(chat.friends))
    handlers.register(BackendAPI.chatSend, method(chat.send))
    handlers.register(BackendAPI.chatTexts, method(chat.texts))
    handlers.register(BackendAPI.chatMarkRead, method(chat.markRead))
    return handlers
}
