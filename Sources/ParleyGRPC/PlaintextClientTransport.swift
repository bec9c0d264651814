import GRPCNIOTransportHTTP2
import NIOCore
import ParleyCore

/// The client transport every Parley gRPC client uses: plain-text HTTP/2 (loopback or a
/// private network) to `host:port`, reconnecting by itself at most `maxReconnectDelay` apart
/// (grpc-swift's default backoff grows to 120 s, too slow to notice a restarted peer).
public enum PlaintextClientTransport {
    /// A transport to `host` (an IPv4 or IPv6 address, or a DNS name) and `port`.
    ///
    /// - Parameter service: The peer's name for the error, such as "verifier".
    /// - Throws: `ParleyError(.invalidInput, …)` when `host:port` cannot be a target.
    public static func make(host: String, port: Int, maxReconnectDelay: Duration, service: String) throws -> HTTP2ClientTransport.Posix {
        let target: any ResolvableTarget
        if let address = try? SocketAddress(ipAddress: host, port: port) {
            switch address {
            case .v6: target = ResolvableTargets.IPv6.ipv6(address: host, port: port)
            default: target = ResolvableTargets.IPv4.ipv4(address: host, port: port)
            }
        } else {
            target = ResolvableTargets.DNS.dns(host: host, port: port)
        }
        do {
            return try HTTP2ClientTransport.Posix(
                target: target,
                transportSecurity: .plaintext,
                config: .defaults { config in
                    config.backoff = .init(initial: .milliseconds(100), max: maxReconnectDelay, multiplier: 1.6, jitter: 0.2)
                }
            )
        } catch {
            throw ParleyError(.invalidInput, "The \(service) address \(host):\(port) is not a host and port.")
        }
    }
}
