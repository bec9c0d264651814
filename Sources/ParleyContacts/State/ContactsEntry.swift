/// What a replica holds for one (user, contact): the stamp it arrived with, and the phone
/// number or a tombstone.
public struct ContactsEntry: Hashable, Sendable {
    /// The Lamport clock value the change was stamped with where it was made.
    public var stamp: UInt32
    /// The phone number; `nil` for a deleted contact (a tombstone, kept so that a resync
    /// cannot bring the contact back).
    public var phone: ContactsText?

    /// Creates an entry.
    public init(stamp: UInt32, phone: ContactsText?) {
        self.stamp = stamp
        self.phone = phone
    }

    /// Whether the entry is a tombstone.
    public var isDeleted: Bool { self.phone == nil }

    /// The merge rule, the same on every replica: the higher stamp wins; on equal stamps a
    /// delete wins over an update, and between two updates the greater phone bytes win.
    ///
    /// It orders all entries totally, so merging is taking the maximum: commutative,
    /// associative and idempotent, whatever the order messages arrive in.
    public func wins(over other: ContactsEntry) -> Bool {
        if self.stamp != other.stamp {
            return self.stamp > other.stamp
        }
        switch (self.phone, other.phone) {
        case (nil, nil): return false
        case (nil, _?): return true
        case (_?, nil): return false
        case (let mine?, let theirs?): return theirs < mine
        }
    }

    /// The entry a replica holds after `incoming` arrives where it held `current`; the winner
    /// keeps the stamp it arrived with.
    public static func merge(_ current: ContactsEntry?, _ incoming: ContactsEntry) -> ContactsEntry {
        guard let current else {
            return incoming
        }
        return incoming.wins(over: current) ? incoming : current
    }
}

/// One stamped change: an entry for a user's contact, as peers exchange it.
public struct ContactsChange: Hashable, Sendable {
    /// The owner of the contact list.
    public var user: ContactsText
    /// The contact.
    public var contact: ContactsText
    /// The stamp and the phone number or tombstone.
    public var entry: ContactsEntry

    /// Creates a change.
    public init(user: ContactsText, contact: ContactsText, entry: ContactsEntry) {
        self.user = user
        self.contact = contact
        self.entry = entry
    }

    /// The change carried by a peer Update or Delete; `nil` for other frames.
    public init?(_ message: ContactsPeerMessage) {
        switch message {
        case .update(let clock, let user, let contact, let phone):
            self.init(user: user, contact: contact, entry: ContactsEntry(stamp: clock, phone: phone))
        case .delete(let clock, let user, let contact):
            self.init(user: user, contact: contact, entry: ContactsEntry(stamp: clock, phone: nil))
        case .heartBeat, .updateClock, .askForUpdate:
            return nil
        }
    }

    /// The peer frame that carries the change: an Update, or a Delete for a tombstone, with
    /// the entry's stamp as its Clock.
    public var peerMessage: ContactsPeerMessage {
        if let phone = self.entry.phone {
            return .update(clock: self.entry.stamp, user: self.user, contact: self.contact, phone: phone)
        }
        return .delete(clock: self.entry.stamp, user: self.user, contact: self.contact)
    }
}
