import Foundation
import NIOCore
import ParleyBackend
import ParleyCore
import ParleyGateway
import ParleyStorage

/// The real backend services called in-process, without the JSON-RPC hop: lets router
/// tests exercise the gateway's logic over a real (temporary) SQLite database.
struct LocalBackend: Backend {
    let accounts: AccountService
    let board: BoardService

    init(storage: any Storage) {
        self.accounts = AccountService(users: storage.users, sessions: storage.sessions, bcryptCost: 4)
        self.board = BoardService(posts: storage.posts, accounts: self.accounts)
    }

    func register(_ credentials: BackendAPI.Credentials) async throws -> User { try await self.accounts.register(credentials) }
    func login(_ credentials: BackendAPI.Credentials) async throws -> BackendAPI.LoginResult { try await self.accounts.login(credentials) }
    func session(token: String) async throws -> BackendAPI.SessionInfo { try await self.accounts.session(.init(token: token)) }
    func logout(token: String) async throws { _ = try await self.accounts.logout(.init(token: token)) }
    func post(_ params: BackendAPI.PostParams) async throws -> Post { try await self.board.post(params) }
    func list(_ params: BackendAPI.ListParams) async throws -> BackendAPI.PostPage { try await self.board.list(params) }
    func listJSON(_ params: BackendAPI.ListParams) async throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONEncoder().encode(try await self.board.list(params)))
    }
}
