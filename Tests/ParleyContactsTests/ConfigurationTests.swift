import Testing
@testable import ParleyContacts

@Suite("Replica configuration")
struct ConfigurationTests {
    @Test("--peer NAME@HOST:PORT parses, IPv6 in brackets; bad values say what is wrong")
    func peerParsing() throws {
        #expect(try ContactsPeer(parsing: "contact-server-2@127.0.0.1:9001") == ContactsPeer(name: "contact-server-2", host: "127.0.0.1", port: 9001))
        #expect(try ContactsPeer(parsing: "b@[::1]:9002") == ContactsPeer(name: "b", host: "::1", port: 9002))
        #expect(try ContactsPeer(parsing: "b@[::1]:9002").description == "b@[::1]:9002")
        for bad in ["127.0.0.1:9001", "@127.0.0.1:9001", "a@127.0.0.1", "a@127.0.0.1:0", "a@:9001", "a@h:x"] {
            #expect(throws: ContactsPeerParseError.self) { try ContactsPeer(parsing: bad) }
        }
        let long = String(repeating: "n", count: 256)
        #expect(throws: ContactsPeerParseError.self) { try ContactsPeer(parsing: "\(long)@h:1") }
    }

    @Test("Each replica has its own file in the data folder, named safely")
    func fileNames() {
        #expect(ContactsDatabase.fileName(replica: "contact-server-1") == "contacts-contact-server-1.sqlite")
        #expect(ContactsDatabase.fileName(replica: "../x y") == "contacts-.._x_y.sqlite")
    }

    @Test("A replica name that does not fit the greeting is refused")
    func longName() async throws {
        let directory = try temporaryDirectory()
        await #expect(throws: ContactsFieldError.tooLong(.connectName, byteCount: 300)) {
            _ = try await ContactsReplica(configuration: ContactsReplicaConfiguration(
                name: String(repeating: "n", count: 300), dataDirectory: directory, logger: testLogger("x")
            ))
        }
    }
}
