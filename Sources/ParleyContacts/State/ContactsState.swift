/// A replica's data: every (user, contact) entry with its stamp, tombstones included, and
/// the Lamport clock. A value type with pure operations, owned by the replica's actor.
public struct ContactsState: Sendable {
    /// The Lamport clock.
    public private(set) var clock: UInt32
    /// Entries by user, then by contact.
    private(set) var users: [ContactsText: [ContactsText: ContactsEntry]] = [:]
    /// How many entries hold a phone number.
    public private(set) var liveCount = 0
    /// How many entries are tombstones.
    public private(set) var tombstoneCount = 0

    /// Creates an empty state.
    public init(clock: UInt32 = 0) {
        self.clock = clock
    }

    /// The clock value after `value`; it stays at `UInt32.max` once there (2³² − 1 changes
    /// and received clocks are far beyond any replica's life).
    static func successor(_ value: UInt32) -> UInt32 {
        value == .max ? .max : value + 1
    }

    /// Applies a received clock: clock = max(clock, received) + 1.
    public mutating func observe(clock received: UInt32) {
        self.clock = Self.successor(max(self.clock, received))
    }

    /// Makes a local change (a client's Update, or Delete when `phone` is `nil`): ticks the
    /// clock and stamps the change with it. Returns the change, to store and forward.
    public mutating func recordLocal(user: ContactsText, contact: ContactsText, phone: ContactsText?) -> ContactsChange {
        self.clock = Self.successor(self.clock)
        let change = ContactsChange(user: user, contact: contact, entry: ContactsEntry(stamp: self.clock, phone: phone))
        self.merge(change)
        return change
    }

    /// Merges a change by the rule of ``ContactsEntry/wins(over:)``; returns whether the
    /// state changed. The clock is not touched: see ``observe(clock:)``.
    @discardableResult
    public mutating func merge(_ change: ContactsChange) -> Bool {
        let current = self.users[change.user]?[change.contact]
        let merged = ContactsEntry.merge(current, change.entry)
        guard merged != current else {
            return false
        }
        switch current?.isDeleted {
        case nil: break
        case false?: self.liveCount -= 1
        case true?: self.tombstoneCount -= 1
        }
        if merged.isDeleted {
            self.tombstoneCount += 1
        } else {
            self.liveCount += 1
        }
        self.users[change.user, default: [:]][change.contact] = merged
        return true
    }

    /// Loads an entry read back from storage, and keeps the clock above its stamp.
    mutating func restore(_ change: ContactsChange) {
        self.merge(change)
        self.clock = max(self.clock, change.entry.stamp)
    }

    /// The entry for a user's contact, tombstone or not.
    public func entry(user: ContactsText, contact: ContactsText) -> ContactsEntry? {
        self.users[user]?[contact]
    }

    /// The user's live contacts, sorted by contact name bytes (the ListAll order).
    public func contacts(of user: ContactsText) -> [ContactsListEntry] {
        guard let contacts = self.users[user] else {
            return []
        }
        return contacts.compactMap { contact, entry in
            entry.phone.map { ContactsListEntry(contact: contact, phone: $0) }
        }.sorted { $0.contact < $1.contact }
    }

    /// Every entry as a change (the AskForUpdate answer), in no particular order.
    public var changes: [ContactsChange] {
        var changes: [ContactsChange] = []
        changes.reserveCapacity(self.liveCount + self.tombstoneCount)
        for (user, contacts) in self.users {
            for (contact, entry) in contacts {
                changes.append(ContactsChange(user: user, contact: contact, entry: entry))
            }
        }
        return changes
    }

    /// Whether both states hold the same entries (clocks aside: they depend on the order
    /// messages arrived in).
    public func hasSameEntries(as other: ContactsState) -> Bool {
        self.users == other.users
    }
}
