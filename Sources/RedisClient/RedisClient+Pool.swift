import NIOCore
import NIOPosix

extension RedisClient {
    /// Returns a ready connection from the pool, opening one if the next slot has none.
    ///
    /// Callers that find a slot being opened wait for the same attempt, so at most ``Configuration/poolSize``
    /// attempts run at once. A failed attempt leaves the slot empty and the next command tries again:
    /// there is no background reconnect loop.
    func connection() async throws -> any Channel {
        let action = self.state.withLock { state -> ConnectionAction in
            guard !state.isShutdown else {
                return .shutDown
            }
            let index = state.nextSlot
            state.nextSlot = (state.nextSlot + 1) % state.slots.count
            switch state.slots[index] {
            case .ready(_, let channel) where channel.isActive:
                return .use(channel)
            case .connecting(_, let future):
                return .wait(future)
            case .idle, .ready:
                state.nextConnectionID += 1
                let promise = self.eventLoopGroup.any().makePromise(of: (any Channel).self)
                state.slots[index] = .connecting(id: state.nextConnectionID, promise.futureResult)
                return .connect(slot: index, id: state.nextConnectionID, promise)
            }
        }

        let future: EventLoopFuture<any Channel>
        switch action {
        case .shutDown:
            throw RedisClientError.closed("the client is shut down")
        case .use(let channel):
            return channel
        case .wait(let pending):
            future = pending
        case .connect(let slot, let id, let promise):
            self.configuration.logger.debug("connecting", metadata: ["redis.address": "\(self.address)"])
            promise.futureResult.whenComplete { result in
                self.connectFinished(slot: slot, id: id, result: result)
            }
            self.makeConnection().cascade(to: promise)
            future = promise.futureResult
        }
        do {
            return try await future.get()
        } catch let error as RedisClientError {
            throw error
        } catch {
            throw RedisClientError.connectionFailed("cannot connect to \(self.address): \(error)")
        }
    }

    private func connectFinished(slot: Int, id: UInt64, result: Result<any Channel, any Error>) {
        switch result {
        case .success(let channel):
            let kept = self.state.withLock { state -> Bool in
                guard case .connecting(let slotID, _) = state.slots[slot], slotID == id else {
                    return false
                }
                state.slots[slot] = .ready(id: id, channel)
                return true
            }
            guard kept else {
                // The client was shut down while connecting.
                channel.close(promise: nil)
                return
            }
            channel.closeFuture.whenComplete { [weak self] _ in
                self?.connectionClosed(slot: slot, id: id)
            }
        case .failure(let error):
            self.configuration.logger.debug(
                "cannot connect",
                metadata: ["redis.address": "\(self.address)", "error": "\(error)"]
            )
            self.state.withLock { state in
                if case .connecting(let slotID, _) = state.slots[slot], slotID == id {
                    state.slots[slot] = .idle
                }
            }
        }
    }

    private func connectionClosed(slot: Int, id: UInt64) {
        self.configuration.logger.debug("connection closed", metadata: ["redis.address": "\(self.address)"])
        self.state.withLock { state in
            if case .ready(let slotID, _) = state.slots[slot], slotID == id {
                state.slots[slot] = .idle
            }
        }
    }

    /// Opens a TCP connection, then sends the handshake (`AUTH`/`HELLO 3`, `SELECT`) and checks
    /// every reply; a refused handshake closes the connection and fails with the server's error.
    private func makeConnection() -> EventLoopFuture<any Channel> {
        let limits = self.configuration.replyLimits
        let logger = self.configuration.logger
        let address = self.address
        let handshake = self.configuration.handshake
        let timeout = TimeAmount(self.configuration.commandTimeout)
        return ClientBootstrap(group: self.eventLoopGroup)
            .connectTimeout(TimeAmount(self.configuration.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPReplyDecoder(limits: limits)))
                    try channel.pipeline.syncOperations.addHandler(RedisConnectionHandler(address: address, logger: logger))
                }
            }
            .connect(host: self.configuration.host, port: self.configuration.port)
            .flatMap { channel in
                guard !handshake.isEmpty else {
                    return channel.eventLoop.makeSucceededFuture(channel)
                }
                let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
                return Self.write(handshake, name: "the connection setup", timeout: timeout, on: channel, promise: promise)
                    .flatMapThrowing { replies -> any Channel in
                        try Self.checkHandshake(replies, commands: handshake, address: address)
                        return channel
                    }
                    .flatMapError { error in
                        channel.close(promise: nil)
                        let failure = (error as? NotSentError)?.underlying ?? error
                        return channel.eventLoop.makeFailedFuture(failure)
                    }
            }
    }

    /// Throws the first error reply of the handshake, naming the step that failed.
    private static func checkHandshake(_ replies: [RESPValue], commands: [RESPCommand], address: String) throws {
        for (command, reply) in zip(commands, replies) {
            guard case .error(let message) = reply else {
                continue
            }
            let detail: String
            switch command.name {
            case "AUTH":
                detail = "authentication failed at \(address)"
            case "HELLO":
                detail = message.hasPrefix("NOPROTO")
                    ? "\(address) does not speak RESP3 (HELLO 3 refused)"
                    : "authentication failed at \(address) (HELLO 3)"
            default:
                detail = "\(command.name) failed at \(address)"
            }
            throw RedisClientError(code: .server(message), detail: detail)
        }
    }
}
