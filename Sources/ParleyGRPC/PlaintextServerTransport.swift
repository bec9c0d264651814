import GRPCNIOTransportHTTP2

/// The server transport every Parley gRPC server uses: plain-text HTTP/2 (loopback or a private
/// network) on an IPv4 or IPv6 address, with a request size limit and a grace period for the
/// calls in flight at shutdown.
public enum PlaintextServerTransport {
    /// A transport listening on `host` (an IPv4 or IPv6 address; `localhost` means `127.0.0.1`)
    /// and `port` (0 picks a free one); and the host as used.
    public static func make(host: String, port: Int, maxRequestBytes: Int, gracePeriod: Duration) -> (
        host: String, transport: HTTP2ServerTransport.Posix
    ) {
        let host = host == "localhost" ? "127.0.0.1" : host
        let address: GRPCNIOTransportCore.SocketAddress =
            host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port)
        let transport = HTTP2ServerTransport.Posix(
            address: address,
            transportSecurity: .plaintext,
            config: .defaults { config in
                config.rpc.maxRequestPayloadSize = maxRequestBytes
                config.connection.maxGraceTime = gracePeriod
            }
        )
        return (host, transport)
    }
}
