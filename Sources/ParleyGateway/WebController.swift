import Foundation
import Hummingbird
import ParleyCore
import ParleyVerifier

/// Fixed texts for `?notice=…`, so a link cannot put words on the page.
private let notices = [
    "registered": "Your account is ready. Log in to start posting.",
    "loggedout": "You are logged out.",
    "posted": "Your post is up.",
    "reset": "Your password is changed and every other session is logged out. Log in with the new password.",
    "profile": "Your profile is saved.",
]

/// The HTML pages: board, register, log in, log out. Works without JavaScript;
/// every form carries an anti-forgery token; every write ends in a redirect.
struct WebController<Context: RequestContext>: Sendable {
    let backend: any Backend
    let codes: Codes
    let cookie: SessionCookie
    let pages: Pages

    func addRoutes(to router: Router<Context>) {
        router.get("/", use: self.home)
        router.post("/posts", use: self.createPost)
        router.get("/login", use: self.loginPage)
        router.post("/login", use: self.login)
        router.get("/register", use: self.registerPage)
        router.post("/register/code", use: self.registerCode)
        router.post("/register", use: self.register)
        router.get("/reset-password", use: self.resetPage)
        router.post("/reset-password/code", use: self.resetCode)
        router.post("/reset-password", use: self.resetPassword)
        router.get("/profile", use: self.profilePage)
        router.post("/profile", use: self.saveProfile)
        router.get("/chat", use: self.chatPage)
        router.post("/logout", use: self.logout)
        router.get("/static/:name") { _, context in
            guard let response = self.pages.assetResponse(context.parameters.get("name") ?? "") else {
                throw ParleyError(.notFound, "There is no such file.")
            }
            return response
        }
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
                // The cookie is cleared with this page: its forms come back without a session.
                visitor.csrf.session = nil
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
            _ = try await self.backend.post(.init(token: token, title: draft.title, body: draft.body, requestID: randomHex(bytes: 16)))
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
            let result = try await self.backend.login(
                .init(username: form.username ?? "", password: form.password ?? "", clientAddress: context.clientAddress)
            )
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

    struct CodeForm: Decodable {
        var csrf: String?
        var email: String?
        var code: String?
        var username: String?
        var password: String?
    }

    /// The register or reset page; `codeSent` shows the second step (code and password).
    func codePage(
        _ template: String, title: String, visitor: Visitor, form: CodeForm? = nil, codeSent: Bool,
        resendAfter: Int64? = nil, notice: String? = nil, error: ParleyError? = nil
    ) -> Response {
        var values = visitor.values(title: title)
        let verifies = self.codes.verifier != nil
        values["verifies"] = verifies
        values["codeSent"] = codeSent
        values["showAccountForm"] = codeSent || !verifies
        values["draftEmail"] = form?.email
        values["draftUsername"] = form?.username
        values["resendAfter"] = resendAfter.map(String.init)
        values["notice"] = notice
        values["error"] = error?.message
        return visitor.finish(self.pages.render(template, values, status: error?.code.httpStatus ?? .ok), cookie: self.cookie)
    }

    @Sendable func registerPage(_ request: Request, context: Context) async throws -> Response {
        let visitor = try await self.visitor(request)
        return self.codePage("register", title: "Register", visitor: visitor, codeSent: false)
    }

    @Sendable func resetPage(_ request: Request, context: Context) async throws -> Response {
        let visitor = try await self.visitor(request)
        return self.codePage("reset", title: "Reset password", visitor: visitor, codeSent: false)
    }

    @Sendable func registerCode(_ request: Request, context: Context) async throws -> Response {
        try await self.sendCode(.register, template: "register", title: "Register", request, context)
    }

    @Sendable func resetCode(_ request: Request, context: Context) async throws -> Response {
        try await self.sendCode(.reset, template: "reset", title: "Reset password", request, context)
    }

    /// Step one of both flows: mail a code, then show the form that takes it.
    func sendCode(
        _ purpose: CodePurpose, template: String, title: String, _ request: Request, _ context: Context
    ) async throws -> Response {
        let form = try await Self.decodeForm(CodeForm.self, request, context)
        let visitor = Visitor(csrf: CSRFToken(request: request))
        try visitor.csrf.check(form.csrf)
        do {
            let issued = try await self.codes.send(email: form.email ?? "", purpose: purpose, clientAddress: context.clientAddress)
            var shown = form
            shown.email = issued.email.mailbox
            let sent =
                purpose == .register
                ? "We sent a code to \(issued.email.mailbox)."
                : "If an account uses \(issued.email.mailbox), a code is on its way."
            let notice = sent + " It is valid for \(VerificationMail.describe(issued.validFor)); "
                + "you can ask for a new one in \(VerificationMail.describe(issued.resendAfter))."
            return self.codePage(
                template, title: title, visitor: visitor, form: shown, codeSent: true,
                resendAfter: issued.resendAfter.components.seconds, notice: notice
            )
        } catch let error as ParleyError where error.code != .internal {
            // Too soon for a new code: the earlier one is still good, so the second step stays open.
            return self.codePage(template, title: title, visitor: visitor, form: form, codeSent: error.code == .rateLimited, error: error)
        }
    }

    @Sendable func register(_ request: Request, context: Context) async throws -> Response {
        let form = try await Self.decodeForm(CodeForm.self, request, context)
        let visitor = Visitor(csrf: CSRFToken(request: request))
        try visitor.csrf.check(form.csrf)
        do {
            _ = try await self.backend.register(
                .init(username: form.username ?? "", password: form.password ?? "", email: form.email, code: form.code)
            )
            return Self.redirect(to: "/login?notice=registered")
        } catch let error as ParleyError where error.code != .unavailable && error.code != .internal {
            return self.codePage("register", title: "Register", visitor: visitor, form: form, codeSent: true, error: error)
        }
    }

    @Sendable func resetPassword(_ request: Request, context: Context) async throws -> Response {
        let form = try await Self.decodeForm(CodeForm.self, request, context)
        let visitor = Visitor(csrf: CSRFToken(request: request))
        try visitor.csrf.check(form.csrf)
        do {
            try await self.backend.resetPassword(.init(email: form.email ?? "", code: form.code ?? "", password: form.password ?? ""))
            var response = Self.redirect(to: "/login?notice=reset")
            response.setCookie(self.cookie.clear())
            return response
        } catch let error as ParleyError where error.code != .unavailable && error.code != .internal {
            return self.codePage("reset", title: "Reset password", visitor: visitor, form: form, codeSent: true, error: error)
        }
    }

    struct ProfileForm: Decodable {
        var csrf: String?
        var nickname: String?
        var description: String?
    }

    @Sendable func profilePage(_ request: Request, context: Context) async throws -> Response {
        let visitor = try await self.visitor(request)
        guard visitor.session != nil, let token = try? SessionCookie.token(in: request) else {
            return visitor.finish(Self.redirect(to: "/login"), cookie: self.cookie)
        }
        let profile = try await self.backend.profile(token: token)
        let notice = request.uri.queryParameters["notice"].flatMap { notices[String($0)] }
        return self.profileResponse(profile, visitor: visitor, notice: notice)
    }

    func profileResponse(
        _ profile: Profile, visitor: Visitor, notice: String? = nil, error: ParleyError? = nil, draft: ProfileForm? = nil
    ) -> Response {
        var values = visitor.values(title: "Profile")
        values["profileUsername"] = profile.username
        values["profileEmail"] = profile.email
        values["nickname"] = draft?.nickname ?? profile.nickname
        values["description"] = draft?.description ?? profile.description
        values["isoTime"] = ISO8601Date.format(profile.createdAt)
        values["displayTime"] = Self.displayTime(profile.createdAt)
        values["notice"] = notice
        values["error"] = error?.message
        return visitor.finish(self.pages.render("profile", values, status: error?.code.httpStatus ?? .ok), cookie: self.cookie)
    }

    @Sendable func saveProfile(_ request: Request, context: Context) async throws -> Response {
        let form = try await Self.decodeForm(ProfileForm.self, request, context)
        let visitor = try await self.visitor(request)
        try visitor.csrf.check(form.csrf)
        guard visitor.session != nil, let token = try? SessionCookie.token(in: request) else {
            return visitor.finish(Self.redirect(to: "/login"), cookie: self.cookie)
        }
        do {
            _ = try await self.backend.updateProfile(.init(token: token, nickname: form.nickname ?? "", description: form.description ?? ""))
            return visitor.finish(Self.redirect(to: "/profile?notice=profile"), cookie: self.cookie)
        } catch let error as ParleyError where error.code == .invalidInput || error.code == .tooLarge {
            let profile = try await self.backend.profile(token: token)
            return self.profileResponse(profile, visitor: visitor, error: error, draft: form)
        }
    }

    /// The chat page: a shell that `chat.js` fills. The script gets a ticket with the session
    /// cookie (`POST /api/v1/chat/ticket`) and talks to the chat server over WebSocket.
    @Sendable func chatPage(_ request: Request, context: Context) async throws -> Response {
        let visitor = try await self.visitor(request)
        guard visitor.session != nil else {
            return visitor.finish(Self.redirect(to: "/login"), cookie: self.cookie)
        }
        let page = self.pages.render("chat", visitor.values(title: "Chat"), csp: Pages.chatContentSecurityPolicy)
        return visitor.finish(page, cookie: self.cookie)
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
