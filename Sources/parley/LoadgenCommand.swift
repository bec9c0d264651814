import ArgumentParser
import Foundation
import Logging
import ParleyVerifier
import ServiceLifecycle

/// `parley loadgen ROLE`: load generators that drive a running role over its real protocol.
struct LoadgenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Drive a running Parley role with load and measure it.",
        subcommands: [VerifierLoadgenCommand.self, ChatLoadgenCommand.self]
    )
}

/// `parley loadgen verifier --target HOST:PORT --outbox DIR`: codes issued and checked per second
/// over gRPC, through one ``VerifierClient``.
///
/// Each round issues `--codes` codes to fresh addresses (`bench-RUN-rROUND-N@example.com`, so the
/// per-address limits never refuse one) with `--concurrency` callers and times it; reads the codes
/// from the verifier's outbox (untimed, matched by the `To:` header); then checks all of them with
/// the same number of callers and times that. A call that fails, and a code whose mail is not in the
/// outbox, counts as a failure. Prints a line per round and the medians.
struct VerifierLoadgenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verifier",
        abstract: "Issue and check verification codes against a verifier, and report codes/s.",
        discussion: """
            Run the verifier with its mail in an outbox folder (no --smtp) and give that folder \
            with --outbox: the codes are read from the mails. Each code goes to a fresh address, \
            and no client address is sent, so no rate limit applies. Codes are valid 3 minutes: \
            a round must issue, read and check them within that time.
            """
    )

    @Option(help: ArgumentHelp("The verifier's gRPC address.", valueName: "HOST:PORT"))
    var target: String

    @Option(help: ArgumentHelp("The verifier's outbox folder (<data-dir>/outbox).", valueName: "DIR"))
    var outbox: String

    @Option(help: "Codes issued, then checked, per round.")
    var codes = 2000

    @Option(help: "Calls in flight at once.")
    var concurrency = 16

    @Option(help: "Rounds; the medians are over them.")
    var rounds = 5

    func validate() throws {
        _ = try hostAndPort(self.target, option: "--target")
        guard self.codes > 0 else { throw ValidationError("--codes must be positive.") }
        guard self.concurrency > 0 else { throw ValidationError("--concurrency must be positive.") }
        guard self.rounds > 0 else { throw ValidationError("--rounds must be positive.") }
    }

    func run() async throws {
        let (host, port) = try hostAndPort(self.target, option: "--target")
        // Failures are counted and summarised per round; the client's own log would repeat each one.
        var logger = Logger(label: "parley.loadgen") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .critical
        let client = try VerifierClient(host: host, port: port, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [client], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let outcome: Result<Void, any Error>
            do {
                try await self.measure(client)
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            try outcome.get()
        }
    }

    /// The rounds, then the medians.
    private func measure(_ client: VerifierClient) async throws {
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        var outbox = OutboxReader(folder: URL(fileURLWithPath: self.outbox))
        try await Self.warmUp(client, email: "bench-\(run)-warmup@example.com")
        print("verifier \(self.target): \(self.rounds) rounds of \(self.codes) codes, \(self.concurrency) callers, run \(run)")

        var issueRates: [Double] = []
        var checkRates: [Double] = []
        var failures: [Int] = []
        for round in 1...self.rounds {
            let emails = (0..<self.codes).map { "bench-\(run)-r\(round)-\($0)@example.com" }

            let issue = await Self.concurrently(emails, concurrency: self.concurrency, key: { $0 }) { email in
                _ = try await client.issue(email: email, purpose: .register, clientAddress: nil)
            }
            let issued = emails.filter { !issue.failed.contains($0) }

            let mail = try outbox.codes()
            var missing = Failures()
            var toCheck: [CodeToCheck] = []
            for email in issued {
                if let code = mail[email.lowercased()] {
                    toCheck.append(CodeToCheck(email: email, code: code))
                } else {
                    missing.record(email, "no mail for this address in the outbox")
                }
            }

            let check = await Self.concurrently(toCheck, concurrency: self.concurrency, key: { $0.email }) { item in
                try await client.check(email: item.email, purpose: .register, code: item.code)
            }

            let issueRate = Double(issued.count) / issue.seconds
            let checkRate = Double(toCheck.count - check.failed.count) / check.seconds
            let failed = issue.failed.count + missing.failed.count + check.failed.count
            issueRates.append(issueRate)
            checkRates.append(checkRate)
            failures.append(failed)
            print(
                "round \(round): issue \(issued.count)/\(emails.count) in \(Self.format(issue.seconds, 3)) s = \(Self.format(issueRate, 0)) codes/s; "
                    + "check \(toCheck.count - check.failed.count)/\(toCheck.count) in \(Self.format(check.seconds, 3)) s = \(Self.format(checkRate, 0)) codes/s; "
                    + "failures \(failed) (issue \(issue.failed.count), mail missing \(missing.failed.count), check \(check.failed.count))"
            )
            for (phase, phaseFailures) in [("issue", issue), ("mail", missing), ("check", check)] {
                for (message, count) in phaseFailures.messages.sorted(by: { $0.value > $1.value }).prefix(3) {
                    print("  \(phase) failed \(count)×: \(message)")
                }
            }
        }
        print(
            "median of \(self.rounds) rounds: issue \(Self.format(Self.median(issueRates), 0)) codes/s, "
                + "check \(Self.format(Self.median(checkRates), 0)) codes/s, "
                + "failures \(Self.format(Self.median(failures.map(Double.init)), 0)) (total \(failures.reduce(0, +)))"
        )
    }

    /// One code before the clock starts, so the connection is up; retried for up to 10 s while the
    /// verifier is starting.
    private static func warmUp(_ client: VerifierClient, email: String) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                _ = try await client.issue(email: email, purpose: .register, clientAddress: nil)
                return
            } catch {
                guard ContinuousClock.now < deadline else {
                    throw ValidationError("The verifier at the target does not answer: \(error)")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    // MARK: - Running calls

    /// A code read from the outbox, to check.
    struct CodeToCheck: Sendable {
        var email: String
        var code: String
    }

    /// Failed calls: which items, and how many of each message.
    struct Failures {
        var failed: Set<String> = []
        var messages: [String: Int] = [:]
        var seconds: Double = 0

        mutating func record(_ key: String, _ message: String) {
            self.failed.insert(key)
            self.messages[message, default: 0] += 1
        }
    }

    /// Runs `body` for every item, `concurrency` at a time, and times the whole.
    private static func concurrently<Item: Sendable>(
        _ items: [Item],
        concurrency: Int,
        key: @escaping @Sendable (Item) -> String,
        _ body: @escaping @Sendable (Item) async throws -> Void
    ) async -> Failures {
        let start = ContinuousClock.now
        var failures = await withTaskGroup(of: (String, String)?.self) { group in
            var failures = Failures()
            var next = 0
            func add(_ index: Int) {
                let item = items[index]
                group.addTask {
                    do {
                        try await body(item)
                        return nil
                    } catch {
                        return (key(item), "\(error)")
                    }
                }
            }
            while next < min(concurrency, items.count) {
                add(next)
                next += 1
            }
            for await result in group {
                if let (key, message) = result {
                    failures.record(key, message)
                }
                if next < items.count {
                    add(next)
                    next += 1
                }
            }
            return failures
        }
        failures.seconds = Self.seconds(ContinuousClock.now - start)
        return failures
    }

    // MARK: - Figures

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return max(Double(seconds) + Double(attoseconds) / 1e18, 1e-9)
    }

    private static func format(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }
}

/// The verification mails of an outbox folder, read once each.
struct OutboxReader {
    let folder: URL
    private var seen: Set<String> = []
    private var found: [String: String] = [:]

    init(folder: URL) {
        self.folder = folder
    }

    /// Every code found so far in the folder, by lowercased recipient; a newer mail to the same
    /// address replaces an older one (names sort by time).
    mutating func codes() throws -> [String: String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: self.folder.path)
        } catch {
            throw ValidationError("Cannot read the outbox \(self.folder.path): \(error.localizedDescription)")
        }
        for name in names.sorted() where name.hasSuffix(".eml") && !name.hasPrefix(".") && !self.seen.contains(name) {
            self.seen.insert(name)
            guard let text = try? String(contentsOf: self.folder.appendingPathComponent(name), encoding: .utf8),
                let (recipient, code) = Self.parse(text)
            else { continue }
            self.found[recipient.lowercased()] = code
        }
        return self.found
    }

    /// The `To:` address and the code of `Subject: Your Parley code: NNNNNN`, from the headers
    /// (folded lines unfolded).
    static func parse(_ text: String) -> (recipient: String, code: String)? {
        var headers: [String] = []
        // "\r\n" is one Character, a newline.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if line.isEmpty { break }
            if let first = line.first, first == " " || first == "\t", !headers.isEmpty {
                headers[headers.count - 1] += " " + line.trimmingCharacters(in: .whitespaces)
            } else {
                headers.append(String(line))
            }
        }
        func value(_ name: String) -> String? {
            headers.first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
                .map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
        }
        guard var recipient = value("To"), let subject = value("Subject") else { return nil }
        if let open = recipient.lastIndex(of: "<"), let close = recipient.lastIndex(of: ">"), open < close {
            recipient = String(recipient[recipient.index(after: open)..<close])
        }
        let prefix = "Your Parley code: "
        guard subject.hasPrefix(prefix) else { return nil }
        let code = String(subject.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        guard code.count == 6, code.allSatisfy(\.isASCII), code.allSatisfy(\.isNumber) else { return nil }
        return (recipient, code)
    }
}
