import Hummingbird
import Logging
import Prometheus

/// Prometheus text of `registry`, for `/metrics`.
func metricsResponse(_ registry: PrometheusCollectorRegistry) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
}

/// A small HTTP server with only `/metrics` and `/healthz`, for roles that serve no HTTP of
/// their own (a backend, a contacts replica); run it in a `ServiceGroup`.
public func buildMetricsServer(
    registry: PrometheusCollectorRegistry,
    host: String,
    port: Int,
    logger: Logger,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router()
    router.get("/metrics") { _, _ in metricsResponse(registry) }
    router.get("/healthz") { _, _ in "ok\n" }
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "parley-metrics"),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
        logger: logger
    )
}
