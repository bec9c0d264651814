import Foundation
import Hummingbird
import ParleyBalancer
import ParleyCore
import ParleyVerifier

extension Post: ResponseEncodable {}
extension Profile: ResponseEncodable {}
extension BackendAPI.Availability: ResponseEncodable {}

/// The JSON API under `/api/v1`, described by `openapi.yaml`.
struct APIController<Context: RequestContext>: Sendable {
    let backend: any Backend
    let codes: Codes
    let cookie: SessionCookie
    let openAPIDocument: String
    /// Hands out chat servers and tickets; without one, `chat/ticket` answers "unavailable".
    var balancer: (any ChatServerAssigning)?
    /// Routes other controllers add under `/api/v1` (the contacts).
    var extraRoutes: [Route] = []

    /// One endpoint: method, path under `/api/v1`, handler.
    struct Route: Sendable {
        var method: HTTPRequest.Method
        var path: String
        var handler: @Sendable (Request, Context) async throws -> Response
    }

    /// Every endpoint of the API; the OpenAPI document lists exactly these (a test checks it).
    var routes: [Route] {
        [
            Self.route(.post, "accounts", self.register),
            Self.route(.post, "accounts/check", self.check),
            Self.route(.post, "verification-codes", self.sendCode),
            Self.route(.post, "password-resets", self.resetPassword),
            Self.route(.post, "sessions", self.login),
            Self.route(.delete, "sessions/current", self.logout),
            Self.route(.get, "me", self.me),
            Self.route(.get, "me/profile", self.profile),
            Self.route(.put, "me/profile", self.updateProfile),
            Self.route(.get, "posts", self.listPosts),
            Self.route(.post, "posts", self.createPost),
            Self.route(.post, "chat/ticket", self.chatTicket),
            Self.route(.get, "openapi.yaml", self.openAPI),
        ] + self.extraRoutes
    }

    static func route<Output: ResponseGenerator>(
        _ method: HTTPRequest.Method, _ path: String, _ handler: @escaping @Sendable (Request, Context) async throws -> Output
    ) -> Route {
        Route(method: method, path: path) { request, context in
            try await handler(request, context).response(from: request, context: context)
        }
    }

    func addRoutes(to group: RouterGroup<Context>) {
        group.add(middleware: APIErrorMiddleware())
        for route in self.routes {
            group.on(RouterPath(route.path), method: route.method, use: route.handler)
        }
        // Unknown paths under /api/v1 answer with a JSON 404, like every other API error.
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            group.on("**", method: method, use: self.notFound)
        }
    }

    struct UserBody: ResponseCodable {
        var id: Int64
        var username: String
        @ISO8601Date var createdAt: Date
    }

    struct MeBody: ResponseCodable {
        var username: String
    }

    struct LoginBody: ResponseCodable {
        var token: String
        var username: String
        @ISO8601Date var expiresAt: Date
    }

    /// Where to chat: a chat server's TCP address and WebSocket URL, and the ticket to show it.
    struct ChatTicketBody: ResponseCodable {
        var host: String
        var port: Int
        var wsURL: String
        var token: String
        var serverName: String
        @ISO8601Date var expiresAt: Date
    }

    struct PostBody: Codable {
        var title: String
        var body: String
    }

    struct CodeRequest: Decodable {
        var email: String
        var purpose: String
    }

    struct CodeBody: ResponseCodable {
        var email: String
        var purpose: String
        var validForSeconds: Int64
        var resendAfterSeconds: Int64
    }

    struct ProfileEdit: Decodable {
        var nickname: String
        var description: String
    }

    @Sendable func register(_ request: Request, context: Context) async throws -> EditedResponse<UserBody> {
        let params = try await Self.decodeJSON(BackendAPI.RegisterParams.self, request, context)
        let user = try await self.backend.register(params)
        return .init(status: .created, response: .init(id: user.id, username: user.username, createdAt: user.createdAt))
    }

    @Sendable func check(_ request: Request, context: Context) async throws -> BackendAPI.Availability {
        var params = try await Self.decodeJSON(BackendAPI.CheckParams.self, request, context)
        params.clientAddress = context.clientAddress
        return try await self.backend.check(params)
    }

    @Sendable func sendCode(_ request: Request, context: Context) async throws -> EditedResponse<CodeBody> {
        let body = try await Self.decodeJSON(CodeRequest.self, request, context)
        guard let purpose = CodePurpose(rawValue: body.purpose) else {
            throw ParleyError(.invalidInput, "purpose must be \"register\" or \"reset\".")
        }
        let issued = try await self.codes.send(email: body.email, purpose: purpose, clientAddress: context.clientAddress)
        return .init(
            status: .accepted,
            response: .init(
                email: issued.email.normalized, purpose: purpose.rawValue,
                validForSeconds: issued.validFor.components.seconds, resendAfterSeconds: issued.resendAfter.components.seconds
            )
        )
    }

    @Sendable func resetPassword(_ request: Request, context: Context) async throws -> Response {
        try await self.backend.resetPassword(try await Self.decodeJSON(BackendAPI.ResetParams.self, request, context))
        return Response(status: .noContent)
    }

    @Sendable func profile(_ request: Request, context: Context) async throws -> Profile {
        try await self.backend.profile(token: try Self.sessionToken(request))
    }

    @Sendable func updateProfile(_ request: Request, context: Context) async throws -> Profile {
        let edit = try await Self.decodeJSON(ProfileEdit.self, request, context)
        return try await self.backend.updateProfile(
            .init(token: try Self.sessionToken(request), nickname: edit.nickname, description: edit.description)
        )
    }

    static func sessionToken(_ request: Request) throws -> String {
        guard let token = try SessionCookie.token(in: request) else {
            throw ParleyError(.unauthenticated, "You are not logged in.")
        }
        return token
    }

    @Sendable func login(_ request: Request, context: Context) async throws -> Response {
        var params = try await Self.decodeJSON(BackendAPI.LoginParams.self, request, context)
        params.clientAddress = context.clientAddress
        let result = try await self.backend.login(params)
        var response = try LoginBody(token: result.token, username: result.username, expiresAt: result.expiresAt)
            .response(from: request, context: context)
        response.setCookie(self.cookie.set(result.token))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func logout(_ request: Request, context: Context) async throws -> Response {
        if let token = try SessionCookie.token(in: request) {
            try await self.backend.logout(token: token)
        }
        var response = Response(status: .noContent)
        response.setCookie(self.cookie.clear())
        return response
    }

    @Sendable func me(_ request: Request, context: Context) async throws -> MeBody {
        MeBody(username: try await self.backend.session(token: try Self.sessionToken(request)).username)
    }

    /// The backend's JSON is served as it comes: decoding and encoding it again here would
    /// cost more than the rest of the request (see BENCHMARKS.md).
    @Sendable func listPosts(_ request: Request, context: Context) async throws -> Response {
        Self.json(.ok, try await self.backend.listJSON(try Self.pageParameters(request.uri.queryParameters)))
    }

    @Sendable func createPost(_ request: Request, context: Context) async throws -> Response {
        let body = try await Self.decodeJSON(PostBody.self, request, context)
        let token = try SessionCookie.token(in: request)
        // The request id lets a cluster's gateway retry the write on a new leader, applied once.
        let post = try await self.backend.postJSON(.init(token: token, title: body.title, body: body.body, requestID: randomHex(bytes: 16)))
        return Self.json(.created, post)
    }

    /// A response of JSON bytes from the backend, served as they are.
    static func json(_ status: HTTPResponse.Status, _ json: ByteBuffer) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: json))
    }

    /// The least-loaded chat server for the session's user, and a short-lived ticket for it
    /// (the seed's `/trylogin_server`).
    @Sendable func chatTicket(_ request: Request, context: Context) async throws -> ChatTicketBody {
        let session = try await self.backend.session(token: try Self.sessionToken(request))
        guard let balancer = self.balancer else {
            throw ParleyError(.unavailable, "Chat is not available on this server.")
        }
        let assignment = try await balancer.assign(userID: session.userID, username: session.username)
        return ChatTicketBody(
            host: assignment.host, port: assignment.tcpPort, wsURL: assignment.websocketURL, token: assignment.token,
            serverName: assignment.serverName, expiresAt: assignment.expiresAt
        )
    }

    @Sendable func openAPI(_ request: Request, context: Context) async throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/yaml; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: self.openAPIDocument)))
    }

    @Sendable func notFound(_ request: Request, context: Context) async throws -> Response {
        throw ParleyError(.notFound, "There is no API endpoint \(request.method) \(request.uri.path).")
    }

    /// `limit` (1–100, default 20) and `before` (a cursor from an earlier page) from a query string.
    static func pageParameters(_ query: Parameters) throws -> BackendAPI.ListParams {
        var limit = Limits.defaultPageSize
        if let text = query["limit"] {
            guard let value = Int(text), Limits.pageSize.contains(value) else {
                throw ParleyError(.invalidInput, "limit must be a whole number from 1 to 100.")
            }
            limit = value
        }
        var before: Int64?
        if let text = query["before"], !text.isEmpty {
            guard let value = Int64(text), value > 0 else {
                throw ParleyError(.invalidInput, "before must be a cursor returned as 'next' by an earlier page.")
            }
            before = value
        }
        return .init(limit: limit, before: before)
    }

    /// Decodes a JSON body; API writes must say `Content-Type: application/json`, which also
    /// keeps cross-site HTML forms from reaching them.
    static func decodeJSON<T: Decodable>(_ type: T.Type, _ request: Request, _ context: Context) async throws -> T {
        guard let contentType = request.headers[.contentType].flatMap(MediaType.init(from:)),
            contentType.isType(.applicationJson)
        else {
            throw HTTPError(.unsupportedMediaType, message: "Send the body as Content-Type: application/json.")
        }
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        return try JSONDecoder().decode(T.self, from: buffer)
    }
}
