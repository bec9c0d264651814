import Hummingbird
import ParleyCore

/// The per-request context of the gateway: the body limit every route shares.
public struct GatewayContext: RequestContext {
    /// Hummingbird's own per-request storage.
    public var coreContext: CoreRequestContextStorage

    /// Creates the context for a new request.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// Request bodies over 64 KiB are refused with 413 before they are decoded.
    public var maxUploadSize: Int { Limits.requestBodyBytes }
}
