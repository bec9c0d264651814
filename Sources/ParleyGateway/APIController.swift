import Foundation
import Hummingbird
import ParleyCore

extension Post: ResponseEncodable {}

/// The JSON API under `/api/v1`, described by `openapi.yaml`.
struct APIController<Context: RequestContext>: Sendable {
    let backend: any Backend
    let cookie: SessionCookie
    let openAPIDocument: String
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
            Self.route(.post, "sessions", self.login),
            Self.route(.delete, "sessions/current", self.logout),
            Self.route(.get, "me", self.me),
            Self.route(.get, "posts", self.listPosts),
            Self.route(.post, "posts", self.createPost),
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

    struct PostBody: Codable {
        var title: String
        var body: String
    }

    @Sendable func register(_ request: Request, context: Context) async throws -> EditedResponse<UserBody> {
        let credentials = try await Self.decodeJSON(BackendAPI.Credentials.self, request, context)
        let user = try await self.backend.register(credentials)
        return .init(status: .created, response: .init(id: user.id, username: user.username, createdAt: user.createdAt))
    }

    @Sendable func login(_ request: Request, context: Context) async throws -> Response {
        let credentials = try await Self.decodeJSON(BackendAPI.Credentials.self, request, context)
        let result = try await self.backend.login(credentials)
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
        guard let token = try SessionCookie.token(in: request) else {
            throw ParleyError(.unauthenticated, "You are not logged in.")
        }
        return MeBody(username: try await self.backend.session(token: token).username)
    }

    /// The backend's JSON is served as it comes: decoding and encoding it again here would
    /// cost more than the rest of the request (see BENCHMARKS.md).
    @Sendable func listPosts(_ request: Request, context: Context) async throws -> Response {
        let json = try await self.backend.listJSON(try Self.pageParameters(request.uri.queryParameters))
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: json))
    }

    @Sendable func createPost(_ request: Request, context: Context) async throws -> EditedResponse<Post> {
        let body = try await Self.decodeJSON(PostBody.self, request, context)
        let token = try SessionCookie.token(in: request)
        let post = try await self.backend.post(.init(token: token, title: body.title, body: body.body))
        return .init(status: .created, response: post)
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
