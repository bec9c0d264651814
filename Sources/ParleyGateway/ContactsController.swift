import Foundation
import Hummingbird
import ParleyContacts
import ParleyCore

/// The logged-in user's phone book, kept on the contacts replicas: a page at `/contacts` and
/// the API under `/api/v1/contacts`. The gateway speaks the replicas' client protocol as the
/// session's user; the protocol itself has no authentication, so this is the way in for people.
struct ContactsController<Context: RequestContext>: Sendable {
    let web: WebController<Context>
    let servers: [(host: String, port: Int)]

    init(web: WebController<Context>, servers: [(host: String, port: Int)]) {
        self.web = web
        self.servers = servers
    }

    struct Contact: ResponseCodable {
        var name: String
        var phone: String
    }

    struct ContactList: ResponseEncodable {
        var contacts: [Contact]
    }

    struct PhoneBody: Decodable {
        var phone: String
    }

    /// The API endpoints, listed with the others in the OpenAPI document.
    var apiRoutes: [APIController<Context>.Route] {
        [
            APIController<Context>.route(.get, "contacts", self.list),
            APIController<Context>.route(.put, "contacts/:name", self.save),
            APIController<Context>.route(.delete, "contacts/:name", self.remove),
        ]
    }

    func addPageRoutes(to router: Router<Context>) {
        router.get("/contacts", use: self.page)
        router.post("/contacts", use: self.saveForm)
        router.post("/contacts/delete", use: self.removeForm)
    }

    // MARK: API

    @Sendable func list(_ request: Request, context: Context) async throws -> ContactList {
        let book = try await self.book(for: request)
        return ContactList(contacts: try await Self.run { try await book.list() }.map { Contact(name: $0.name, phone: $0.phone) })
    }

    @Sendable func save(_ request: Request, context: Context) async throws -> Contact {
        let book = try await self.book(for: request)
        let name = try Self.name(in: context)
        let body = try await APIController<Context>.decodeJSON(PhoneBody.self, request, context)
        try await Self.run { try await book.update(contact: name, phone: body.phone) }
        return Contact(name: name, phone: body.phone)
    }

    @Sendable func remove(_ request: Request, context: Context) async throws -> Response {
        let book = try await self.book(for: request)
        let name = try Self.name(in: context)
        try await Self.run { try await book.delete(contact: name) }
        return Response(status: .noContent)
    }

    /// The contacts client of the session's user; 401 without a session.
    func book(for request: Request) async throws -> ContactsClient {
        guard let token = try SessionCookie.token(in: request) else {
            throw ParleyError(.unauthenticated, "Log in to see your contacts.")
        }
        let session = try await self.web.backend.session(token: token)
        return try self.client(user: session.username)
    }

    func client(user: String) throws -> ContactsClient {
        guard !self.servers.isEmpty else {
            throw ParleyError(.unavailable, "Contacts are not available on this gateway (no contacts servers are configured).")
        }
        return ContactsClient(user: user, servers: self.servers)
    }

    static func name(in context: Context) throws -> String {
        guard let raw = context.parameters.get("name"), let name = raw.removingPercentEncoding else {
            throw ParleyError(.invalidInput, "The contact's name in the path is not valid.")
        }
        return name
    }

    /// Runs a call to the replicas; their errors become errors a user can act on.
    static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ContactsFieldError {
            throw ParleyError(.invalidInput, "\(error)")
        } catch is ContactsClientError {
            throw ParleyError(.unavailable, "The contacts servers do not answer. Try again in a moment.")
        }
    }

    // MARK: Pages

    @Sendable func page(_ request: Request, context: Context) async throws -> Response {
        let visitor = try await self.web.visitor(request)
        guard visitor.session != nil else { return WebController<Context>.redirect(to: "/login") }
        return try await self.render(request, visitor: visitor)
    }

    func render(_ request: Request, visitor: WebController<Context>.Visitor, error: ParleyError? = nil, draft: Contact? = nil) async throws -> Response {
        guard let session = visitor.session else { return WebController<Context>.redirect(to: "/login") }
        var values = visitor.values(title: "Contacts")
        let contacts = try await Self.run { try await self.client(user: session.username).list() }
        values["contacts"] = contacts.map { ["name": $0.name, "phone": $0.phone] }
        values["error"] = error?.message
        values["notice"] = request.uri.queryParameters["notice"] == "saved" ? "Saved." : nil
        values["draftName"] = draft?.name
        values["draftPhone"] = draft?.phone
        return visitor.finish(self.web.pages.render("contacts", values, status: error?.code.httpStatus ?? .ok), cookie: self.web.cookie)
    }

    struct ContactForm: Decodable {
        var csrf: String?
        var name: String?
        var phone: String?
    }

    @Sendable func saveForm(_ request: Request, context: Context) async throws -> Response {
        let form = try await WebController<Context>.decodeForm(ContactForm.self, request, context)
        let visitor = try await self.web.visitor(request)
        try visitor.csrf.check(form.csrf)
        guard let session = visitor.session else { return WebController<Context>.redirect(to: "/login") }
        let draft = Contact(name: form.name ?? "", phone: form.phone ?? "")
        do {
            try await Self.run { try await self.client(user: session.username).update(contact: draft.name, phone: draft.phone) }
        } catch let error as ParleyError where error.code == .invalidInput {
            return try await self.render(request, visitor: visitor, error: error, draft: draft)
        }
        return WebController<Context>.redirect(to: "/contacts?notice=saved")
    }

    @Sendable func removeForm(_ request: Request, context: Context) async throws -> Response {
        let form = try await WebController<Context>.decodeForm(ContactForm.self, request, context)
        let visitor = try await self.web.visitor(request)
        try visitor.csrf.check(form.csrf)
        guard let session = visitor.session else { return WebController<Context>.redirect(to: "/login") }
        try await Self.run { try await self.client(user: session.username).delete(contact: form.name ?? "") }
        return WebController<Context>.redirect(to: "/contacts")
    }
}
