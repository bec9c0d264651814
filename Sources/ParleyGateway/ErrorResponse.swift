import Foundation
import Hummingbird
import Logging
import NIOHTTP1
import ParleyCore

extension ParleyError.Code {
    /// The HTTP status that fits each kind of error.
    var httpStatus: HTTPResponse.Status {
        switch self {
        case .invalidInput: .badRequest
        case .invalidCredentials, .unauthenticated: .unauthorized
        case .usernameTaken, .emailTaken, .alreadyRequested, .alreadyFriends: .conflict
        case .notFriends, .selfRequest: .unprocessableContent
        case .tooLarge: .contentTooLarge
        case .rateLimited: .tooManyRequests
        case .unavailable, .notLeader: .serviceUnavailable
        case .unsupportedMediaType: .unsupportedMediaType
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .internal: .internalServerError
        }
    }
}

extension ParleyError {
    /// Turns any error met while serving a request into one a client can read, without
    /// leaking internals: Hummingbird's HTTP errors keep their status, bad JSON is
    /// `invalid_input`, anything unknown is `internal`.
    /// The same, logging the errors a user cannot act on (by description, never reflection:
    /// some errors keep bound values there).
    static func from(_ error: any Error, logger: Logger) -> ParleyError {
        let parleyError = Self.from(error)
        if parleyError.code == .internal {
            logger.error("request failed", metadata: ["error": "\(type(of: error)): \(error)"])
        }
        return parleyError
    }

    static func from(_ error: any Error) -> ParleyError {
        switch error {
        case let error as ParleyError:
            return error
        case let error as any HTTPResponseError:
            let detail = (error as? HTTPError)?.body
            switch error.status {
            case .contentTooLarge:
                return ParleyError(.tooLarge, "The request body is larger than 64 KiB.")
            case .notFound:
                return ParleyError(.notFound, "There is nothing here.")
            case .unsupportedMediaType:
                return ParleyError(.unsupportedMediaType, detail ?? "Send the body as application/json.")
            case let status where status.code < 500:
                return ParleyError(.invalidInput, detail ?? status.reasonPhrase)
            default:
                return ParleyError(.internal, "Something went wrong on our side.")
            }
        case let error as DecodingError:
            return ParleyError(.invalidInput, Self.describe(error))
        case let error as HTTPParserError:
            // Met while reading the body: a bad chunk size, a length out of range.
            return ParleyError(.invalidInput, "The request is not valid HTTP/1.1 (\(error)).")
        default:
            return ParleyError(.internal, "Something went wrong on our side.")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).filter { !$0.isEmpty }
            return keys.isEmpty ? "the body" : "'\(keys.joined(separator: "."))'"
        }
        switch error {
        case .keyNotFound(let key, _):
            return "The field '\(key.stringValue)' is missing."
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "The field \(path(context)) has the wrong type."
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "The body is not valid JSON (or not valid UTF-8)."
                : "The field \(path(context)) is not valid: \(context.debugDescription)"
        @unknown default:
            return "The body could not be read."
        }
    }
}

/// The JSON error body: `{"error":{"code":"…","message":"…"}}`.
struct ErrorBody: Codable {
    struct Detail: Codable {
        var code: String
        var message: String
    }
    var error: Detail
}

/// Answers every error under `/api` as a JSON error body with the status that fits.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Self.response(for: ParleyError.from(error, logger: context.logger))
        }
    }

    static func response(for error: ParleyError) -> Response {
        let body = ErrorBody(error: .init(code: error.code.rawValue, message: error.message))
        let data = (try? JSONEncoder().encode(body)) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if error.code == .unauthenticated || error.code == .invalidCredentials {
            headers[.wwwAuthenticate] = "Bearer"
        }
        return Response(status: error.code.httpStatus, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
