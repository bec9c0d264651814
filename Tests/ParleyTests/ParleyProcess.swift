import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A `parley` process started from the binary this test run built.
final class ParleyProcess: Sendable {
    let process: Process
    let output = Mutex("")

    /// The `parley` executable next to the test bundle (`.build/debug/parley`).
    static var executable: URL {
        get throws {
            let candidates = [
                URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("parley"),
                URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                    .deletingLastPathComponent().appendingPathComponent(".build/debug/parley"),
            ]
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
                throw ProcessError("the parley executable was not built; run `swift build --build-tests` first")
            }
            return found
        }
    }

    /// Starts `parley ARGUMENTS` with extra environment; standard output and error are kept.
    init(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws {
        let process = Process()
        process.executableURL = try Self.executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let input = Pipe()
        process.standardInput = input
        self.process = process
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if !data.isEmpty { self?.output.withLock { $0 += String(decoding: data, as: UTF8.self) } }
        }
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
    }

    /// Everything the process printed so far.
    var text: String { self.output.withLock { $0 } }

    /// Waits until the output holds a match of `pattern` and returns its first capture group.
    func waitFor(_ pattern: String, timeout: Duration = .seconds(20)) async throws -> String {
        let regex = try NSRegularExpression(pattern: pattern)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = self.text
            if let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) {
                let range = match.numberOfRanges > 1 ? match.range(at: 1) : match.range
                return String(text[Range(range, in: text)!])
            }
            if !self.process.isRunning, !text.isEmpty, regex.firstMatch(in: self.text, range: NSRange(self.text.startIndex..., in: self.text)) == nil {
                throw ProcessError("parley exited (\(self.process.terminationStatus)) without printing /\(pattern)/:\n\(text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ProcessError("timed out waiting for /\(pattern)/ in:\n\(self.text)")
    }

    /// Sends a signal (SIGTERM, SIGKILL …).
    func signal(_ signal: Int32) { kill(self.process.processIdentifier, signal) }

    /// Waits for the process to end and returns its exit status.
    @discardableResult
    func wait(timeout: Duration = .seconds(20)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning {
            guard ContinuousClock.now < deadline else {
                self.signal(SIGKILL)
                throw ProcessError("parley did not exit in time:\n\(self.text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        // Let the last output arrive.
        try await Task.sleep(for: .milliseconds(50))
        return self.process.terminationStatus
    }

    /// Runs `parley ARGUMENTS` to the end; returns exit status and output.
    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) async throws -> (status: Int32, output: String) {
        let process = try ParleyProcess(arguments, environment: environment, stdin: stdin)
        let status = try await process.wait()
        return (status, process.text)
    }

    deinit {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
    }
}

struct ProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
