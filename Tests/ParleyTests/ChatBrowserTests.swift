import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The chat page in headless Chromium: `Tests/browser/chat_test.py` drives two users through
/// friend requests, live texts, presence, sync after a reload, a server restart and a takeover,
/// against the `parley` this run built.
///
/// Needs Debian's `chromium`, `chromium-driver` and `python3-selenium` (scripts/test.sh installs
/// them). Without them the suite is skipped on a developer's machine; under `CI=true` it runs and
/// fails with the install command.
@Suite("Chat page in a browser", .enabled(if: ChatBrowser.isEnabled))
struct ChatBrowserTests {
    @Test(.timeLimit(.minutes(5))) func twoUsersChatInTheBrowser() async throws {
        try await ChatBrowser.run()
    }
}

/// What the browser test needs, and running it.
enum ChatBrowser {
    static let installHint = "install: apt-get install -y chromium chromium-driver python3-selenium"
    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"

    /// On under CI; elsewhere only where the browser, its driver and selenium are installed.
    static let isEnabled: Bool = ProcessInfo.processInfo.environment["CI"] == "true" || Self.missing.isEmpty

    /// What is not installed, by name; empty when everything is.
    static let missing: [String] = {
        var missing: [String] = []
        if !FileManager.default.isExecutableFile(atPath: chromium) { missing.append(chromium) }
        if !FileManager.default.isExecutableFile(atPath: chromedriver) { missing.append(chromedriver) }
        if pythonWithSelenium == nil { missing.append("a python3 that can import selenium") }
        return missing
    }()

    /// Debian's `/usr/bin/python3` first (a `python3` earlier in `PATH`, such as pyenv's, does
    /// not see Debian's packages), then every `python3` in `PATH`.
    static let pythonWithSelenium: String? = {
        var candidates = ["/usr/bin/python3"]
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append("\(directory)/python3")
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: candidate)
            process.arguments = ["-c", "import selenium"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            guard (try? process.run()) != nil else { continue }
            process.waitUntilExit()
            if process.terminationStatus == 0 { return candidate }
        }
        return nil
    }()

    /// The package's root folder, where `Tests/browser/` is.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func run() async throws {
        guard Self.missing.isEmpty, let python = Self.pythonWithSelenium else {
            Issue.record("the browser test needs \(Self.missing.joined(separator: ", ")); \(Self.installHint)")
            return
        }
        let parley = try ParleyProcess.executable
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("parley-chat-browser-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let output = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.root.appendingPathComponent("Tests/browser/chat_test.py").path, parley.path]
        process.currentDirectoryURL = Self.root
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(240)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                // Stuck: SIGTERM makes the script stop its server and browsers on the way out.
                process.terminate()
                try await Task.sleep(for: .seconds(2))
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        process.waitUntilExit()
        try output.close()
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "chat_test.py exited with \(process.terminationStatus):\n\(text)")
    }
}
