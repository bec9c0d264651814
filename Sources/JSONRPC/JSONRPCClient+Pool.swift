import NIOCore
import NIOPosix

extension JSONRPCClient {
    /// Returns an open connection from the pool, opening one if the next slot has none.
    ///
    /// Callers that find a slot being opened wait for the same attempt. A failed attempt leaves the
    /// slot empty, so the next call tries again: there is no background reconnect loop.
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
            throw JSONRPCClientError.unavailable("the client is shut down")
        case .use(let channel):
            return channel
        case .wait(let pending):
            future = pending
        case .connect(let slot, let id, let promise):
            self.configuration.logger.debug("connecting", metadata: ["jsonrpc.address": "\(self.address)"])
            promise.futureResult.whenComplete { result in
                self.connectFinished(slot: slot, id: id, result: result)
            }
            self.makeChannel().cascade(to: promise)
            future = promise.futureResult
        }
        do {
            return try await future.get()
        } catch {
            throw JSONRPCClientError.unavailable("cannot connect to \(self.address): \(error)")
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
                metadata: ["jsonrpc.address": "\(self.address)", "error": "\(error)"]
            )
            self.state.withLock { state in
                if case .connecting(let slotID, _) = state.slots[slot], slotID == id {
                    state.slots[slot] = .idle
                }
            }
        }
    }

    private func connectionClosed(slot: Int, id: UInt64) {
        self.configuration.logger.debug("connection closed", metadata: ["jsonrpc.address": "\(self.address)"])
        self.state.withLock { state in
            if case .ready(let slotID, _) = state.slots[slot], slotID == id {
                state.slots[slot] = .idle
            }
        }
    }

    private func makeChannel() -> EventLoopFuture<any Channel> {
        let maximumMessageLength = self.configuration.maximumMessageLength
        let logger = self.configuration.logger
        let idleTimeout = TimeAmount(self.configuration.idleTimeout)
        return ClientBootstrap(group: self.eventLoopGroup)
            .connectTimeout(TimeAmount(self.configuration.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(JSONValueFrameDecoder(maximumFrameLength: maximumMessageLength))
                    )
                    try channel.pipeline.syncOperations.addHandler(JSONRPCClientHandler(logger: logger, idleTimeout: idleTimeout))
                }
            }
            .connect(host: self.configuration.host, port: self.configuration.port)
    }
}
