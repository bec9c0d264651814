import Testing
@testable import ParleyContacts

@Suite("Merge rule and replica state")
struct MergeTests {
    private static let users = ["Beloin", "中文"].map(ContactsText.name)
    private static let contacts = ["Juan", "Ana", "😀"].map(ContactsText.name)
    private static let phones = ["1", "2", "85999999999", "+1 (2) 3"].map(ContactsText.phone)

    private func randomChanges(count: Int, using generator: inout SeededGenerator) -> [ContactsChange] {
        (0..<count).map { _ in
            let phone = Int.random(in: 0..<10, using: &generator) < 3 ? nil : Self.phones.randomElement(using: &generator)!
            return ContactsChange(
                user: Self.users.randomElement(using: &generator)!,
                contact: Self.contacts.randomElement(using: &generator)!,
                entry: ContactsEntry(stamp: UInt32.random(in: 1...12, using: &generator), phone: phone)
            )
        }
    }

    /// The expected winner for one key, computed independently: the greatest by
    /// (stamp, delete over update, phone bytes).
    private func oracle(_ entries: [ContactsEntry]) -> ContactsEntry {
        entries.max { lhs, rhs in
            if lhs.stamp != rhs.stamp { return lhs.stamp < rhs.stamp }
            switch (lhs.phone, rhs.phone) {
            case (nil, _): return false
            case (_?, nil): return true
            case (let l?, let r?): return l.bytes.lexicographicallyPrecedes(r.bytes)
            }
        }!
    }

    @Test("Any order of any set of messages, with duplicates, gives the same entries", arguments: 0..<40)
    func orderDoesNotMatter(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let changes = self.randomChanges(count: Int.random(in: 1...60, using: &generator), using: &generator)
        var reference = ContactsState()
        for change in changes {
            reference.merge(change)
        }
        for _ in 0..<25 {
            var shuffled = changes.shuffled(using: &generator)
            shuffled += shuffled.prefix(Int.random(in: 0...shuffled.count, using: &generator))
            var state = ContactsState()
            for change in shuffled.shuffled(using: &generator) {
                state.observe(clock: change.entry.stamp)
                state.merge(change)
            }
            #expect(state.hasSameEntries(as: reference))
            #expect(state.liveCount == reference.liveCount)
            #expect(state.tombstoneCount == reference.tombstoneCount)
        }
        var byKey: [ContactsChangeKey: [ContactsEntry]] = [:]
        for change in changes {
            byKey[ContactsChangeKey(user: change.user, contact: change.contact), default: []].append(change.entry)
        }
        for (key, entries) in byKey {
            let held = reference.entry(user: key.user, contact: key.contact)
            #expect(held == self.oracle(entries))
            // A tombstone never resurrects: whatever wins is newer than every delete, or a delete.
            if let newestDelete = entries.filter(\.isDeleted).map(\.stamp).max(), let held, !held.isDeleted {
                #expect(held.stamp > newestDelete)
            }
        }
    }

    @Test("Equal stamps: a delete beats an update; between updates the greater phone bytes win")
    func ties() {
        let update1 = ContactsEntry(stamp: 5, phone: .phone("1"))
        let update9 = ContactsEntry(stamp: 5, phone: .phone("9"))
        let delete = ContactsEntry(stamp: 5, phone: nil)
        #expect(ContactsEntry.merge(update1, update9) == update9)
        #expect(ContactsEntry.merge(update9, update1) == update9)
        #expect(ContactsEntry.merge(update9, delete) == delete)
        #expect(ContactsEntry.merge(delete, update9) == delete)
        #expect(ContactsEntry.merge(delete, ContactsEntry(stamp: 6, phone: .phone("1"))).stamp == 6)
        #expect(ContactsEntry.merge(ContactsEntry(stamp: 7, phone: .phone("1")), delete).stamp == 7)
        #expect(ContactsEntry.merge(nil, delete) == delete)
    }

    @Test("Lamport clock: local changes tick, received clocks take max + 1, entries keep their arrival stamp")
    func clock() {
        var state = ContactsState(clock: 10)
        let change = state.recordLocal(user: .name("Beloin"), contact: .name("Juan"), phone: .phone("1"))
        #expect(change.entry.stamp == 11)
        #expect(state.clock == 11)
        state.observe(clock: 40)
        #expect(state.clock == 41)
        state.observe(clock: 3)
        #expect(state.clock == 42)
        let remote = ContactsChange(user: .name("Beloin"), contact: .name("Ana"), entry: ContactsEntry(stamp: 7, phone: .phone("2")))
        state.merge(remote)
        #expect(state.entry(user: .name("Beloin"), contact: .name("Ana"))?.stamp == 7)
        state.observe(clock: .max)
        #expect(state.clock == .max)
        #expect(state.recordLocal(user: .name("Beloin"), contact: .name("Juan"), phone: nil).entry.stamp == .max)
    }

    @Test("ListAll lists live contacts sorted by name bytes, and no tombstones")
    func listing() {
        var state = ContactsState()
        let user = ContactsText.name("Beloin")
        for name in ["b", "B", "é", "a", "Z"] {
            _ = state.recordLocal(user: user, contact: .name(name), phone: .phone("1"))
        }
        _ = state.recordLocal(user: user, contact: .name("Z"), phone: nil)
        #expect(state.contacts(of: user).map(\.contact.string) == ["B", "a", "b", "é"])
        #expect(state.liveCount == 4)
        #expect(state.tombstoneCount == 1)
        #expect(state.contacts(of: .name("nobody")).isEmpty)
    }
}
