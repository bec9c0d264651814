import Logging
import NIOCore
import NIOPosix

extension ContactsReplica {
    /// Keeps a link to `peer` up: dials, greets, runs the link, and redials with capped
    /// exponential back-off, until cancelled.
    func dial(_ peer: ContactsPeer) async {
        var logger = self.logger
        logger[metadataKey: "contacts.peer"] = "\(peer)"
        var delay = self.configuration.reconnectDelay
        var failures = 0
        while !Task.isCancelled {
            do {
                try await self.connect(to: peer, logger: logger) {
                    failures = 0
                    delay = self.configuration.reconnectDelay
                }
            } catch is CancellationError {
                return
            } catch {
                failures += 1
                let level: Logger.Level = failures == 1 ? .notice : .debug
                logger.log(level: level, "cannot reach peer", metadata: ["error": "\(error)", "contacts.attempts": "\(failures)"])
            }
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
            delay = min(delay * 2, self.configuration.maximumReconnectDelay)
        }
    }

    /// One connection to `peer`: greeting, its name in answer, then the link until it ends.
    private func connect(to peer: ContactsPeer, logger: Logger, onLinkUp: () -> Void) async throws {
        let readTimeout = self.configuration.readTimeout
        let silence = self.configuration.heartbeatInterval * 3
        let connection = try await ClientBootstrap(group: self.eventLoopGroup)
            .connectTimeout(TimeAmount(readTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: peer.host, port: peer.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(
                            ContactsPeerFrameDecoder(
                                ContactsPeerFrameReader(expectingName: true), readTimeout: readTimeout, silenceTimeout: silence
                            )
                        )
                    )
                    try channel.pipeline.syncOperations.addHandler(ContactsFrameBatcher<ContactsPeerFrame>())
                    return try NIOAsyncChannel<[ContactsPeerFrame], ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let channel = connection.channel
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withTaskCancellationHandler {
                    var greeting = channel.allocator.buffer(capacity: ContactsGreeting.length)
                    greeting.writeContactsGreeting(.server(name: self.name))
                    try await outbound.write(greeting)
                    var batches = inbound.makeAsyncIterator()
                    guard var first = try await batches.next(), !first.isEmpty, case .name(let answered) = first.removeFirst() else {
                        throw ContactsFrameError.unexpected("end of the connection before the peer's name")
                    }
                    if answered.string != peer.name {
                        logger.warning("peer answered with another name", metadata: ["contacts.answered": "\(answered)"])
                    }
                    onLinkUp()
                    logger.info("peer link up (dialed)")
                    try await self.runPeerLink(
                        peer: peer.name, dialed: true, channel: channel, first: first, batches: &batches,
                        outbound: outbound, logger: logger
                    ) { $0 }
                } onCancel: {
                    channel.close(promise: nil)
                }
            }
        } catch let error as ContactsFrameError {
            self.reject(error, logger: logger)
        }
        logger.info("peer link down (dialed)")
    }

    /// Runs one peer link, dialed or accepted: registers it for forwarding, asks for an update
    /// when dialed, answers the peer's frames, sends HeartBeats, and writes the link's queue.
    /// Returns when the link ends; the peer is unregistered.
    func runPeerLink<Batches: AsyncIteratorProtocol, Inbound>(
        peer: String,
        dialed: Bool,
        channel: any Channel,
        first: [Inbound],
        batches: inout Batches,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        logger: Logger,
        extract: (Inbound) -> ContactsPeerFrame?
    ) async throws where Batches.Element == [Inbound] {
        let outbox = ContactsOutbox(channel: channel, limit: self.configuration.peerQueueLimit)
        let id = await self.peers.register(peer: peer, outbox: outbox, dialed: dialed)
        if !dialed {
            logger.info("peer link up (accepted)", metadata: ["contacts.peer": "\(peer)"])
        }
        let interval = self.configuration.heartbeatInterval
        let result: Result<Void, any Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await buffer in outbox.frames {
                    do {
                        try await outbound.write(buffer)
                    } catch {
                        break
                    }
                    outbox.didWrite(buffer.readableBytes)
                }
            }
            group.addTask {
                for await _ in outbox.resyncs {
                    await self.sendState(to: peer, outbound: outbound, logger: logger)
                }
            }
            group.addTask {
                while (try? await Task.sleep(for: interval)) != nil {
                    var beat = ByteBuffer()
                    beat.writeContactsPeerMessage(.heartBeat(health: ContactsPeerMessage.healthy, clock: await self.core.clock))
                    _ = outbox.enqueue(beat)
                }
            }
            defer {
                outbox.finish()
                group.cancelAll()
            }
            do {
                if dialed {
                    var ask = ByteBuffer()
                    ask.writeContactsPeerMessage(.askForUpdate)
                    try await outbound.write(ask)
                }
                var batch = first
                while true {
                    var messages: [ContactsPeerMessage] = []
                    messages.reserveCapacity(batch.count)
                    for inbound in batch {
                        guard let frame = extract(inbound) else {
                            throw ContactsFrameError.unexpected("client frame on a peer link")
                        }
                        await self.handle(frame, from: peer, into: &messages, outbox: outbox, logger: logger)
                    }
                    if !messages.isEmpty {
                        await self.core.receive(messages)
                    }
                    guard let next = try await batches.next() else {
                        return .success(())
                    }
                    batch = next
                }
            } catch {
                return .failure(error)
            }
        }
        await self.peers.unregister(peer: peer, id: id)
        if !dialed {
            logger.info("peer link down (accepted)", metadata: ["contacts.peer": "\(peer)"])
        }
        try result.get()
    }

    /// Sorts one frame from a peer: changes and clocks go into `messages` for the replica's
    /// actor, AskForUpdate asks the link to send the whole state, a skipped frame is logged.
    private func handle(
        _ frame: ContactsPeerFrame,
        from peer: String,
        into messages: inout [ContactsPeerMessage],
        outbox: ContactsOutbox,
        logger: Logger
    ) async {
        switch frame {
        case .message(.askForUpdate):
            await self.peers.willSendState(to: peer)
            outbox.requestResync()
        case .message(let message):
            if let clock = message.clock, clock >= ContactsPeerMessage.clockLimit {
                logger.notice(
                    "skipped a frame from a peer: its clock leaves no room to count",
                    metadata: ["contacts.frame": "\(message)", "contacts.clock": "\(clock)", "contacts.peer": "\(peer)"]
                )
                return
            }
            messages.append(message)
        case .skipped(let kind, let error):
            logger.notice(
                "skipped an invalid frame from a peer",
                metadata: ["contacts.frame": "\(kind)", "contacts.reason": "\(error)", "contacts.peer": "\(peer)"]
            )
        case .name:
            logger.notice("skipped a second name from a peer", metadata: ["contacts.peer": "\(peer)"])
        }
    }

    /// Sends every entry (Updates for live ones, Deletes for tombstones), then a HeartBeat
    /// to mark the end, in batches of whole frames, waiting for the socket between batches.
    private func sendState(to peer: String, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, logger: Logger) async {
        let snapshot = await self.core.snapshot()
        let batchBytes = 64 * 1024
        var buffer = ByteBuffer()
        buffer.reserveCapacity(batchBytes + 1024)
        do {
            for change in snapshot.changes {
                buffer.writeContactsPeerMessage(change.peerMessage)
                if buffer.readableBytes >= batchBytes {
                    try await outbound.write(buffer)
                    buffer = ByteBuffer()
                    buffer.reserveCapacity(batchBytes + 1024)
                }
            }
            buffer.writeContactsPeerMessage(.heartBeat(health: ContactsPeerMessage.healthy, clock: snapshot.clock))
            try await outbound.write(buffer)
            logger.debug("sent the whole state", metadata: ["contacts.peer": "\(peer)", "contacts.entries": "\(snapshot.changes.count)"])
        } catch {
            logger.debug("could not send the whole state", metadata: ["contacts.peer": "\(peer)", "error": "\(error)"])
        }
    }
}
