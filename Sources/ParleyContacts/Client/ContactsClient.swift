import NIOCore
import NIOPosix

/// The client side of the contacts protocol: one user's contact list on a set of replicas.
///
/// Each call connects, greets as the user, sends its frames and a ListAll, and waits for the
/// reply: the replica answers ListAll only after the frames before it are applied and
/// written, so the reply confirms them. A replica that cannot be reached or does not answer
/// within the timeout is skipped for the next one.
public struct ContactsClient: Sendable {
    /// The user whose list is read and written.
    public let user: String
    /// The replicas to try, in order.
    public let servers: [(host: String, port: Int)]
    /// How long one replica gets to connect and answer.
    public let timeout: Duration
    private let eventLoopGroup: any EventLoopGroup

    /// Creates a client; nothing connects until a call.
    public init(
        user: String,
        servers: [(host: String, port: Int)],
        timeout: Duration = .seconds(2),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.user = user
        self.servers = servers
        self.timeout = timeout
        self.eventLoopGroup = eventLoopGroup
    }

    /// Sets a contact's phone number.
    ///
    /// - Throws: ``ContactsFieldError`` when a text does not fit its field (the message says
    ///   how many bytes fit) or breaks its rules; ``ContactsClientError`` when no replica answers.
    public func update(contact: String, phone: String) async throws {
        let message = ContactsClientMessage.update(
            contact: try ContactsText(contact, field: .contactName), phone: try ContactsText(phone, field: .phoneNumber)
        )
        _ = try await self.exchange([message])
    }

    /// Deletes a contact (deleting one that does not exist is not an error).
    ///
    /// - Throws: As ``update(contact:phone:)``.
    public func delete(contact: String) async throws {
        _ = try await self.exchange([.delete(contact: try ContactsText(contact, field: .contactName))])
    }

    /// The user's contacts, sorted by name bytes.
    ///
    /// - Throws: As ``update(contact:phone:)``.
    public func list() async throws -> [(name: String, phone: String)] {
        try await self.exchange([]).entries.map { (name: $0.contact.string, phone: $0.phone.string) }
    }

    /// Sends `messages` and a ListAll to the first replica that answers; returns its reply.
    ///
    /// - Throws: ``ContactsFieldError`` for an invalid user name; ``ContactsClientError``
    ///   when no replica answers.
    public func exchange(_ messages: [ContactsClientMessage]) async throws -> ContactsListReply {
        let user = try ContactsText(self.user, field: .connectName)
        guard !self.servers.isEmpty else {
            throw ContactsClientError.noServers
        }
        var request = ByteBuffer()
        request.writeContactsGreeting(.client(user: user))
        for message in messages + [.listAll] {
            request.writeContactsClientMessage(message)
        }
        var failures: [ContactsClientError.Failure] = []
        for server in self.servers {
            do {
                return try await self.exchange(request, with: server)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                failures.append(.init(server: "\(server.host):\(server.port)", reason: "\(error)"))
            }
        }
        throw ContactsClientError.unavailable(failures)
    }

    private func exchange(_ request: ByteBuffer, with server: (host: String, port: Int)) async throws -> ContactsListReply {
        let timeout = self.timeout
        let group = self.eventLoopGroup
        return try await withThrowingTaskGroup(of: ContactsListReply?.self) { tasks in
            tasks.addTask {
                let connection = try await ClientBootstrap(group: group)
                    .connectTimeout(TimeAmount(timeout))
                    .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                    .connect(host: server.host, port: server.port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                ByteToMessageHandler(ContactsListReplyDecoder(ContactsListReplyReader(), readTimeout: timeout))
                            )
                            return try NIOAsyncChannel<ContactsListReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                        }
                    }
                return try await connection.executeThenClose { inbound, outbound in
                    try await withTaskCancellationHandler {
                        try await outbound.write(request)
                        for try await reply in inbound {
                            return reply
                        }
                        throw ContactsClientError.closedWithoutAnswer
                    } onCancel: {
                        connection.channel.close(promise: nil)
                    }
                }
            }
            tasks.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { tasks.cancelAll() }
            guard let reply = try await tasks.next()! else {
                throw ContactsClientError.timedOut(timeout)
            }
            return reply
        }
    }
}

/// No contacts replica answered.
public enum ContactsClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// One replica's failure.
    public struct Failure: Hashable, Sendable {
        /// `HOST:PORT`.
        public var server: String
        /// What went wrong.
        public var reason: String
    }

    /// The client was given no replica.
    case noServers
    /// Every replica failed; each failure in the order tried.
    case unavailable([Failure])
    /// A replica did not answer in time.
    case timedOut(Duration)
    /// A replica closed the connection without answering.
    case closedWithoutAnswer

    /// A message for people.
    public var description: String {
        switch self {
        case .noServers:
            return "no contacts server given"
        case .unavailable(let failures):
            let list = failures.map { "\($0.server) (\($0.reason))" }.joined(separator: "; ")
            return "no contacts server answered: \(list)"
        case .timedOut(let timeout):
            return "no answer within \(timeout)"
        case .closedWithoutAnswer:
            return "the server closed the connection without answering"
        }
    }
}
