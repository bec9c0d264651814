import NIOCore

/// What a replica reads on a connection it accepted.
public enum ContactsReplicaInbound: Hashable, Sendable {
    /// The connection's first frame.
    case greeting(ContactsGreeting)
    /// A frame from a client, after a client greeting.
    case client(ContactsClientMessage)
    /// A frame from a peer replica, after a server greeting.
    case peer(ContactsPeerFrame)
}

/// Reads a connection a replica accepted: the greeting, then client or peer frames
/// depending on its kind.
public struct ContactsReplicaFrameReader: ContactsFrameReader, Sendable {
    enum ReadState: Sendable {
        case greeting(ContactsGreetingReader)
        case client(ContactsClientFrameReader)
        case peer(ContactsPeerFrameReader)
    }

    private var state = ReadState.greeting(ContactsGreetingReader())

    /// Creates a reader waiting for the greeting.
    public init() {}

    /// The greeting is owed from the start; afterwards, as the client or peer reader says.
    public var isMidFrame: Bool {
        switch self.state {
        case .greeting: true
        case .client(let reader): reader.isMidFrame
        case .peer(let reader): reader.isMidFrame
        }
    }

    /// Whether the greeting said a peer replica is connecting.
    public var isPeerLink: Bool {
        if case .peer = self.state { true } else { false }
    }

    /// The next frame.
    public mutating func next(from buffer: inout ByteBuffer) throws(ContactsFrameError) -> ContactsReplicaInbound? {
        switch self.state {
        case .greeting(var reader):
            guard let greeting = try reader.next(from: &buffer) else {
                return nil
            }
            switch greeting {
            case .server: self.state = .peer(ContactsPeerFrameReader())
            case .client: self.state = .client(ContactsClientFrameReader())
            }
            return .greeting(greeting)
        case .client(var reader):
            defer { self.state = .client(reader) }
            return try reader.next(from: &buffer).map { .client($0) }
        case .peer(var reader):
            defer { self.state = .peer(reader) }
            return try reader.next(from: &buffer).map { .peer($0) }
        }
    }
}
