import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A real SMTP server for tests: `smtp_test_server.py` (beside this file) on Debian's
/// `python3-aiosmtpd`, in a fresh folder `/tmp/parley-smtp-*`, on a port of 127.0.0.1 the kernel picks.
///
/// - `SMTPTestServer.run(options) { server in … }` starts a server, waits until it accepts
///   connections, runs the body and stops the server, whatever the body does.
/// - Each message received is kept in the folder; ``messages()`` reads them back, parsed by
///   Python's `email` package (decoded subject and body), so the tests check the client's encoding
///   against an independent decoder.
/// - STARTTLS and implicit TLS use a self-signed certificate for `localhost` (not for 127.0.0.1, so
///   that a client must check the name), made once per test run by `openssl req -x509`;
///   ``certificatePath()`` is its PEM, to trust as a root.
/// - A missing package makes ``start()`` throw "install: apt-get install -y python3-aiosmtpd".
///   With `PARLEY_SKIP_SMTP=1`, and only when `CI` is not `true`, ``isEnabled`` is `false`: suites
///   use `.enabled(if: SMTPTestServer.isEnabled)` and are reported as skipped.
/// - No strays: the server exits when its standard input closes, which happens when the test
///   process ends, however it ends; ``stop()`` also terminates it and removes the folder.
public actor SMTPTestServer {
    /// What the server offers and refuses.
    public struct Options: Sendable {
        /// Offer STARTTLS.
        public var startTLS = false
        /// Speak TLS from the first byte.
        public var implicitTLS = false
        /// Require AUTH with this user name and ``password``.
        public var authUser: String?
        /// The password of ``authUser``.
        public var password = "correct horse"
        /// The mechanisms offered: some of PLAIN and LOGIN.
        public var authMechanisms = ["PLAIN", "LOGIN"]
        /// Offer AUTH without TLS.
        public var authWithoutTLS = false
        /// Recipients refused with `550 5.1.1 no such user`.
        public var rejectedRecipients: [String] = []
        /// Answer EHLO with 502, so the client must fall back to HELO.
        public var refuseEHLO = false

        /// Options; by default plain SMTP, no AUTH, every recipient accepted.
        public init(
            startTLS: Bool = false, implicitTLS: Bool = false, authUser: String? = nil, password: String = "correct horse",
            authMechanisms: [String] = ["PLAIN", "LOGIN"], authWithoutTLS: Bool = false,
            rejectedRecipients: [String] = [], refuseEHLO: Bool = false
        ) {
            self.startTLS = startTLS
            self.implicitTLS = implicitTLS
            self.authUser = authUser
            self.password = password
            self.authMechanisms = authMechanisms
            self.authWithoutTLS = authWithoutTLS
            self.rejectedRecipients = rejectedRecipients
            self.refuseEHLO = refuseEHLO
        }
    }

    /// A message as the server received it.
    public struct Message: Decodable, Sendable {
        public var mailFrom: String
        public var rcptTos: [String]
        /// Whether it came over TLS.
        public var tls: Bool
        /// Whether the client had authenticated.
        public var authenticated: Bool
        /// The `Subject`, decoded by Python's `email` package.
        public var subject: String
        public var from: String
        public var to: String
        /// The text body, decoded, with LF line breaks.
        public var body: String?
        /// What Python's `email` package found wrong with the message.
        public var defects: [String]
        /// The bytes received, after the server removed the dot-stuffing.
        public var raw = ""

        public enum CodingKeys: String, CodingKey {
            case mailFrom = "mail_from"
            case rcptTos = "rcpt_tos"
            case tls, authenticated, subject, from, to, body, defects
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        /// Creates a failure with its message.
        public init(description: String) { self.description = description }
    }

    /// Whether tests that need the server run: `false` only on a developer's machine that sets
    /// `PARLEY_SKIP_SMTP=1`; under `CI=true` they always run.
    public static let isEnabled: Bool = {
        let environment = ProcessInfo.processInfo.environment
        return environment["PARLEY_SKIP_SMTP"] != "1" || environment["CI"] == "true"
    }()

    public static let installHint = "install: apt-get install -y python3-aiosmtpd"

    public let options: Options
    /// The folder holding the messages, the log and the ready file.
    public let folder: URL
    /// The TCP port on 127.0.0.1; 0 before ``start()``.
    public private(set) var port = 0
    private var process: Process?
    private var stdin: Pipe?

    public init(_ options: Options = Options()) {
        self.options = options
        self.folder = URL(fileURLWithPath: "/tmp/parley-smtp-\(UUID().uuidString.lowercased())", isDirectory: true)
    }

    /// Starts a server, runs `body`, and stops the server.
    public static func run<T: Sendable>(
        _ options: Options = Options(),
        _ body: (SMTPTestServer) async throws -> T
    ) async throws -> T {
        let server = SMTPTestServer(options)
        do {
            try await server.start()
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// The PEM certificate the server presents over TLS; trust it as a root.
    public static func certificatePath() async throws -> String {
        try await TestCertificate.shared.value.certificate
    }

    /// Starts the server and waits until it accepts connections.
    public func start() async throws {
        guard self.process == nil else { return }
        let python = try Self.python()
        try FileManager.default.createDirectory(at: self.folder, withIntermediateDirectories: true)
        let readyFile = self.folder.appendingPathComponent("port").path
        let logFile = self.folder.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)

        var arguments = [Self.scriptPath, "--folder", self.folder.path, "--ready-file", readyFile]
        if self.options.startTLS || self.options.implicitTLS {
            let certificate = try await TestCertificate.shared.value
            arguments += ["--cert", certificate.certificate, "--key", certificate.key]
            arguments.append(self.options.startTLS ? "--starttls" : "--implicit-tls")
        }
        if let user = self.options.authUser {
            arguments += ["--auth", user, "--auth-mechanisms", self.options.authMechanisms.joined(separator: ",")]
        }
        if self.options.authWithoutTLS { arguments.append("--auth-plaintext") }
        for address in self.options.rejectedRecipients { arguments += ["--reject", address] }
        if self.options.refuseEHLO { arguments.append("--no-ehlo") }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["SMTP_TEST_PASSWORD"] = self.options.password
        process.environment = environment
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: logFile)
        try process.run()
        self.process = process
        self.stdin = stdin

        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: readyFile, encoding: .utf8), let port = Int(text) {
                self.port = port
                return
            }
            guard process.isRunning else {
                let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
                throw Failure(description: "the SMTP test server exited at start: \(log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Failure(description: "the SMTP test server did not start within 20 s")
    }

    /// Stops the server, waits until it has exited, and removes its folder.
    public func stop() async {
        if let process = self.process {
            try? self.stdin?.fileHandleForWriting.close()
            if process.isRunning {
                process.terminate()
            }
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        self.process = nil
        self.stdin = nil
        try? FileManager.default.removeItem(at: self.folder)
    }

    /// The messages received so far, oldest first.
    public func messages() throws -> [Message] {
        let names = try FileManager.default.contentsOfDirectory(atPath: self.folder.path)
        let numbers = names.compactMap { name -> Int? in
            name.hasSuffix(".json") ? Int(name.dropLast(5)) : nil
        }
        return try numbers.sorted().map { number in
            let base = self.folder.appendingPathComponent("\(number)")
            var message = try JSONDecoder().decode(Message.self, from: Data(contentsOf: base.appendingPathExtension("json")))
            message.raw = try String(contentsOf: base.appendingPathExtension("eml"), encoding: .utf8)
            return message
        }
    }

    // MARK: - Python and the certificate

    /// `smtp_test_server.py`, next to this file.
    private static let scriptPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("smtp_test_server.py")
        .path

    /// A Python that can import aiosmtpd: Debian's `/usr/bin/python3` first (another `python3`
    /// earlier in `PATH`, such as pyenv's, does not see Debian's packages).
    private static func python() throws -> String {
        if let python = Self.pythonWithAiosmtpd {
            return python
        }
        throw Failure(description: "the SMTP tests need Python's aiosmtpd; \(Self.installHint)")
    }

    private static let pythonWithAiosmtpd: String? = {
        var candidates = ["/usr/bin/python3"]
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(directory)/python3")
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            if (try? run(candidate, ["-c", "import aiosmtpd"])) != nil {
                return candidate
            }
        }
        return nil
    }()

    /// Runs a command to completion; throws with its output if it fails.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }
}

/// The self-signed certificate every TLS test server presents, made once per test run and removed
/// when the process exits.
public enum TestCertificate {
    public struct Files: Sendable {
        public var certificate: String
        public var key: String
    }

    public static let shared = Task<Files, any Error> {
        let directory = URL(fileURLWithPath: "/tmp/parley-smtp-cert-\(UUID().uuidString.lowercased())", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        createdDirectory.withLock { $0 = directory.path }
        atexit {
            if let path = TestCertificate.createdDirectory.withLock({ $0 }) {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            throw SMTPTestServer.Failure(description: "the TLS tests need openssl; install: apt-get install -y openssl")
        }
        try SMTPTestServer.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost", "-days", "2",
                "-keyout", "key.pem", "-out", "cert.pem",
            ],
            in: directory
        )
        return Files(
            certificate: directory.appendingPathComponent("cert.pem").path,
            key: directory.appendingPathComponent("key.pem").path
        )
    }

    public static let createdDirectory = Mutex<String?>(nil)
}
