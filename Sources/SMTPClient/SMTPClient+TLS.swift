import NIOCore
import NIOSSL

extension SMTPClient {
    /// How the server's certificate is checked.
    public struct TLS: Hashable, Sendable {
        /// Where the certificate authorities come from.
        public enum TrustRoots: Hashable, Sendable {
            /// The operating system's trust store.
            case system
            /// The certificates in a PEM file, and only those (such as a private CA or a test
            /// server's self-signed certificate).
            case pemFile(String)
        }

        /// Whether the server's certificate is checked.
        public enum CertificateVerification: Hashable, Sendable {
            /// The chain must lead to a trust root and the certificate must name the server.
            case full
            /// No check at all: anyone on the path can read the mail and the credentials. For
            /// tests only.
            case disabledInsecure
        }

        /// Where the certificate authorities come from.
        public var trustRoots: TrustRoots
        /// Whether the server's certificate is checked; ``CertificateVerification/full`` unless
        /// turned off explicitly.
        public var certificateVerification: CertificateVerification
        /// The name the certificate must carry, also sent as SNI; `nil` for the configured host.
        /// Set it when connecting by address to a server whose certificate names a host.
        ///
        /// NIOSSL also accepts a certificate that names the IP address connected to.
        public var serverName: String?

        /// Creates TLS settings; by default the system's trust roots with full verification.
        public init(
            trustRoots: TrustRoots = .system,
            certificateVerification: CertificateVerification = .full,
            serverName: String? = nil
        ) {
            self.trustRoots = trustRoots
            self.certificateVerification = certificateVerification
            self.serverName = serverName
        }

        /// Builds the NIOSSL context these settings describe.
        func makeContext() throws -> NIOSSLContext {
            var configuration = TLSConfiguration.makeClientConfiguration()
            switch self.trustRoots {
            case .system:
                configuration.trustRoots = .default
            case .pemFile(let path):
                configuration.trustRoots = .file(path)
            }
            switch self.certificateVerification {
            case .full:
                configuration.certificateVerification = .fullVerification
            case .disabledInsecure:
                configuration.certificateVerification = .none
            }
            return try NIOSSLContext(configuration: configuration)
        }

        /// The name to send as SNI and check against the certificate, or `nil` when it is an IP
        /// address (SNI carries host names only; NIOSSL then checks the peer's address).
        func verifiedName(host: String) -> String? {
            let name = self.serverName ?? host
            if (try? SocketAddress(ipAddress: name, port: 0)) != nil {
                return nil
            }
            return name
        }
    }
}
