import Logging
import Metrics
import NIOCore

/// Knows every live peer link and forwards client changes to each peer once.
///
/// A peer may have two links, one dialed by each side; forwarding uses the oldest. A peer
/// that may have missed changes (no link when one was forwarded, a link that closed with
/// frames in flight, a queue overflow) is marked; the next link this replica dials to it
/// sends the whole state after AskForUpdate, unless the peer asked for it first.
actor ContactsPeerManager {
    struct Link {
        let id: Int
        let outbox: ContactsOutbox
    }

    private var links: [String: [Link]] = [:]
    private var missed: Set<String> = []
    private let configured: [String]
    private var nextID = 0
    private let logger: Logger
    private let peersGauge: Gauge
    private let overflows: Counter

    init(configured: [String], replica: String, logger: Logger) {
        self.configured = configured
        self.logger = logger
        self.peersGauge = Gauge(label: "contacts_peers_up", dimensions: [("replica", replica)])
        self.overflows = Counter(label: "contacts_peer_overflows_total", dimensions: [("replica", replica)])
        self.peersGauge.record(0)
    }

    /// Adds a link; a dialed link to a peer that may have missed changes is asked to resync.
    func register(peer: String, outbox: ContactsOutbox, dialed: Bool) -> Int {
        self.nextID += 1
        self.links[peer, default: []].append(Link(id: self.nextID, outbox: outbox))
        if dialed, self.missed.remove(peer) != nil {
            outbox.requestResync()
        }
        self.peersGauge.record(Int64(self.links.count))
        return self.nextID
    }

    /// Removes a link; frames still queued on it are lost, so the peer is marked.
    func unregister(peer: String, id: Int) {
        self.links[peer]?.removeAll { $0.id == id }
        if self.links[peer]?.isEmpty == true {
            self.links[peer] = nil
        }
        self.missed.insert(peer)
        self.peersGauge.record(Int64(self.links.count))
    }

    /// The peer asked for the whole state: it will have everything up to now.
    func willSendState(to peer: String) {
        self.missed.remove(peer)
    }

    /// Queues client changes for every peer, once each, never waiting.
    func forward(_ changes: [ContactsChange]) {
        if self.links.isEmpty, self.configured.isEmpty {
            return
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(changes.count * (1 + ContactsPeerMessage.Kind.update.bodyLength))
        for change in changes {
            buffer.writeContactsPeerMessage(change.peerMessage)
        }
        for peer in Set(self.configured).union(self.links.keys) {
            guard let link = self.links[peer]?.first else {
                self.missed.insert(peer)
                continue
            }
            if !link.outbox.enqueue(buffer) {
                self.overflowed(peer: peer, link: link)
            }
        }
    }

    /// Names of the peers with a link up, sorted.
    var peersUp: [String] {
        self.links.keys.sorted()
    }

    /// Closes every link to `peer` (tests cut links with it).
    func disconnect(peer: String) {
        for link in self.links[peer] ?? [] {
            link.outbox.close()
        }
    }

    private func overflowed(peer: String, link: Link) {
        self.overflows.increment()
        self.logger.warning("peer fell behind; disconnecting it to resync later", metadata: ["contacts.peer": "\(peer)"])
        self.links[peer]?.removeAll { $0.id == link.id }
        if self.links[peer]?.isEmpty == true {
            self.links[peer] = nil
        }
        self.peersGauge.record(Int64(self.links.count))
        if let other = self.links[peer]?.first {
            other.outbox.requestResync()
        } else {
            self.missed.insert(peer)
        }
    }
}
