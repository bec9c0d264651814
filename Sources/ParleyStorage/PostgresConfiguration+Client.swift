import Foundation
import NIOSSL
import PostgresNIO

extension PostgresConfiguration {
    /// The startup parameters every connection sends: the server enforces `query_timeout`
    /// itself (`statement_timeout`, in milliseconds) and shows the client's name.
    var startupParameters: [(String, String)] {
        [
            ("statement_timeout", "\(Self.milliseconds(self.queryTimeout))"),
            ("application_name", "parley"),
        ]
    }

    /// The TLS settings for `tlsMode`, or `nil` for `disable`.
    ///
    /// - Throws: `PostgresConnectError` when `sslrootcert` cannot be read.
    func makeTLSConfiguration() throws -> TLSConfiguration? {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch self.tlsMode {
        case .disable:
            return nil
        case .prefer:
            tls.certificateVerification = .none
        case .require:
            // As libpq: with a root certificate given, `require` checks the chain (verify-ca).
            tls.certificateVerification = self.rootCertificatePath == nil ? .none : .noHostnameVerification
        case .verifyCA:
            tls.certificateVerification = .noHostnameVerification
        case .verifyFull:
            tls.certificateVerification = .fullVerification
        }
        if let path = self.rootCertificatePath, self.tlsMode != .prefer {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
            } catch {
                throw PostgresConnectError(
                    location: self.redacted,
                    reason: "cannot read the root certificate (sslrootcert) \(path): \(error)"
                )
            }
        }
        return tls
    }

    /// The configuration of the pool (`PostgresClient`).
    func makeClientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch (self.tlsMode, try self.makeTLSConfiguration()) {
        case (_, nil): tls = .disable
        case (.prefer, let configuration?): tls = .prefer(configuration)
        case (_, let configuration?): tls = .require(configuration)
        }
        var configuration = PostgresClient.Configuration(
            host: self.host,
            port: self.port,
            username: self.username,
            password: self.password,
            database: self.database,
            tls: tls
        )
        configuration.options.connectTimeout = self.connectTimeout
        configuration.options.maximumConnections = self.poolSize
        configuration.options.minimumConnections = 0
        configuration.options.additionalStartupParameters = self.startupParameters
        return configuration
    }

    /// The configuration of a single connection, used to check the settings when opening.
    func makeConnectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch (self.tlsMode, try self.makeTLSConfiguration()) {
        case (_, nil):
            tls = .disable
        case (let mode, let configuration?):
            let context: NIOSSLContext
            do {
                context = try NIOSSLContext(configuration: configuration)
            } catch {
                throw PostgresConnectError(location: self.redacted, reason: "cannot set up TLS: \(error)")
            }
            tls = mode == .prefer ? .prefer(context) : .require(context)
        }
        var configuration = PostgresConnection.Configuration(
            host: self.host,
            port: self.port,
            username: self.username,
            password: self.password,
            database: self.database,
            tls: tls
        )
        configuration.options.connectTimeout = .milliseconds(Self.milliseconds(self.connectTimeout))
        configuration.options.additionalStartupParameters = self.startupParameters
        return configuration
    }
}
