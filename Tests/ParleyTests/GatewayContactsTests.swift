import ParleyTestSupport
import Foundation
import NIOHTTP1
import ParleyContacts
import Testing

/// The Contacts page and API: the gateway speaks the replicas' protocol as the session's user.
@Suite struct GatewayContactsTests {
    @Test func contactsThroughTheGateway() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let replica = try await ContactsReplica(configuration: .init(name: "contact-server-1", port: 0, dataDirectory: folder.path + "/contacts"))
        let replicaGroup = RunningGroup([replica])
        let replicaPort = try #require(await replica.boundAddress()?.port)
        let backend = try await TestBackend.start(dataDirectory: folder.path)
        let gateway = try await TestGateway.start(backendPort: backend.port, contactsServers: [("127.0.0.1", replicaPort)])
        let api = gateway.url + "/api/v1"

        #expect(try await http(.GET, api + "/contacts").status == 401)
        let page = try await http(.GET, gateway.url + "/contacts")  // redirected to the login page
        #expect(page.body.contains(#"<form method="post" action="/login">"#))

        let credentials = #"{"username":"Ana","password":"a long password"}"#
        #expect(try await http(.POST, api + "/accounts", json: credentials).status == 201)
        let token = try #require(try await http(.POST, api + "/sessions", json: credentials).json()["token"] as? String)

        let saved = try await http(.PUT, api + "/contacts/" + "Zé Ramalho".addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!, json: #"{"phone":"+5585999999999"}"#, token: token)
        #expect(saved.status == 200, "\(saved.body)")
        #expect(try await http(.PUT, api + "/contacts/Juan", json: #"{"phone":"85999999999"}"#, token: token).status == 200)
        let list = try await http(.GET, api + "/contacts", token: token)
        let contacts = try #require(try list.json()["contacts"] as? [[String: String]])
        #expect(contacts == [["name": "Juan", "phone": "85999999999"], ["name": "Zé Ramalho", "phone": "+5585999999999"]])

        // What the replica holds is Ana's list, under her username, reachable by the protocol.
        let direct = try await ContactsClient(user: "Ana", servers: [("127.0.0.1", replicaPort)]).list()
        #expect(direct.map(\.name) == ["Juan", "Zé Ramalho"])

        let tooLong = try await http(.PUT, api + "/contacts/" + String(repeating: "x", count: 300), json: #"{"phone":"1"}"#, token: token)
        #expect(tooLong.status == 400)
        #expect(tooLong.body.contains("255"))
        let badPhone = try await http(.PUT, api + "/contacts/Bob", json: #"{"phone":"call me"}"#, token: token)
        #expect(badPhone.status == 400)

        #expect(try await http(.DELETE, api + "/contacts/Juan", token: token).status == 204)
        let after = try #require(try await http(.GET, api + "/contacts", token: token).json()["contacts"] as? [[String: String]])
        #expect(after.map { $0["name"] } == ["Zé Ramalho"])

        let html = try await http(.GET, gateway.url + "/contacts", headers: [("Cookie", "parley_session=\(token)")])
        #expect(html.status == 200)
        #expect(html.body.contains("Zé Ramalho"))

        await replicaGroup.stop()
        let down = try await http(.GET, api + "/contacts", token: token)
        #expect(down.status == 503)
        #expect(down.errorCode == "unavailable")
        await gateway.stop()
        await backend.stop()
    }
}
