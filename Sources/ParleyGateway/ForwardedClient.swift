import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Behind a reverse proxy every request comes from the proxy's address, so the per-address limits
/// (failed logins, verification codes) would count every user together. When the peer is one of
/// the trusted proxies, the client's address is taken from `X-Forwarded-For`: the rightmost entry
/// that is not itself a trusted proxy (entries further left were written by the client and could
/// say anything). A header from any other peer is ignored.
struct ForwardedClientMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    /// The proxies' IP addresses, as ``normalizedIPAddress(_:)`` gives them.
    let trustedProxies: Set<String>

    func handle(_ request: Request, context: GatewayContext, next: (Request, GatewayContext) async throws -> Response) async throws -> Response {
        guard let peer = context.remoteAddress?.ipAddress.flatMap(normalizedIPAddress), self.trustedProxies.contains(peer) else {
            return try await next(request, context)
        }
        let hops = request.headers[values: .xForwardedFor].flatMap { $0.split(separator: ",") }
        var context = context
        for hop in hops.reversed() {
            // An entry that is not an address breaks the chain: nothing left of it can be trusted.
            guard let address = normalizedIPAddress(hop.trimmingCharacters(in: CharacterSet.whitespaces)) else { break }
            if !self.trustedProxies.contains(address) {
                context.forwardedClientAddress = address
                break
            }
        }
        return try await next(request, context)
    }
}

/// An IP address in NIO's spelling (so `::1` and `0:0::1` compare equal), or `nil` when `text`
/// is not one.
public func normalizedIPAddress(_ text: some StringProtocol) -> String? {
    (try? SocketAddress(ipAddress: String(text), port: 0))?.ipAddress
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}
