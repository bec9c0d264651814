import Foundation
import NIOCore
import ParleyBackend
import ParleyCore
import ParleyGateway
import ParleyStorage
import ParleyVerifier

/// The real backend services called in-process, without the JSON-RPC hop: lets router
/// tests exercise the gateway's logic over a real (temporary) SQLite database.
struct LocalBackend: Backend {
    let accounts: AccountService
    let board: BoardService

    init(storage: any Storage, verifier: (any CodeVerifying)? = nil) {
        self.accounts = AccountService(users: storage.users, sessions: storage.sessions, verifier: verifier, bcryptCost: 4)
        self.board = BoardService(posts: storage.posts, accounts: self.accounts)
    }

    func register(_ params: BackendAPI.RegisterParams) async throws -> User { try await self.accounts.register(params) }
    func login(_ params: BackendAPI.LoginParams) async throws -> BackendAPI.LoginResult { try await self.accounts.login(params) }
    func check(_ params: BackendAPI.CheckParams) async throws -> BackendAPI.Availability { try await self.accounts.check(params) }
    func resetPassword(_ params: BackendAPI.ResetParams) async throws { _ = try await self.accounts.resetPassword(params) }
    func profile(token: String) async throws -> Profile { try await self.accounts.profile(.init(token: token)) }
    func updateProfile(_ params: BackendAPI.ProfileParams) async throws -> Profile { try await self.accounts.updateProfile(params) }
    func session(token: String) async throws -> BackendAPI.SessionInfo { try await self.accounts.session(.init(token: token)) }
    func logout(token: String) async throws { _ = try await self.accounts.logout(.init(token: token)) }
    func post(_ params: BackendAPI.PostParams) async throws -> Post { try await self.board.post(params) }
    func list(_ params: BackendAPI.ListParams) async throws -> BackendAPI.PostPage { try await self.board.list(params) }
    func listJSON(_ params: BackendAPI.ListParams) async throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONEncoder().encode(try await self.board.list(params)))
    }
    func postJSON(_ params: BackendAPI.PostParams) async throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONEncoder().encode(try await self.board.post(params)))
    }
}
