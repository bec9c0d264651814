import Foundation
import ParleyCore
import Testing

extension StorageConformance {
    /// The `UserRepository` contract.
    static let users: [ConformanceCheck] = [
        ConformanceCheck(name: "users: create stores the name and a millisecond time", run: Self.createStoresNameAndTime),
        ConformanceCheck(name: "users: credentials by key, any case", run: Self.credentialsByKey),
        ConformanceCheck(name: "users: duplicate in another case is taken", run: Self.duplicateInAnotherCase),
        ConformanceCheck(name: "users: duplicate in NFD form is taken", run: Self.duplicateInOtherNormalForm),
        ConformanceCheck(name: "users: concurrent registrations of one name", run: Self.concurrentRegistrations),
        ConformanceCheck(name: "users: distinct names get distinct ids", run: Self.distinctNamesDistinctIDs),
    ]

    static func createStoresNameAndTime(_ storage: any Storage) async throws {
        let user = try await Self.register("Alice", in: storage)
        #expect(user.username == "Alice")
        #expect(Self.milliseconds(user.createdAt) == Self.nowInMilliseconds)

        let stored = try #require(try await storage.users.credentials(usernameKey: "alice"))
        #expect(stored.user == user)
        #expect(stored.passwordHash == "hash-of-Alice")
    }

    static func credentialsByKey(_ storage: any Storage) async throws {
        let user = try await Self.register("Bob_the-Builder.2", in: storage)
        let found = try await storage.users.credentials(usernameKey: Username.key("BOB_THE-BUILDER.2"))
        #expect(found?.user == user)
        #expect(try await storage.users.credentials(usernameKey: "nobody") == nil)
        #expect(try await storage.users.credentials(usernameKey: "") == nil)
    }

    static func duplicateInAnotherCase(_ storage: any Storage) async throws {
        let original = try await Self.register("Alice", in: storage)
        for name in ["Alice", "alice", "ALICE", "aLiCe"] {
            await #expect(throws: Self.usernameTaken) {
                try await storage.users.create(username: try Username(name), passwordHash: "other", now: Self.now)
            }
        }
        let stored = try #require(try await storage.users.credentials(usernameKey: "alice"))
        #expect(stored.user == original)
        #expect(stored.passwordHash == "hash-of-Alice")
    }

    static func duplicateInOtherNormalForm(_ storage: any Storage) async throws {
        let composed = "Jos\u{E9}"  // é as one scalar (NFC)
        let decomposed = "Jose\u{301}"  // e + combining acute (NFD)
        let original = try await Self.register(composed, in: storage)
        for name in [decomposed, "JOS\u{C9}", "JOSE\u{301}", "jos\u{E9}"] {
            await #expect(throws: Self.usernameTaken) {
                try await storage.users.create(username: try Username(name), passwordHash: "other", now: Self.now)
            }
        }
        let stored = try #require(try await storage.users.credentials(usernameKey: Username.key(decomposed)))
        #expect(stored.user == original)
        #expect(stored.user.username.unicodeScalars.elementsEqual(composed.unicodeScalars))
    }

    static func concurrentRegistrations(_ storage: any Storage) async throws {
        let names = ["Racer", "racer", "RACER", "rAcEr", "Racer", "racer", "RACER", "racEr", "RACer", "raceR"]
        let results = await withTaskGroup(of: Result<User, any Error>.self) { group in
            for name in names {
                group.addTask {
                    do {
                        return .success(try await Self.register(name, in: storage))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = results.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        for case .failure(let error) in results {
            #expect(error as? ParleyError == Self.usernameTaken)
        }
        let stored = try await storage.users.credentials(usernameKey: "racer")
        #expect(stored?.user == winners.first)
    }

    static func distinctNamesDistinctIDs(_ storage: any Storage) async throws {
        let names = ["zoë", "Мария", "李雷", "أحمد", "user_1", "user-2", "user.3"]
        var ids: Set<Int64> = []
        for name in names {
            let user = try await Self.register(name, in: storage)
            #expect(user.username == name)
            ids.insert(user.id)
            let stored = try await storage.users.credentials(usernameKey: Username.key(name))
            #expect(stored?.user == user)
        }
        #expect(ids.count == names.count)
    }
}
