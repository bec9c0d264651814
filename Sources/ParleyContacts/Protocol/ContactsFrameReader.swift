import NIOCore

/// Splits a byte stream into frames of one side of the contacts protocol, keeping its read
/// state between reads; ``ContactsFrameDecoder`` runs one in a channel pipeline.
public protocol ContactsFrameReader {
    /// What the reader produces.
    associatedtype Frame: Sendable

    /// Returns the next whole frame and consumes it, or `nil` when more bytes are needed
    /// (bytes of an unfinished frame may be consumed into the read state).
    mutating func next(from buffer: inout ByteBuffer) throws(ContactsFrameError) -> Frame?

    /// Whether the reader is inside a frame: it has consumed part of one, or the connection
    /// owes a frame at once (a greeting, a greeting's answer).
    var isMidFrame: Bool { get }

    /// Whether the stream is a peer link, where silence means the peer is down.
    var isPeerLink: Bool { get }
}

extension ContactsFrameReader {
    /// Not a peer link.
    public var isPeerLink: Bool { false }
}

/// Reads the frames a client sends a replica after its greeting: Update, Delete, ListAll.
public struct ContactsClientFrameReader: ContactsFrameReader, Sendable {
    enum ReadState: Sendable {
        case type
        case body(ContactsClientMessage.Kind)
    }

    private var state = ReadState.type

    /// Creates a reader waiting for a frame's type byte.
    public init() {}

    /// Whether a type byte has been read and its body not yet.
    public var isMidFrame: Bool {
        if case .body = self.state { true } else { false }
    }

    /// The next client frame; an unknown type or an invalid field throws.
    public mutating func next(from buffer: inout ByteBuffer) throws(ContactsFrameError) -> ContactsClientMessage? {
        if case .type = self.state {
            guard let byte = buffer.readInteger(as: UInt8.self) else {
                return nil
            }
            guard let kind = ContactsClientMessage.Kind(rawValue: byte) else {
                throw .unknownType(byte)
            }
            self.state = .body(kind)
        }
        guard case .body(let kind) = self.state, var body = buffer.readSlice(length: kind.bodyLength) else {
            return nil
        }
        self.state = .type
        return try ContactsClientMessage.parse(kind, body: &body)
    }
}

/// Reads a peer link: optionally first the 256-byte name answering our greeting, then peer
/// frames. An Update or Delete with an invalid field comes out as ``ContactsPeerFrame/skipped(_:_:)``.
public struct ContactsPeerFrameReader: ContactsFrameReader, Sendable {
    enum ReadState: Sendable {
        case name
        case type
        case body(ContactsPeerMessage.Kind)
    }

    private var state: ReadState

    /// Creates a reader.
    ///
    /// - Parameter expectingName: `true` on a link this replica dialed, where the peer first
    ///   answers the greeting with its 256-byte name.
    public init(expectingName: Bool = false) {
        self.state = expectingName ? .name : .type
    }

    /// Whether the name answer is owed, or a type byte has been read and its body not yet.
    public var isMidFrame: Bool {
        if case .type = self.state { false } else { true }
    }

    /// Always a peer link.
    public var isPeerLink: Bool { true }

    /// The next peer frame; an unknown type throws, an invalid field is reported as skipped.
    public mutating func next(from buffer: inout ByteBuffer) throws(ContactsFrameError) -> ContactsPeerFrame? {
        switch self.state {
        case .name:
            guard buffer.readableBytes >= ContactsField.connectName.width else {
                return nil
            }
            self.state = .type
            do {
                return .name(try buffer.readContactsField(.connectName))
            } catch {
                throw .invalidField(frame: "answer to the greeting", error)
            }
        case .type:
            guard let byte = buffer.readInteger(as: UInt8.self) else {
                return nil
            }
            guard let kind = ContactsPeerMessage.Kind(rawValue: byte) else {
                throw .unknownType(byte)
            }
            self.state = .body(kind)
            return try self.next(from: &buffer)
        case .body(let kind):
            guard var body = buffer.readSlice(length: kind.bodyLength) else {
                return nil
            }
            self.state = .type
            switch ContactsPeerMessage.parse(kind, body: &body) {
            case .success(let message): return .message(message)
            case .failure(let error): return .skipped(kind, error)
            }
        }
    }
}

/// Reads a replica's answers to ListAll: ContactLen, then that many entries.
public struct ContactsListReplyReader: ContactsFrameReader, Sendable {
    enum ReadState: Sendable {
        case count
        case entries(remaining: Int, collected: [ContactsListEntry])
    }

    private var state = ReadState.count
    private let maximumCount: Int

    /// Creates a reader.
    ///
    /// - Parameter maximumCount: The most contacts a reply may announce; more throws
    ///   ``ContactsFrameError/tooManyContacts(announced:limit:)``.
    public init(maximumCount: Int = 1 << 22) {
        self.maximumCount = maximumCount
    }

    /// Whether a reply has been started and not finished.
    public var isMidFrame: Bool {
        if case .entries = self.state { true } else { false }
    }

    /// The next whole reply; an invalid field throws.
    public mutating func next(from buffer: inout ByteBuffer) throws(ContactsFrameError) -> ContactsListReply? {
        if case .count = self.state {
            guard let count = buffer.readInteger(as: UInt32.self) else {
                return nil
            }
            guard count <= self.maximumCount else {
                throw .tooManyContacts(announced: count, limit: self.maximumCount)
            }
            var collected: [ContactsListEntry] = []
            collected.reserveCapacity(min(Int(count), 4096))
            self.state = .entries(remaining: Int(count), collected: collected)
        }
        guard case .entries(var remaining, var collected) = self.state else {
            return nil
        }
        // Leave the state empty while appending, so the array is not copied.
        self.state = .entries(remaining: 0, collected: [])
        while remaining > 0, var body = buffer.readSlice(length: ContactsListEntry.length) {
            do {
                let contact = try body.readContactsField(.contactName)
                collected.append(ContactsListEntry(contact: contact, phone: try body.readContactsField(.phoneNumber)))
            } catch {
                throw .invalidField(frame: "ListAll entry", error)
            }
            remaining -= 1
        }
        if remaining > 0 {
            self.state = .entries(remaining: remaining, collected: collected)
            return nil
        }
        self.state = .count
        return ContactsListReply(entries: collected)
    }
}

/// Reads a greeting (kind byte and 256-byte name), again and again; a replica uses
/// ``ContactsReplicaFrameReader``, which reads one greeting and then the frames of its kind.
public struct ContactsGreetingReader: ContactsFrameReader, Sendable {
    /// Creates a reader.
    public init() {}

    /// Never inside a frame between calls: a greeting is read whole.
    public var isMidFrame: Bool { false }

    /// The next greeting; an unknown kind throws as soon as its byte arrives.
    public mutating func next(from buffer: inout ByteBuffer) throws(ContactsFrameError) -> ContactsGreeting? {
        guard let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else {
            return nil
        }
        guard ContactsGreeting.Kind(rawValue: byte) != nil else {
            throw .unknownGreeting(byte)
        }
        guard var body = buffer.readSlice(length: ContactsGreeting.length) else {
            return nil
        }
        return try ContactsGreeting.parse(&body)
    }
}
