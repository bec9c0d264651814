import AsyncHTTPClient
import Foundation
import ParleyCore

extension ParleyHTTPClient {
    /// The HTTP client `ParleyHTTPClient` uses unless given another: redirects disallowed
    /// (a token must not follow them), a failed connection reported at once instead of
    /// retried until the deadline, 10 s connect and read timeouts. Never shut down.
    public static var sharedHTTPClient: HTTPClient { parleySharedHTTPClient }

    /// The HTTP methods the API uses.
    enum Method: String {
        case GET, POST, PUT, DELETE
    }

    /// Sends a request and decodes a 2xx answer as `T`.
    func send<T: Decodable>(
        _ method: Method,
        _ path: String,
        body: (any Encodable)? = nil,
        token: String? = nil,
        expecting type: T.Type
    ) async throws -> T {
        let data = try await self.exchange(method, path, body: body, token: token)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw ParleyError(.internal, "the gateway at \(self.gateway) sent an answer this client does not understand")
        }
    }

    /// Sends a request and returns the body of a 2xx answer; throws `ParleyError` otherwise.
    func exchange(_ method: Method, _ path: String, body: (any Encodable)?, token: String?) async throws -> Data {
        var request = HTTPClientRequest(url: self.gateway + "/api/v1" + path)
        request.method = .init(rawValue: method.rawValue)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "parley-cli")
        if let token {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let body {
            let encoded: Data
            do {
                encoded = try JSONEncoder().encode(body)
            } catch {
                throw ParleyError(.invalidInput, "cannot encode the request: \(error)")
            }
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(encoded)
        }

        let deadline = ContinuousClock.now + self.timeout
        let status: Int
        let data: Data
        do {
            let response = try await self.httpClient.execute(request, timeout: .nanoseconds(Self.nanoseconds(self.timeout)))
            status = Int(response.status.code)
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init),
                length > Self.maxResponseBytes
            {
                throw ParleyError(.tooLarge, "the gateway's answer is larger than 1 MiB; refused")
            }
            var collected = Data()
            for try await chunk in response.body {
                guard collected.count + chunk.readableBytes <= Self.maxResponseBytes else {
                    throw ParleyError(.tooLarge, "the gateway's answer is larger than 1 MiB; refused")
                }
                collected.append(contentsOf: chunk.readableBytesView)
            }
            data = collected
        } catch let error as ParleyError {
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            let timedOut = ContinuousClock.now >= deadline
            throw ParleyError(.unavailable, "cannot reach the gateway at \(self.gateway): \(Self.reason(error, timedOut: timedOut, timeout: self.timeout))")
        }
        guard (200..<300).contains(status) else {
            throw APIErrorBody.parleyError(status: status, body: data)
        }
        return data
    }

    /// A short, human explanation of a transport error.
    static func reason(_ error: any Error, timedOut: Bool, timeout: Duration) -> String {
        let text = String(describing: error)
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout, .getConnectionFromPoolTimeout:
                return "no answer within \(timeout)"
            case .remoteConnectionClosed:
                return "the connection was closed before an answer came"
            case .invalidURL, .emptyHost, .emptyScheme:
                return "invalid URL"
            default:
                break
            }
        }
        if text.localizedCaseInsensitiveContains("connection refused") { return "connection refused" }
        if text.localizedCaseInsensitiveContains("timed out") || timedOut { return "no answer within \(timeout)" }
        if text.localizedCaseInsensitiveContains("reset by peer") { return "connection reset" }
        if text.localizedCaseInsensitiveContains("dns") || text.localizedCaseInsensitiveContains("resolve") {
            return "cannot resolve the host name"
        }
        return text
    }

    /// A `Duration` in whole nanoseconds, for NIO's `TimeAmount`.
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// The client behind `ParleyHTTPClient.sharedHTTPClient`; a global, so never deinitialized.
private let parleySharedHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration(
        redirectConfiguration: .disallow,
        timeout: .init(connect: .seconds(10), read: .seconds(10))
    )
    configuration.connectionPool.retryConnectionEstablishment = false
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()
