import Hummingbird
import NIOCore
import ParleyCore

/// The per-request context of the gateway: the body limit every route shares.
public struct GatewayContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's own per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The client's end of the connection: the per-address limits of codes and failed logins
    /// count against its IP address.
    public let remoteAddress: SocketAddress?
    /// The client's address as a trusted proxy forwarded it (`ForwardedClientMiddleware`).
    public var forwardedClientAddress: String?

    /// Creates the context for a new request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Request bodies over 64 KiB are refused with 413 before they are decoded.
    public var maxUploadSize: Int { Limits.requestBodyBytes }
}

extension RequestContext {
    /// The IP address of the client, when the context knows it: as forwarded by a trusted proxy,
    /// else the connection's peer.
    var clientAddress: String? {
        (self as? GatewayContext)?.forwardedClientAddress ?? (self as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress
    }
}
