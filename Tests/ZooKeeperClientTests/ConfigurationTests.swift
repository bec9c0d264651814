import Testing
@testable import ZooKeeperClient

@Suite("Configuration and helpers")
struct ConfigurationTests {
    @Test("Connection strings: default port, IPv6 in brackets, spaces; bad ones rejected")
    func parse() throws {
        #expect(try ZooKeeperClient.Server.parse("zk1:2181, zk2:2182,zk3") == [
            .init(host: "zk1", port: 2181), .init(host: "zk2", port: 2182), .init(host: "zk3", port: 2181),
        ])
        #expect(try ZooKeeperClient.Server.parse("[::1]:2190,[fe80::1]") == [.init(host: "::1", port: 2190), .init(host: "fe80::1", port: 2181)])
        #expect(ZooKeeperClient.Server(host: "::1", port: 2190).description == "[::1]:2190")
        for bad in ["", "zk1:0", "zk1:x", ":2181", "zk1:2181/chroot", "[::1", "zk1,,zk2"] {
            #expect(throws: ZooKeeperError.self, "\(bad)") { try ZooKeeperClient.Server.parse(bad) }
        }
    }

    @Test("Sequence numbers of sequential znode names")
    func sequenceNumbers() {
        #expect(ZooKeeperClient.sequenceNumber(of: "n_0000000042") == 42)
        #expect(ZooKeeperClient.sequenceNumber(of: "/election/n_2147483647") == 2_147_483_647)
        #expect(ZooKeeperClient.sequenceNumber(of: "n_42") == nil)
        #expect(ZooKeeperClient.parent(of: "/a/b") == "/a")
        #expect(ZooKeeperClient.parent(of: "/a") == "/")
    }

    @Test("Error descriptions name the code, the number and the path")
    func errorDescription() {
        let error = ZooKeeperError(code: .noNode, path: "/a", detail: "getData")
        #expect(error.description == "ZooKeeper NONODE (-101) for /a: getData")
        #expect(ZooKeeperError.Code(rawValue: -999).description == "UNKNOWN (-999)")
        #expect(ZooKeeperError.Code.sessionExpired.rawValue == -112)
        #expect(ZooKeeperError.Code.connectionLoss.rawValue == -4)
        #expect(ZooKeeperError.Code.operationTimeout.rawValue == -7)
    }
}
