import Foundation
import Hummingbird
import ParleyCore

/// Fixed texts for `?notice=…`, so a link cannot put words on the page.
private let notices = [
    "registered": "Your account is ready. Log in to start posting.",
    "loggedout": "You are logged out.",
    "posted": "Your post is up.",
]

/// The HTML pages: board, register, log in, log out. Works without JavaScript;
/// every form carries an anti-forgery token; every write ends in a redirect.
struct WebController<Context: RequestContext>: Sendable {
    let backend: any Backend
    let cookie: SessionCookie
    let pages: Pages

    func addRoutes(to router: Router<Context>) {
        router.get("/", use: self.home)
        router.post("/posts", use: self.createPost)
        router.get("/login", use: self.loginPage)
        router.post("/login", use: self.login)
        router.get("/register", use: self.registerPage)
        router.post("/register", use: self.register)
        router.post("/logout", use: self.logout)
        router.get("/static/parley.css") { _, _ in self.pages.stylesheetResponse() }
    }

    /// What every page shows in its header.
    struct Visitor {
        var session: BackendAPI.SessionInfo?
        var csrf: CSRFToken
        var clearSession = false

        func values(title: String) -> [String: Any] {
            var values: [String: Any] = ["pageTitle": title, "csrf": self.csrf.value, "loggedIn": self.session != nil]
            values["username"] = self.session?.username
            return values
        }

        func finish(_ response: Response, cookie: SessionCookie) -> Response {
            var response = response
            if self.csrf.isNew { response.setCookie(self.csrf.cookie(secure: cookie.secure)) }
            if self.clearSession { response.setCookie(cookie.clear()) }
            return response
        }
    }

    func visitor(_ request: Request) async throws -> Visitor {
        var visitor = Visitor(csrf: CSRFToken(request: request))
        if let token = try? SessionCookie.token(in: request) {
            do {
                visitor.session = try await self.backend.session(token: token)
            } catch let error as ParleyError where error.code == .unauthenticated {
                visitor.clearSession = true
            }
        }
        return visitor
    }

    @Sendable func home(_ request: Request, context: Context) async throws -> Response {
        let visitor = try await self.visitor(request)
        return try await self.homePage(request, visitor: visitor)
    }

    func homePage(
        _ request: Request, visitor: Visitor, error: ParleyError? = nil, draft: (title: String, body: String)? = nil
    ) async throws -> Response {
        let query = request.uri.queryParameters
        var params = BackendAPI.ListParams(limit: Limits.defaultPageSize, before: nil)
        if error == nil, let before = query["before"] {
            params.before = Int64(before).flatMap { $0 > 0 ? $0 : nil }
        }
        let page = try await self.backend.list(params)
        var values = visitor.values(title: "Board")
        values["posts"] = page.posts.map { post -> [String: Any] in
            [
                "title": post.title, "author": post.author, "body": post.body,
                "isoTime": ISO8601Date.format(post.createdAt), "displayTime": Self.displayTime(post.createdAt),
            ]
        }
        values["next"] = page.next
        values["isOlderPage"] = params.before != nil
        values["notice"] = query["notice"].flatMap { notices[String($0)] }
        values["error"] = error?.message
        values["draftTitle"] = draft?.title
        values["draftBody"] = draft?.body
        return visitor.finish(self.pages.render("home", values, status: error?.code.httpStatus ?? .ok), cookie: self.cookie)
    }

    struct PostForm: Decodable {
        var csrf: String?
        var title: String?
        var body: String?
    }

    @Sendable func createPost(_ request: Request, context: Context) async throws -> Response {
        let form = try await Self.decodeForm(PostForm.self, request, context)
        var visitor = try await self.visitor(request)
        try visitor.csrf.check(form.csrf)
        let draft = (title: form.title ?? "", body: form.body ?? "")
        // Whenever the browser sends a session cookie, the post is written as that session:
        // if it expired meanwhile, the backend refuses and the writer is told, never turned into Guest.
        let token = try? SessionCookie.token(in: request)
        do {
            _ = try await self.backend.post(.init(token: token, title: draft.title, body: draft.body))
        } catch let error as ParleyError where error.code != .unavailable && error.code != .internal {
            if error.code == .unauthenticated {
                visitor.session = nil
                visitor.clearSession = true
                let expired = ParleyError(.unauthenticated, "Your session expired and the post was not saved. Log in again, or post it as Guest.")
                return try await self.homePage(request, visitor: visitor, error: expired, draft: draft)
            }
            return try await self.homePage(request, visitor: visitor, error: error, draft: draft)
        }
        return visitor.finish(Self.redirect(to: "/?notice=posted"), cookie: self.cookie)
    }

    @Sendable func loginPage(_ request: Request, context: Context) async throws -> Response {
        let visitor = try await self.visitor(request)
        var values = visitor.values(title: "Log in")
        values["notice"] = request.uri.queryParameters["notice"].flatMap { notices[String($0)] }
        return visitor.finish(self.pages.render("login", values), cookie: self.cookie)
    }

    struct AccountForm: Decodable {
        var csrf: String?
        var username: String?
        var password: String?
    }

    @Sendable func login(_ request: Request, context: Context) async throws -> Response {
        let form = try await Self.decodeForm(AccountForm.self, request, context)
        let visitor = Visitor(csrf: CSRFToken(request: request))
        try visitor.csrf.check(form.csrf)
        do {
            let result = try await self.backend.login(.init(username: form.username ?? "", password: form.password ?? ""))
            var response = Self.redirect(to: "/")
            response.setCookie(self.cookie.set(result.token))
            return response
        } catch let error as ParleyError where error.code != .unavailable && error.code != .internal {
            var values = visitor.values(title: "Log in")
            values["error"] = error.message
            values["draftUsername"] = form.username
            return visitor.finish(self.pages.render("login", values, status: error.code.httpStatus), cookie: self.cookie)
        }
    }

    @Sendable func registerPage(_ request: Request, context: Context) async throws -> Response {
        let visitor = try await self.visitor(request)
        return visitor.finish(self.pages.render("register", visitor.values(title: "Register")), cookie: self.cookie)
    }

    @Sendable func register(_ request: Request, context: Context) async throws -> Response {
        let form = try await Self.decodeForm(AccountForm.self, request, context)
        let visitor = Visitor(csrf: CSRFToken(request: request))
        try visitor.csrf.check(form.csrf)
        do {
            _ = try await self.backend.register(.init(username: form.username ?? "", password: form.password ?? ""))
            return Self.redirect(to: "/login?notice=registered")
        } catch let error as ParleyError where error.code != .unavailable && error.code != .internal {
            var values = visitor.values(title: "Register")
            values["error"] = error.message
            values["draftUsername"] = form.username
            return visitor.finish(self.pages.render("register", values, status: error.code.httpStatus), cookie: self.cookie)
        }
    }

    @Sendable func logout(_ request: Request, context: Context) async throws -> Response {
        let form = try await Self.decodeForm(AccountForm.self, request, context)
        try CSRFToken(request: request).check(form.csrf)
        if let token = try? SessionCookie.token(in: request) {
            try await self.backend.logout(token: token)
        }
        var response = Self.redirect(to: "/?notice=loggedout")
        response.setCookie(self.cookie.clear())
        return response
    }

    /// 303 See Other: the browser follows with a GET, so a reload does not send the form again.
    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    static func displayTime(_ date: Date) -> String {
        date.formatted(Date.VerbatimFormatStyle(
            format: "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits) UTC",
            timeZone: .gmt, calendar: Calendar(identifier: .gregorian)))
    }

    /// Reads an HTML form body: at most 64 KiB, valid UTF-8, URL-encoded.
    static func decodeForm<T: Decodable>(_ type: T.Type, _ request: Request, _ context: Context) async throws -> T {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
            throw ParleyError(.invalidInput, "The form is not valid UTF-8.")
        }
        do {
            return try URLEncodedFormDecoder().decode(T.self, from: text)
        } catch {
            throw ParleyError(.invalidInput, "The form could not be read.")
        }
    }
}
