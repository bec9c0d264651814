import Hummingbird
import ParleyCore

/// Answers errors from the HTML routes with an HTML page saying what happened.
struct WebErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let pages: Pages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let parleyError = ParleyError.from(error, logger: context.logger)
            let heading =
                switch parleyError.code {
                case .unavailable: "The board is unavailable right now. Try again in a moment."
                case .notFound: "There is no page here."
                case .internal: "Something went wrong on our side. Try again in a moment."
                default: parleyError.message
                }
            let values: [String: Any] = ["pageTitle": "Error", "heading": heading, "loggedIn": false]
            return self.pages.render("error", values, status: parleyError.code.httpStatus)
        }
    }
}
