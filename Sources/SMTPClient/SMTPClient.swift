import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A client that sends mail through one SMTP server (RFC 5321), over SwiftNIO.
///
/// Each ``send(_:)`` opens a connection, reads the greeting, says EHLO (HELO if the server does not
/// know EHLO), upgrades with STARTTLS when configured, authenticates with AUTH PLAIN or LOGIN when
/// credentials are configured, sends the envelope and the message, and says QUIT. A failure throws an
/// ``SMTPError`` naming the stage and the server's reply, such as
/// `the server refused RCPT TO <x@y>: 550 5.1.1 no such user`.
///
/// Safe to use from many tasks at once; sends do not share connections.
public final class SMTPClient: Sendable {
    /// The configuration the client was created with.
    public let configuration: Configuration
    private let eventLoopGroup: any EventLoopGroup
    /// The TLS context, built on first use and kept.
    private let tlsContext = Mutex<NIOSSLContext?>(nil)

    /// Creates a client; nothing is connected before the first send.
    ///
    /// - Parameters:
    ///   - configuration: The server, its security, the credentials and the timeouts.
    ///   - eventLoopGroup: The event loops for network I/O.
    public init(
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
    }

    /// Sends `message` to all its recipients, or to none.
    ///
    /// Returns once the server has accepted the message (its reply to the final dot); QUIT follows
    /// in the background. If the server refuses any recipient, nothing is sent.
    ///
    /// - Throws: ``SMTPError``, or `CancellationError` if the calling task is cancelled.
    public func send(_ message: Email) async throws {
        let configuration = self.configuration
        try Self.validate(configuration)
        let tls = try self.tlsSetup()
        let settings = SMTPStateMachine.Settings(
            security: configuration.security,
            credentials: configuration.credentials,
            allowsInsecureAuthentication: configuration.allowsInsecureAuthentication,
            heloName: configuration.heloName,
            sender: message.from.address,
            recipients: message.to.map(\.address)
        )
        let payload = SMTPDataEncoder.encode(message.rendered().utf8)
        var logger = configuration.logger
        logger[metadataKey: "smtp.server"] = "\(configuration.host):\(configuration.port)"
        logger[metadataKey: "smtp.message_id"] = "\(message.messageID)"

        let result = self.eventLoopGroup.any().makePromise(of: Void.self)
        let channel: any Channel
        do {
            channel = try await self.connect(settings: settings, payload: payload, tls: tls, result: result, logger: logger)
        } catch {
            result.fail(CancellationError())  // never awaited; completes the promise
            throw self.connectError(error)
        }
        logger.debug("connected", metadata: ["smtp.recipients": "\(settings.recipients.count)"])
        do {
            try await withTaskCancellationHandler {
                try await result.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            if Task.isCancelled {
                throw CancellationError()
            }
            logger.debug("send failed", metadata: ["error": "\(error)"])
            throw error
        }
        logger.debug("message accepted")
    }

    private func connect(
        settings: SMTPStateMachine.Settings,
        payload: ByteBuffer,
        tls: SMTPClientHandler.TLSSetup?,
        result: EventLoopPromise<Void>,
        logger: Logger
    ) async throws -> any Channel {
        let configuration = self.configuration
        let implicitTLS = configuration.security == .tls ? tls : nil
        let startTLS = configuration.security == .tls ? nil : tls
        return try await ClientBootstrap(group: self.eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let implicitTLS {
                        let handler = try NIOSSLClientHandler(context: implicitTLS.context, serverHostname: implicitTLS.serverName)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    let handler = SMTPClientHandler(
                        settings: settings,
                        message: payload,
                        startTLS: startTLS,
                        commandTimeout: configuration.commandTimeout,
                        result: result,
                        logger: logger
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .get()
    }

    /// The TLS context and server name, or `nil` when the connection stays in plain text.
    private func tlsSetup() throws -> SMTPClientHandler.TLSSetup? {
        guard self.configuration.security != .none else {
            return nil
        }
        let tls = self.configuration.tls
        let context = try self.tlsContext.withLock { cached -> NIOSSLContext in
            if let cached {
                return cached
            }
            do {
                let context = try tls.makeContext()
                cached = context
                return context
            } catch {
                var detail = "cannot set up TLS: \(SMTPError.reason(for: error))"
                if case .pemFile(let path) = tls.trustRoots {
                    detail = "cannot load the trust roots from \(path): \(SMTPError.reason(for: error))"
                }
                throw SMTPError(kind: .tlsFailed, stage: .connect, detail: detail)
            }
        }
        return SMTPClientHandler.TLSSetup(context: context, serverName: tls.verifiedName(host: self.configuration.host))
    }

    /// Rejects values that would corrupt the conversation, before anything is sent.
    private static func validate(_ configuration: Configuration) throws {
        let name = configuration.heloName
        guard !name.isEmpty, name.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw SMTPError(
                kind: .invalidConfiguration, stage: .hello,
                detail: "invalid HELO name \"\(name)\": it must be printable ASCII without spaces"
            )
        }
        if let credentials = configuration.credentials,
            credentials.username.utf8.contains(0) || credentials.password.utf8.contains(0)
        {
            throw SMTPError(
                kind: .invalidConfiguration, stage: .authentication,
                detail: "the user name or password contains a NUL character"
            )
        }
    }

    /// Turns a bootstrap failure into an ``SMTPError``.
    private func connectError(_ error: any Error) -> any Error {
        let server = "\(self.configuration.host):\(self.configuration.port)"
        if let error = error as? SMTPError {
            return error
        }
        if case ChannelError.connectTimeout = error {
            return SMTPError(
                kind: .timeout, stage: .connect,
                detail: "cannot connect to \(server): no connection within \(self.configuration.connectTimeout)"
            )
        }
        var reason = "\(error)"
        if let error = error as? NIOConnectionError {
            if let dnsError = error.dnsAError ?? error.dnsAAAAError {
                reason = "cannot resolve the host name (\(dnsError))"
            } else if let first = error.connectionErrors.first {
                reason = SMTPError.reason(for: first.error)
            }
        } else {
            reason = SMTPError.reason(for: error)
        }
        return SMTPError(kind: .connectionFailed, stage: .connect, detail: "cannot connect to \(server): \(reason)")
    }
}
