import Logging
import Metrics
import NIOCore
import NIOServerSupport

extension ContactsReplica {
    /// Accepts connections until the listening socket closes, each served in its own task.
    func acceptConnections(_ server: NIOAsyncChannel<AcceptedConnection<[ContactsReplicaInbound], ByteBuffer>, Never>) async {
        do {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask {
                            await self.handleConnection(connection.take())
                        }
                    }
                }
            }
        } catch is CancellationError {
            // Shutting down.
        } catch {
            self.logger.error("stopped accepting connections", metadata: ["error": "\(error)"])
        }
    }

    /// Serves one accepted connection, a client or a peer, until it ends. Bad input closes
    /// it and is logged with the remote address; nothing of a bad frame is applied.
    func handleConnection(_ connection: NIOAsyncChannel<[ContactsReplicaInbound], ByteBuffer>) async {
        let channel = connection.channel
        var logger = self.logger
        logger[metadataKey: "contacts.remote"] = "\(channel.remoteAddress?.description ?? "?")"
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withTaskCancellationHandler {
                    var batches = inbound.makeAsyncIterator()
                    guard var first = try await batches.next(), !first.isEmpty else {
                        return
                    }
                    guard case .greeting(let greeting) = first.removeFirst() else {
                        throw ContactsFrameError.unexpected("frame before the greeting")
                    }
                    switch greeting {
                    case .client(let user):
                        logger[metadataKey: "contacts.user"] = "\(user)"
                        try await self.serveClient(user: user, first: first, batches: &batches, outbound: outbound)
                    case .server(let name):
                        var answer = channel.allocator.buffer(capacity: ContactsField.connectName.width)
                        answer.writeContactsField(self.name, .connectName)
                        try await outbound.write(answer)
                        try await self.runPeerLink(
                            peer: name.string, dialed: false, channel: channel, first: first, batches: &batches,
                            outbound: outbound, logger: logger
                        ) { inbound in
                            if case .peer(let frame) = inbound { frame } else { nil }
                        }
                    }
                } onCancel: {
                    channel.close(promise: nil)
                }
            }
        } catch let error as ContactsFrameError {
            self.reject(error, logger: logger)
        } catch {
            logger.debug("connection closed with an error", metadata: ["error": "\(error)"])
        }
    }

    /// Logs bad input (with the remote address already in `logger`) and counts it.
    func reject(_ error: ContactsFrameError, logger: Logger) {
        Counter(label: "contacts_bad_frames_total", dimensions: [("replica", self.configuration.name)]).increment()
        switch error {
        case .peerSilent:
            logger.notice("peer is down: closing its link", metadata: ["contacts.reason": "\(error)"])
        default:
            logger.notice("bad input: closing the connection", metadata: ["contacts.reason": "\(error)"])
        }
    }

    /// Applies a client's frames in order, a batch at a time; ListAll answers once the
    /// changes before it are written.
    private func serveClient<Batches: AsyncIteratorProtocol>(
        user: ContactsText,
        first: [ContactsReplicaInbound],
        batches: inout Batches,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws where Batches.Element == [ContactsReplicaInbound] {
        var batch = first
        while true {
            var changes: [(contact: ContactsText, phone: ContactsText?)] = []
            for inbound in batch {
                guard case .client(let message) = inbound else {
                    throw ContactsFrameError.unexpected("peer frame on a client connection")
                }
                switch message {
                case .update(let contact, let phone):
                    changes.append((contact, phone))
                case .delete(let contact):
                    changes.append((contact, nil))
                case .listAll:
                    if !changes.isEmpty {
                        await self.core.localChanges(user: user, changes)
                        changes = []
                    }
                    let reply = ContactsListReply(entries: await self.core.contacts(of: user))
                    var buffer = ByteBuffer()
                    buffer.reserveCapacity(4 + reply.entries.count * ContactsListEntry.length)
                    buffer.writeContactsListReply(reply)
                    try await outbound.write(buffer)
                }
            }
            if !changes.isEmpty {
                await self.core.localChanges(user: user, changes)
            }
            guard let next = try await batches.next() else {
                return
            }
            batch = next
        }
    }
}
