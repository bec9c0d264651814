import ArgumentParser
import Foundation
import Histogram
import Logging
import NIOCore
import ParleyBalancer
import ParleyChat
import ParleyCore
import ParleyStorage
import Synchronization

/// `parley loadgen chat`: N connections in pairs of friends against one chat server over TCP; one
/// side of each pair sends texts at a rate for a duration; reports delivered, stored texts per
/// second, end-to-end latency and the chat server's memory per idle connection.
///
/// Users and friendships are created directly in the backend's database (`--database`, the same
/// one the backend uses); tickets are signed with `PARLEY_CHAT_SECRET`, as the balancer would.
struct ChatLoadgenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat connections in pairs against a chat server: texts/s, latency, memory per connection.",
        discussion: """
            Needs PARLEY_CHAT_SECRET (the chat server's) and the backend's database (--database, \
            e.g. sqlite:DATA-DIR/ of `parley serve`). Give --server-pid to measure the chat server's \
            resident memory before and after the connections are open. Raise `ulimit -n` for many \
            connections.
            """
    )

    @Option(help: ArgumentHelp("The chat server's TCP address.", valueName: "HOST:PORT"))
    var target: String

    @Option(help: "The chat server's name (tickets are bound to it).")
    var serverName = "chat-1"

    @Option(help: "The backend's database: sqlite:PATH or postgres://… (users and friendships are made there).")
    var database: String

    @Option(help: "Connections, in pairs of friends.")
    var connections = 1000

    @Option(help: "Texts per second in all, sent by one side of each pair.")
    var rate = 1000

    @Option(help: "Seconds of sending.")
    var duration = 10

    @Option(help: "The chat server's process id, to read its resident memory (Linux /proc).")
    var serverPid: Int?

    @Option(help: "Connections opened at once.")
    var concurrency = 100

    func validate() throws {
        _ = try hostAndPort(self.target, option: "--target")
        guard self.connections >= 2, self.connections % 2 == 0 else { throw ValidationError("--connections must be an even number ≥ 2.") }
        guard self.rate > 0, self.duration > 0, self.concurrency > 0 else {
            throw ValidationError("--rate, --duration and --concurrency must be positive.")
        }
    }

    func run() async throws {
        useEventLoopThreads(defaultEventLoopThreads)
        guard let secret = try ChatSecret.configured(flag: nil, environment: ProcessInfo.processInfo.environment) else {
            throw ValidationError("Set PARLEY_CHAT_SECRET to the chat server's secret.")
        }
        let (host, port) = try hostAndPort(self.target, option: "--target")
        let users = try await self.seed()
        let signer = ChatTicketSigner(secret: secret, lifetime: .seconds(3600))
        let stats = LoadStats()
        let before = self.serverRSS()

        // Connect and authenticate everyone.
        let start = ContinuousClock.now
        var clients: [ChatLoadgenConnection?] = Array(repeating: nil, count: users.count)
        try await withThrowingTaskGroup(of: (Int, ChatLoadgenConnection).self) { group in
            var next = 0
            func add(_ index: Int) throws {
                let token = try signer.sign(userID: users[index], username: "u", serverName: self.serverName).token
                group.addTask {
                    do {
                        return (index, try await ChatLoadgenConnection.connect(host: host, port: port, token: token, stats: stats))
                    } catch {
                        throw ValidationError("connection \(index) was not authenticated: \(error)")
                    }
                }
            }
            while next < min(self.concurrency, users.count) {
                try add(next)
                next += 1
            }
            while let (index, connection) = try await group.next() {
                clients[index] = connection
                if next < users.count {
                    try add(next)
                    next += 1
                }
            }
        }
        let connected = clients.compactMap { $0 }
        print("connected and authenticated \(connected.count) connections in \(Self.seconds(ContinuousClock.now - start)) s")
        try await Task.sleep(for: .seconds(2))
        if let before, let after = self.serverRSS() {
            let perConnection = Double(after - before) / Double(connected.count)
            print(
                "chat server RSS: \(before / 1024) KiB before, \(after / 1024) KiB with \(connected.count) idle connections: "
                    + "\(String(format: "%.1f", perConnection / 1024)) KiB (\(Int(perConnection)) bytes) per connection"
            )
        }

        // The even side of each pair sends, each at rate / pairs per second, the pairs' first
        // texts spread over one interval; the odd side receives, and every frame is counted as it
        // arrives (ChatLoadgenConnection).
        let pairs = connected.count / 2
        let interval = Double(pairs) / Double(self.rate)
        let sendStart = NIODeadline.now() + .milliseconds(100)
        let end = sendStart + .seconds(Int64(self.duration))
        let counters = { (server: self.serverPid.flatMap { ProcessCounters(pid: $0) }, generator: ProcessCounters(pid: Int(getpid()))) }
        let countersBefore = counters()
        let sending = (0..<pairs).map { pair in
            connected[2 * pair].sendTexts(
                to: users[2 * pair + 1], tag: "p\(pair)", first: sendStart + Self.timeAmount(interval * Double(pair) / Double(pairs)),
                interval: Self.timeAmount(interval), end: end, stats: stats
            )
        }
        for texts in sending { try await texts.get() }
        // Longer than --duration when the texts could not all be sent in time.
        let elapsed = Double((NIODeadline.now() - sendStart).nanoseconds) / 1e9
        // Let the last texts arrive.
        try await Task.sleep(for: .seconds(2))
        let countersAfter = counters()
        let summary = stats.summary()
        print(
            "sent \(summary.sent), acknowledged \(summary.acknowledged), delivered \(summary.delivered), errors \(summary.errors), "
                + "connections lost \(summary.lost) "
                + "in \(String(format: "%.1f", elapsed)) s (target \(self.rate)/s)"
        )
        print(
            "delivered \(Int(Double(summary.delivered) / elapsed)) texts/s; latency p50 \(Self.milliseconds(summary.p50)) ms, "
                + "p99 \(Self.milliseconds(summary.p99)) ms, p999 \(Self.milliseconds(summary.p999)) ms, max \(Self.milliseconds(summary.max)) ms"
        )
        func cpu(_ before: ProcessCounters?, _ after: ProcessCounters?) -> String {
            guard let before, let after, summary.delivered > 0 else { return "?" }
            return "\(Int((after.cpuSeconds - before.cpuSeconds) * 1e6 / Double(summary.delivered))) us"
        }
        func calls(_ before: ProcessCounters?, _ after: ProcessCounters?) -> String {
            guard let before, let after, summary.delivered > 0 else { return "?" }
            func per(_ counter: KeyPath<ProcessCounters, Int?>) -> String {
                guard let first = before[keyPath: counter], let last = after[keyPath: counter] else { return "?" }
                return String(format: "%.1f", Double(last - first) / Double(summary.delivered))
            }
            return "\(per(\.readCalls)) reads, \(per(\.writeCalls)) writes, \(per(\.contextSwitches)) context switches"
        }
        print(
            "CPU per delivered text, sending and the 2 s after: chat server \(cpu(countersBefore.server, countersAfter.server)), "
                + "load generator \(cpu(countersBefore.generator, countersAfter.generator))"
        )
        print(
            "read and write calls and context switches per delivered text, the same time: chat server \(calls(countersBefore.server, countersAfter.server)); "
                + "load generator \(calls(countersBefore.generator, countersAfter.generator))"
        )
        for connection in connected { await connection.close() }
    }

    /// Creates the users (`lg-RUN-N`) and makes each pair friends; their ids in order.
    private func seed() async throws -> [Int64] {
        let url: DatabaseURL
        do { url = try DatabaseURL(self.database) } catch { throw ValidationError("--database: \(error)") }
        var logger = Logger(label: "parley.loadgen")
        logger.logLevel = .warning
        let storage = try await url.open(logger: logger, migrate: false)
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let start = ContinuousClock.now
        var ids: [Int64] = []
        do {
            for index in 0..<self.connections {
                let user = try await storage.users.create(username: try Username("lg-\(run)-\(index)"), passwordHash: "-", now: Date())
                ids.append(user.id)
            }
            for pair in 0..<(ids.count / 2) {
                let request = try await storage.chat.createFriendRequest(
                    fromUserID: ids[2 * pair], toUserID: ids[2 * pair + 1], message: "", alias: nil, now: Date()
                )
                _ = try await storage.chat.acceptFriendRequest(id: request.id, userID: ids[2 * pair + 1], alias: nil, now: Date())
            }
        } catch {
            try? await storage.close()
            throw error
        }
        try await storage.close()
        print("seeded \(ids.count) users in \(ids.count / 2) friend pairs in \(Self.seconds(ContinuousClock.now - start)) s")
        return ids
    }

    /// The chat server's resident memory in bytes, from /proc.
    private func serverRSS() -> Int? {
        guard let pid = self.serverPid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kib * 1024
    }

    static func timeAmount(_ seconds: Double) -> TimeAmount {
        .nanoseconds(Int64(seconds * 1e9))
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let components = duration.components
        return components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(Self.nanoseconds(duration)) / 1e9
    }

    static func milliseconds(_ nanoseconds: UInt64) -> String {
        String(format: "%.2f", Double(nanoseconds) / 1e6)
    }
}

/// Counters and the latency histogram, shared by the receivers.
final class LoadStats: Sendable {
    struct Summary {
        var sent = 0
        var acknowledged = 0
        var delivered = 0
        var errors = 0
        /// Connections that ended before the run did (closed by the server, or failed).
        var lost = 0
        var p50: UInt64 = 0
        var p99: UInt64 = 0
        var p999: UInt64 = 0
        var max: UInt64 = 0
    }

    private struct State {
        var summary = Summary()
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }

    private let state = Mutex(State())

    func sent() { self.state.withLock { $0.summary.sent += 1 } }
    func acknowledged() { self.state.withLock { $0.summary.acknowledged += 1 } }
    func failed() { self.state.withLock { $0.summary.errors += 1 } }
    func lost() { self.state.withLock { $0.summary.lost += 1 } }

    func delivered(latencyNanoseconds: Int64) {
        self.state.withLock {
            $0.summary.delivered += 1
            _ = $0.histogram.record(UInt64(max(0, latencyNanoseconds)))
        }
    }

    func summary() -> Summary {
        self.state.withLock { state in
            var summary = state.summary
            summary.p50 = state.histogram.valueAtPercentile(50)
            summary.p99 = state.histogram.valueAtPercentile(99)
            summary.p999 = state.histogram.valueAtPercentile(99.9)
            summary.max = state.histogram.max
            return summary
        }
    }
}

/// What /proc counts for a process, read before and after the texts to divide by them.
struct ProcessCounters {
    /// User and system CPU time.
    var cpuSeconds: Double
    /// Read and write system calls (reads, receives, writes, sends; /proc/PID/io `syscr`, `syscw`);
    /// `nil` where that file cannot be read (another user's process, or no I/O accounting).
    var readCalls: Int?
    var writeCalls: Int?
    /// Voluntary and involuntary context switches of all its threads; `nil` when unreadable.
    var contextSwitches: Int?

    init?(pid: Int) {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let afterName = stat.range(of: ") ", options: .backwards)
        else { return nil }
        // The fields after the name, from the state (field 3); utime and stime are fields 14 and 15.
        let fields = stat[afterName.upperBound...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        self.cpuSeconds = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        func value(_ name: String, in text: String?) -> Int? {
            text?.split(separator: "\n").lazy.compactMap { line in
                line.hasPrefix(name + ":") ? Int(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)) : nil
            }.first
        }
        let io = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8)
        self.readCalls = value("syscr", in: io)
        self.writeCalls = value("syscw", in: io)
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        let switches = threads.compactMap { thread -> Int? in
            let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/status", encoding: .utf8)
            guard let voluntary = value("voluntary_ctxt_switches", in: status), let involuntary = value("nonvoluntary_ctxt_switches", in: status)
            else { return nil }
            return voluntary + involuntary
        }
        self.contextSwitches = switches.isEmpty ? nil : switches.reduce(0, +)
    }
}
