#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ParleyCore

/// Reading names and passwords for the CLI: from the environment, from piped standard
/// input, or from the terminal without echo. Passwords never come from flags.
public enum TerminalInput {
    /// The environment variable a password is taken from when set.
    public static let passwordVariable = "PARLEY_PASSWORD"

    /// Whether standard input is a terminal (and not a pipe or a file).
    public static var standardInputIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    /// One line of standard input without its line ending; on a terminal `prompt` is shown
    /// on standard error first. Nil at end of input.
    public static func line(prompt: String) -> String? {
        if Self.standardInputIsTerminal { Self.writeToStandardError(prompt) }
        return Self.readLineWithoutEnding()
    }

    /// The password: `PARLEY_PASSWORD` when set, else one line of standard input when it
    /// is not a terminal, else asked for on the terminal without echo (twice when
    /// `confirm`, as when registering).
    public static func password(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        confirm: Bool = false
    ) throws(ParleyError) -> String {
        if let fromEnvironment = environment[Self.passwordVariable] { return fromEnvironment }
        guard Self.standardInputIsTerminal else {
            guard let line = Self.readLineWithoutEnding() else {
                throw ParleyError(.invalidInput, "no password: standard input ended (set \(Self.passwordVariable) or pipe one line)")
            }
            return line
        }
        guard let first = Self.secret(prompt: "Password: ") else {
            throw ParleyError(.invalidInput, "no password given")
        }
        if confirm {
            guard let second = Self.secret(prompt: "Password again: "), second == first else {
                throw ParleyError(.invalidInput, "the two passwords differ")
            }
        }
        return first
    }

    /// Reads one line from the terminal with echo off, restoring the terminal afterwards
    /// and also when a signal (Ctrl-C) ends the process meanwhile.
    static func secret(prompt: String) -> String? {
        Self.writeToStandardError(prompt)
        var original = termios()
        guard tcgetattr(STDIN_FILENO, &original) == 0 else { return Self.readLineWithoutEnding() }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        silent.c_lflag |= tcflag_t(ECHONL)
        savedTerminalState = original
        let signals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
        let previousHandlers = signals.map { signal($0, restoreTerminalAndReraise) }
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        let line = Self.readLineWithoutEnding()
        tcsetattr(STDIN_FILENO, TCSANOW, &original)
        for (signalNumber, handler) in zip(signals, previousHandlers) { signal(signalNumber, handler) }
        return line
    }

    /// `readLine()` without a trailing `\r` either.
    static func readLineWithoutEnding() -> String? {
        guard var line = readLine(strippingNewline: true) else { return nil }
        if line.hasSuffix("\r") { line.removeLast() }
        return line
    }

    /// Writes text to standard error, unbuffered.
    static func writeToStandardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// The terminal settings to put back if a signal arrives while echo is off. Written only
/// before the handler is installed, read only by the handler.
nonisolated(unsafe) private var savedTerminalState = termios()

/// Signal handler: restores the terminal, then dies of the signal as it would have.
private func restoreTerminalAndReraise(_ signalNumber: Int32) {
    var state = savedTerminalState
    tcsetattr(STDIN_FILENO, TCSANOW, &state)
    var newline: UInt8 = 10
    _ = write(STDERR_FILENO, &newline, 1)
    signal(signalNumber, SIG_DFL)
    raise(signalNumber)
}
