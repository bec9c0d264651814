import NIOCore
import Testing
@testable import ZooKeeperClient

@Suite("SessionStateMachine, without I/O")
struct SessionStateMachineTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func response(id: Int64 = 42, timeout: Int32 = 3000) -> ConnectResponse {
        ConnectResponse(protocolVersion: 0, timeoutMilliseconds: timeout, sessionID: id, password: Array(repeating: 7, count: 16), readOnly: false)
    }

    @Test("The first connection tries each server once, then gives up with every reason")
    func initialRound() {
        var machine = SessionStateMachine(serverCount: 2, requestedTimeout: .seconds(10), connectTimeout: .seconds(1))
        guard case .connect(0, let request, .seconds(1)) = machine.nextStep(now: self.start) else {
            Issue.record("expected a connection to server 0")
            return
        }
        #expect(request.sessionID == 0)
        machine.attemptFailed(reason: "a: refused")
        guard case .connect(1, _, _) = machine.nextStep(now: self.start) else {
            Issue.record("expected a connection to server 1")
            return
        }
        machine.attemptFailed(reason: "b: timeout")
        let outcome1 = machine.nextStep(now: self.start)
        #expect(outcome1 == .giveUp(reason: "could not connect to any server: a: refused; b: timeout"))
    }

    @Test("Connected, lost, reconnected: the negotiated session is resumed, starting with the next server")
    func reconnect() {
        var machine = SessionStateMachine(serverCount: 3, requestedTimeout: .seconds(10), connectTimeout: .seconds(1))
        _ = machine.nextStep(now: self.start)
        let outcome2 = machine.established(self.response())
        #expect(outcome2 == .connected(server: 0))
        #expect(machine.session == ZooKeeperSession(id: 42, password: Array(repeating: 7, count: 16), timeout: .seconds(3)))
        #expect(machine.publicState == .connected)
        let outcome3 = machine.nextStep(now: self.start)
        #expect(outcome3 == .stop)
        machine.saw(zxid: 17)
        machine.saw(zxid: 5)

        let outcome4 = machine.connectionLost(lastHeard: self.start)
        #expect(outcome4)
        let outcome5 = machine.connectionLost(lastHeard: self.start)
        #expect(!outcome5)
        #expect(machine.publicState == .disconnected)
        guard case .connect(1, let request, let timeout) = machine.nextStep(now: self.start + .milliseconds(100)) else {
            Issue.record("expected server 1")
            return
        }
        #expect(request.sessionID == 42)
        #expect(request.password == Array(repeating: 7, count: 16))
        #expect(request.lastZxidSeen == 17)
        #expect(request.timeoutMilliseconds == 10_000)
        #expect(timeout == .seconds(1))
        machine.attemptFailed(reason: "refused")
        guard case .connect(2, _, _) = machine.nextStep(now: self.start + .milliseconds(200)) else {
            Issue.record("expected server 2")
            return
        }
        let outcome6 = machine.established(self.response())
        #expect(outcome6 == .reconnected(server: 2))
        #expect(machine.connectedServer == 2)
    }

    @Test("Between rounds the pause doubles; attempts shrink to the session deadline; then the session expires")
    func backOffAndLocalExpiry() {
        var machine = SessionStateMachine(serverCount: 1, requestedTimeout: .seconds(10), connectTimeout: .seconds(1))
        _ = machine.nextStep(now: self.start)
        _ = machine.established(self.response(timeout: 3000))
        _ = machine.connectionLost(lastHeard: self.start)

        var now = self.start + .milliseconds(2000)
        let outcome7 = machine.nextStep(now: now)
        #expect(outcome7 == .connect(server: 0, request: machine.connectRequest, timeout: .seconds(1)))
        machine.attemptFailed(reason: "refused")
        let outcome8 = machine.nextStep(now: now)
        #expect(outcome8 == .backOff(.milliseconds(50)))
        let outcome9 = machine.nextStep(now: now)
        #expect(outcome9 == .connect(server: 0, request: machine.connectRequest, timeout: .seconds(1)))
        machine.attemptFailed(reason: "refused")
        let outcome10 = machine.nextStep(now: now)
        #expect(outcome10 == .backOff(.milliseconds(100)))
        now = self.start + .milliseconds(2600)
        // Only 400 ms of the session are left.
        let outcome11 = machine.nextStep(now: now)
        #expect(outcome11 == .connect(server: 0, request: machine.connectRequest, timeout: .milliseconds(400)))
        machine.attemptFailed(reason: "timeout")
        let outcome12 = machine.nextStep(now: now)
        #expect(outcome12 == .backOff(.milliseconds(200)))
        now = self.start + .milliseconds(3000)
        guard case .expire = machine.nextStep(now: now) else {
            Issue.record("expected expiry")
            return
        }
        let outcome13 = machine.expire()
        #expect(outcome13)
        let outcome14 = machine.expire()
        #expect(!outcome14)
        #expect(machine.publicState == .expired)
        let outcome15 = machine.nextStep(now: now)
        #expect(outcome15 == .stop)
        let outcome16 = machine.beginClose()
        #expect(outcome16 == .none)
    }

    @Test("Closing: connected sends closeSession; otherwise nothing to send; a late handshake is abandoned")
    func closing() {
        var connected = SessionStateMachine(serverCount: 1, requestedTimeout: .seconds(10), connectTimeout: .seconds(1))
        _ = connected.nextStep(now: self.start)
        _ = connected.established(self.response())
        let outcome17 = connected.beginClose()
        #expect(outcome17 == .sendCloseSession)
        #expect(connected.publicState == .closed)
        let outcome18 = connected.nextStep(now: self.start)
        #expect(outcome18 == .stop)
        let outcome19 = connected.connectionLost(lastHeard: self.start)
        #expect(!outcome19)
        let outcome20 = connected.finishClose()
        #expect(outcome20)
        let outcome21 = connected.finishClose()
        #expect(!outcome21)
        let outcome22 = connected.expire()
        #expect(!outcome22)

        var connecting = SessionStateMachine(serverCount: 1, requestedTimeout: .seconds(10), connectTimeout: .seconds(1))
        _ = connecting.nextStep(now: self.start)
        let outcome23 = connecting.beginClose()
        #expect(outcome23 == .finish)
        let outcome24 = connecting.established(self.response())
        #expect(outcome24 == .abandon)
    }

    @Test("A resumed session is asked for by id and password from the start")
    func resuming() {
        let session = ZooKeeperSession(id: 9, password: [1, 2], timeout: .seconds(5))
        let machine = SessionStateMachine(serverCount: 1, requestedTimeout: .seconds(10), connectTimeout: .seconds(1), resuming: session)
        #expect(machine.connectRequest.sessionID == 9)
        #expect(machine.connectRequest.password == [1, 2])
    }
}
