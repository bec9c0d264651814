/// The first frame of every connection: who connects (1 byte) and its name (256 bytes).
public enum ContactsGreeting: Hashable, Sendable {
    /// A peer replica, named by its replica name.
    case server(name: ContactsText)
    /// A client, named by the user whose contact list the connection reads and writes.
    case client(user: ContactsText)

    /// The greeting's kind byte.
    public enum Kind: UInt8, Sendable {
        /// A peer replica.
        case server = 1
        /// A client.
        case client = 2
    }

    /// Bytes on the wire: the kind byte and the 256-byte name.
    public static let length = 1 + ContactsField.connectName.width
}

/// A frame a client sends to a replica, after its greeting.
public enum ContactsClientMessage: Hashable, Sendable {
    /// Sets a contact's phone number (type 1: ContactName 256, PhoneNumber 20).
    case update(contact: ContactsText, phone: ContactsText)
    /// Deletes a contact (type 2: ContactName 256).
    case delete(contact: ContactsText)
    /// Asks for the user's live contacts (type 3, no body); answered by a ``ContactsListReply``.
    case listAll

    /// The type byte of a client frame.
    public enum Kind: UInt8, Sendable, CaseIterable {
        /// Update.
        case update = 1
        /// Delete.
        case delete = 2
        /// ListAll.
        case listAll = 3

        /// Bytes after the type byte.
        public var bodyLength: Int {
            switch self {
            case .update: ContactsField.contactName.width + ContactsField.phoneNumber.width
            case .delete: ContactsField.contactName.width
            case .listAll: 0
            }
        }
    }

    /// The frame's type.
    public var kind: Kind {
        switch self {
        case .update: .update
        case .delete: .delete
        case .listAll: .listAll
        }
    }
}

/// One contact in a ListAll reply.
public struct ContactsListEntry: Hashable, Sendable {
    /// The contact's name.
    public var contact: ContactsText
    /// The contact's phone number.
    public var phone: ContactsText

    /// Creates an entry.
    public init(contact: ContactsText, phone: ContactsText) {
        self.contact = contact
        self.phone = phone
    }

    /// Bytes of one entry on the wire: ContactName 256, PhoneNumber 20.
    public static let length = ContactsField.contactName.width + ContactsField.phoneNumber.width
}

/// A replica's answer to ListAll: ContactLen (4 bytes), then that many entries.
public struct ContactsListReply: Hashable, Sendable {
    /// The contacts, in the order sent (a replica sorts them by name bytes).
    public var entries: [ContactsListEntry]

    /// Creates a reply.
    public init(entries: [ContactsListEntry]) {
        self.entries = entries
    }
}

/// A frame between two replicas, in either direction, after the greeting and its answer.
public enum ContactsPeerMessage: Hashable, Sendable {
    /// A contact's phone number, stamped (type 1: Clock 4, UserName 256, ContactName 256, PhoneNumber 20).
    case update(clock: UInt32, user: ContactsText, contact: ContactsText, phone: ContactsText)
    /// A contact's deletion, stamped (type 2: Clock 4, UserName 256, ContactName 256).
    case delete(clock: UInt32, user: ContactsText, contact: ContactsText)
    /// The sender is alive (type 3: HealthStatus 1, Clock 4); also ends an AskForUpdate answer.
    case heartBeat(health: UInt8, clock: UInt32)
    /// The sender's clock (type 4: Clock 4); read and applied, never sent.
    case updateClock(clock: UInt32)
    /// Asks for every entry the receiver holds (type 5, no body).
    case askForUpdate

    /// The HeartBeat health status of a healthy replica.
    public static let healthy: UInt8 = 1

    /// The clock the message carries (none for AskForUpdate).
    public var clock: UInt32? {
        switch self {
        case .update(let clock, _, _, _), .delete(let clock, _, _), .heartBeat(_, let clock), .updateClock(let clock): clock
        case .askForUpdate: nil
        }
    }

    /// Clocks from here up are refused: a replica that took one would have (almost) no values
    /// left to stamp its own changes with, and, stuck at the top, would lose them to the merge
    /// rule's ties. No replica counts this far (4,278,190,080 changes and heartbeats); a peer
    /// that sends it is broken or hostile.
    public static let clockLimit: UInt32 = .max - (1 << 24) + 1

    /// The type byte of a peer frame.
    public enum Kind: UInt8, Sendable, CaseIterable {
        /// Update.
        case update = 1
        /// Delete.
        case delete = 2
        /// HeartBeat.
        case heartBeat = 3
        /// UpdateClock.
        case updateClock = 4
        /// AskForUpdate.
        case askForUpdate = 5

        /// Bytes after the type byte.
        public var bodyLength: Int {
            let names = ContactsField.userName.width + ContactsField.contactName.width
            switch self {
            case .update: return 4 + names + ContactsField.phoneNumber.width
            case .delete: return 4 + names
            case .heartBeat: return 1 + 4
            case .updateClock: return 4
            case .askForUpdate: return 0
            }
        }
    }

    /// The frame's type.
    public var kind: Kind {
        switch self {
        case .update: .update
        case .delete: .delete
        case .heartBeat: .heartBeat
        case .updateClock: .updateClock
        case .askForUpdate: .askForUpdate
        }
    }
}

/// What a peer link reads: the answer to the greeting, then peer frames.
public enum ContactsPeerFrame: Hashable, Sendable {
    /// The 256-byte name a replica answers a server greeting with.
    case name(ContactsText)
    /// A valid peer frame.
    case message(ContactsPeerMessage)
    /// An Update or Delete whose layout was whole but whose field was invalid: consumed,
    /// to be logged and skipped (the link stays open).
    case skipped(ContactsPeerMessage.Kind, ContactsFieldError)
}
