import Logging
import NIOCore
import NIOSSL

/// Runs one SMTP conversation on one connection: decodes replies, feeds them to an
/// ``SMTPStateMachine``, carries out its actions, and enforces the command timeout.
///
/// Lives on the channel's event loop, last in the pipeline (after the TLS handler, if any). It
/// decodes replies itself rather than behind a `ByteToMessageHandler`, so that at STARTTLS it can
/// see whether the server sent anything after its 220: such bytes arrived in plain text and would
/// otherwise be read as if they came over TLS (a command injection), so the send fails instead.
final class SMTPClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What the handler needs to set up TLS after STARTTLS.
    struct TLSSetup: Sendable {
        var context: NIOSSLContext
        var serverName: String?
    }

    private var stateMachine: SMTPStateMachine
    private var decoder: SMTPReplyDecoder
    private var buffer: ByteBuffer?
    /// The dot-stuffed message with its final dot.
    private let message: ByteBuffer
    private let startTLS: TLSSetup?
    private let commandTimeout: Duration
    private let result: EventLoopPromise<Void>
    private var isResultReported = false
    private var timer: Scheduled<Void>?
    private let logger: Logger

    /// Creates a handler.
    ///
    /// - Parameters:
    ///   - settings: The conversation's settings.
    ///   - message: The dot-stuffed message with its final dot (see ``SMTPDataEncoder``).
    ///   - startTLS: The TLS context for STARTTLS, if the security is ``SMTPClient/Configuration/Security/startTLS(required:)``.
    ///   - commandTimeout: How long to wait for each reply.
    ///   - result: Succeeded when the server accepts the message, failed with an ``SMTPError`` otherwise.
    ///   - logger: The logger.
    init(
        settings: SMTPStateMachine.Settings,
        message: ByteBuffer,
        startTLS: TLSSetup?,
        commandTimeout: Duration,
        result: EventLoopPromise<Void>,
        logger: Logger
    ) {
        self.stateMachine = SMTPStateMachine(settings: settings)
        self.decoder = SMTPReplyDecoder()
        self.message = message
        self.startTLS = startTLS
        self.commandTimeout = commandTimeout
        self.result = result
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            self.armTimer(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.cancelTimer()
        self.report(.failure(SMTPError(kind: .connectionFailed, stage: self.stateMachine.stage, detail: "the connection was torn down")))
    }

    func channelActive(context: ChannelHandlerContext) {
        self.armTimer(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.cancelTimer()
        if let error = self.stateMachine.connectionClosed() {
            self.report(.failure(error))
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = Self.unwrapInboundIn(data)
        if self.buffer == nil {
            self.buffer = incoming
        } else {
            self.buffer!.writeBuffer(&incoming)
        }
        replies: while true {
            let reply: SMTPReply?
            do {
                reply = try self.decoder.nextReply(from: &self.buffer!)
            } catch {
                self.perform(self.stateMachine.errorCaught(.invalidReply, reason: "\(error)"), context: context)
                return
            }
            guard let reply else {
                break
            }
            self.cancelTimer()
            self.logger.trace("reply", metadata: ["smtp.reply": "\(reply)"])
            let action = self.stateMachine.replyReceived(reply)
            self.perform(action, context: context)
            switch action {
            case .send, .sendMessage, .delivered:
                continue
            case .startTLS, .fail, .close, .none:
                break replies
            }
        }
        if self.buffer?.readableBytes == 0 {
            self.buffer = nil
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = SMTPError.reason(for: error)
        let action: SMTPStateMachine.Action
        if SMTPError.isTLSError(error) {
            action = self.stateMachine.errorCaught(.tlsFailed, reason: reason)
        } else {
            action = self.stateMachine.errorCaught(.connectionFailed, reason: reason)
        }
        self.perform(action, context: context)
    }

    // MARK: - Actions

    private func perform(_ action: SMTPStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .send(let command):
            self.send(command, context: context)
        case .sendMessage:
            self.logger.trace("sending the message", metadata: ["smtp.bytes": "\(self.message.readableBytes)"])
            context.writeAndFlush(Self.wrapOutboundOut(self.message), promise: nil)
            self.armTimer(context: context)
        case .startTLS(let command):
            self.beginTLS(then: command, context: context)
        case .delivered:
            self.report(.success(()))
            self.send(.quit, context: context)
        case .fail(let error, let sendQuit):
            self.cancelTimer()
            self.report(.failure(error))
            if sendQuit {
                // Written at once when the socket takes it; dropped by the close if it does not.
                context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: SMTPCommand.quit.line)), promise: nil)
            }
            context.close(promise: nil)
        case .close:
            self.cancelTimer()
            context.close(promise: nil)
        case .none:
            break
        }
    }

    private func send(_ command: SMTPCommand, context: ChannelHandlerContext) {
        self.logger.trace("command", metadata: ["smtp.command": "\(command)"])
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: command.line)), promise: nil)
        self.armTimer(context: context)
    }

    /// Puts TLS in front of the connection after the server's 220 to STARTTLS, then sends `command`;
    /// NIOSSL holds it back until the handshake is done, and a failed handshake arrives in
    /// ``errorCaught(context:error:)``.
    private func beginTLS(then command: SMTPCommand, context: ChannelHandlerContext) {
        if let buffered = self.buffer, buffered.readableBytes > 0 {
            let reason = "the server sent \(buffered.readableBytes) bytes in plain text after agreeing to STARTTLS"
            self.perform(self.stateMachine.errorCaught(.tlsFailed, reason: reason), context: context)
            return
        }
        guard let setup = self.startTLS else {
            preconditionFailure("STARTTLS without a TLS context")
        }
        do {
            let handler = try NIOSSLClientHandler(context: setup.context, serverHostname: setup.serverName)
            try context.pipeline.syncOperations.addHandler(handler, position: .first)
        } catch {
            let reason = "cannot start TLS: \(SMTPError.reason(for: error))"
            self.perform(self.stateMachine.errorCaught(.tlsFailed, reason: reason), context: context)
            return
        }
        self.logger.trace("TLS started")
        self.send(command, context: context)
    }

    // MARK: - Timer and result

    private func armTimer(context: ChannelHandlerContext) {
        self.cancelTimer()
        let timeout = self.commandTimeout
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) {
            self.timer = nil
            self.perform(self.stateMachine.timedOut(after: timeout), context: context)
        }
    }

    private func cancelTimer() {
        self.timer?.cancel()
        self.timer = nil
    }

    private func report(_ outcome: Result<Void, SMTPError>) {
        guard !self.isResultReported else {
            return
        }
        self.isResultReported = true
        switch outcome {
        case .success:
            self.result.succeed()
        case .failure(let error):
            self.result.fail(error)
        }
    }
}
