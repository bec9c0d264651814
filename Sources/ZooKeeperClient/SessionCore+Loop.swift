import Logging
import NIOCore
import NIOPosix

extension SessionCore {
    /// Starts the connection loop and waits until the first connection is established.
    ///
    /// - Throws: ``ZooKeeperError`` with ``ZooKeeperError/Code/connectionLoss`` when every server
    ///   failed once, ``ZooKeeperError/Code/sessionExpired`` when a resumed session is gone.
    func start() async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                self.state.withLock { state in
                    state.firstConnection = continuation
                    state.loop = Task { await self.run() }
                }
            }
        } onCancel: {
            self.abandon(reason: "connecting was cancelled")
        }
    }

    /// The connection loop: connects, waits for the connection to close, reconnects, until the
    /// session is over.
    func run() async {
        while true {
            let step = self.state.withLock { $0.machine.nextStep(now: .now()) }
            switch step {
            case .stop:
                return
            case .giveUp(let reason):
                _ = self.end(with: .connectionLoss(reason), event: .closed) { machine in
                    machine.beginClose() != .none && machine.finishClose()
                }
                return
            case .expire(let reason):
                self.expire(reason: reason)
                return
            case .backOff(let pause):
                try? await Task.sleep(for: pause)
            case .connect(let server, let request, let timeout):
                await self.connect(to: server, request: request, timeout: timeout)
            }
        }
    }

    /// One connection: open it, shake hands, serve until it closes.
    private func connect(to index: Int, request: ConnectRequest, timeout: Duration) async {
        let server = self.servers[index]
        let logger = self.logger
        var metadata: Logger.Metadata = ["zookeeper.server": "\(server)"]
        let handshake = self.eventLoop.makePromise(of: ConnectResponse.self)
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: self.eventLoop)
                .connectTimeout(TimeAmount(timeout))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ZooKeeperFrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(ZooKeeperConnectionHandler(
                            connectRequest: request,
                            handshake: handshake,
                            handshakeDeadline: deadline,
                            delegate: self,
                            logger: logger
                        ))
                    }
                }
                .connect(host: server.host, port: server.port)
                .get()
        } catch {
            handshake.fail(error)
            self.attemptFailed(server: server, reason: "\(error)")
            return
        }

        let response: ConnectResponse
        do {
            response = try await handshake.futureResult.get()
        } catch let error as ZooKeeperError where error.code == .sessionExpired {
            channel.close(promise: nil)
            self.expire(reason: "the server refused to resume the session (it expired)")
            return
        } catch {
            channel.close(promise: nil)
            self.attemptFailed(server: server, reason: "\(error)")
            return
        }

        let (established, waiters, first) = self.state.withLock { state -> (SessionStateMachine.Established, [Waiter], CheckedContinuation<Void, any Error>?) in
            let established = state.machine.established(response)
            guard established != .abandon else { return (established, [], nil) }
            state.channel = channel
            state.lastHeard = .now()
            let event: ZooKeeperSessionEvent =
                established == .connected(server: index) ? .connected(server) : .reconnected(server)
            for subscriber in state.subscribers.values { subscriber.yield(event) }
            let waiters = Array(state.waiters.values)
            state.waiters.removeAll()
            defer { state.firstConnection = nil }
            return (established, waiters, state.firstConnection)
        }
        guard established != .abandon else {
            channel.close(promise: nil)
            return
        }
        metadata["zookeeper.session"] = "\(ZooKeeperSession(id: response.sessionID, password: [], timeout: .zero).idDescription)"
        metadata["zookeeper.timeout_ms"] = "\(response.timeoutMilliseconds)"
        logger.info(established == .connected(server: index) ? "ZooKeeper session established" : "ZooKeeper session resumed", metadata: metadata)
        for waiter in waiters {
            waiter.timer.cancel()
            waiter.continuation.resume(returning: channel)
        }
        first?.resume()

        try? await channel.closeFuture.get()

        let lost = self.state.withLock { state -> Bool in
            if state.channel === channel { state.channel = nil }
            let lost = state.machine.connectionLost(lastHeard: state.lastHeard)
            if lost {
                for subscriber in state.subscribers.values { subscriber.yield(.disconnected) }
            }
            return lost
        }
        if lost {
            logger.warning("lost the connection to ZooKeeper; trying the servers again", metadata: metadata)
        }
    }

    private func attemptFailed(server: ZooKeeperClient.Server, reason: String) {
        self.logger.debug("could not connect to ZooKeeper", metadata: ["zookeeper.server": "\(server)", "zookeeper.reason": "\(reason)"])
        self.state.withLock { $0.machine.attemptFailed(reason: "\(server): \(reason)") }
    }

    // MARK: - Closing

    /// Closes the session: sends `closeSession` when connected (the server deletes the ephemeral
    /// znodes at once), then ends everything and waits for the loop to stop.
    func close() async {
        let (action, channel) = self.state.withLock { state in
            (state.machine.beginClose(), state.channel)
        }
        guard action != .none else { return }
        if action == .sendCloseSession, let channel {
            let reply = channel.eventLoop.makePromise(of: ZooKeeperReply.self)
            let request = ZooKeeperOutboundRequest(
                request: .closeSession,
                watch: nil,
                deadline: .now() + TimeAmount(self.configuration.requestTimeout),
                reply: reply
            )
            channel.writeAndFlush(request).whenFailure { reply.fail($0) }
            _ = try? await reply.futureResult.get()
        }
        let ended = self.end(with: .sessionExpired("the client was closed"), event: .closed) { $0.finishClose() }
        ended?.channel?.close(promise: nil)
        ended?.loop?.cancel()
        await ended?.loop?.value
        self.logger.debug("ZooKeeper client closed")
    }

    /// Ends the session at once without telling the server (the client was dropped or connecting
    /// was cancelled); the server expires the session after its timeout.
    func abandon(reason: String) {
        let ended = self.end(with: .sessionExpired(reason), event: .closed) { machine in
            machine.beginClose() != .none && machine.finishClose()
        }
        ended?.channel?.close(promise: nil)
        ended?.loop?.cancel()
    }
}
