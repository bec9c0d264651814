import ArgumentParser
import Foundation
import ParleyClient
import ParleyCore

/// `parley account register|login|logout|whoami|reset-password|profile`: accounts and the saved session.
struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Register, log in and out of a Parley gateway, reset a password, edit a profile.",
        discussion: """
            Passwords are never taken from flags: set PARLEY_PASSWORD, or pipe one line on \
            standard input, or type it at the prompt (not echoed). A verification code is asked \
            for after it is mailed (or given with --code; piped, it is the first line). The session \
            is saved in $XDG_CONFIG_HOME/parley/session.json (or ~/.config/parley/session.json), mode 0600.
            """,
        subcommands: [Register.self, Login.self, Logout.self, WhoAmI.self, ResetPassword.self, ProfileCommand.self]
    )

    /// The code: `--code`, else mailed now to `email` for `purpose` and then asked for.
    static func code(_ flag: String?, email: String, purpose: String, client: ParleyHTTPClient) async throws -> String {
        if let flag, !flag.isEmpty { return flag }
        let sent = try await client.sendCode(email: email, purpose: purpose)
        ClientConsole.note(
            "a code was mailed to \(sent.email); it is valid for \(sent.validForSeconds / 60) minutes "
                + "(a new one can be asked for in \(sent.resendAfterSeconds) s)"
        )
        guard let line = TerminalInput.line(prompt: "Code from the email: "), !line.isEmpty else {
            throw ParleyError(.invalidInput, "no code given (use --code DIGITS)")
        }
        return line
    }

    /// `parley account register`.
    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account.")

        @OptionGroup var options: ClientGatewayOptions

        @Option(help: "The username to register (asked for when missing).")
        var username: String?

        @Option(help: "Your email address: a code is mailed to it, then asked for.")
        var email: String

        @Option(help: "A code already mailed to --email for registering (skips sending a new one).")
        var code: String?

        func run() async throws {
            try await ClientConsole.run {
                let client = try ParleyHTTPClient(gateway: try self.options.gateway(saved: nil))
                let username = try ClientConsole.username(self.username)
                let code = try await AccountCommand.code(self.code, email: self.email, purpose: "register", client: client)
                let password = try TerminalInput.password(confirm: true)
                let user = try await client.register(username: username, password: password, email: self.email, code: code)
                ClientConsole.print("Registered \(user.username). Log in with: parley account login --username \(user.username)")
            }
        }
    }

    /// `parley account login`.
    struct Login: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Log in and save the session.")

        @OptionGroup var options: ClientGatewayOptions

        @Option(help: "The username or the account's email address (asked for when missing).")
        var username: String?

        func run() async throws {
            try await ClientConsole.run {
                let client = try ParleyHTTPClient(gateway: try self.options.gateway(saved: nil))
                let username = try ClientConsole.username(self.username)
                let password = try TerminalInput.password()
                let session = try await client.login(username: username, password: password)
                try CredentialStore.standard().save(
                    StoredSession(gateway: client.gateway, username: session.username, token: session.token))
                ClientConsole.print("Logged in as \(session.username)")
            }
        }
    }

    /// `parley account logout`.
    struct Logout: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End the saved session and forget it.",
            discussion: "The session is ended on the gateway that issued it, whatever --gateway says."
        )

        @OptionGroup var options: ClientGatewayOptions

        func run() async throws {
            try await ClientConsole.run {
                let store = CredentialStore.standard()
                let saved: StoredSession?
                do {
                    saved = try store.load()
                } catch {
                    try store.delete()  // a damaged file: forget it
                    ClientConsole.print("Removed a damaged saved session.")
                    return
                }
                guard let saved else {
                    ClientConsole.print("Not logged in.")
                    return
                }
                var gatewayError: ParleyError?
                do {
                    let client = try ParleyHTTPClient(gateway: saved.gateway)
                    try await client.logout(token: saved.token)
                } catch let error as ParleyError where error.code == .unauthenticated {
                    // Already expired or ended: nothing left to end on the gateway.
                } catch let error as ParleyError {
                    gatewayError = error
                }
                try store.delete()
                if let gatewayError {
                    throw ParleyError(gatewayError.code, "forgot the saved session, but could not end it on the gateway (it stays valid until it expires): \(gatewayError.message)")
                }
                ClientConsole.print("Logged out \(saved.username).")
            }
        }
    }

    /// `parley account whoami`.
    struct WhoAmI: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "whoami",
            abstract: "Show who the saved session belongs to, as the gateway sees it."
        )

        @OptionGroup var options: ClientGatewayOptions

        func run() async throws {
            try await ClientConsole.run {
                guard let saved = try CredentialStore.standard().load() else {
                    throw ParleyError(.unauthenticated, "not logged in (log in with `parley account login`)")
                }
                let client = try ParleyHTTPClient(gateway: saved.gateway)
                let username = try await client.me(token: saved.token)
                ClientConsole.print("\(username) at \(client.gateway)")
            }
        }
    }

    /// `parley account reset-password`.
    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set a new password with a code mailed to the account's email address.",
            discussion: "Every session of the account ends, the saved one included."
        )

        @OptionGroup var options: ClientGatewayOptions

        @Option(help: "The account's email address.")
        var email: String

        @Option(help: "A code already mailed for a reset (skips sending a new one).")
        var code: String?

        func run() async throws {
            try await ClientConsole.run {
                let client = try ParleyHTTPClient(gateway: try self.options.gateway(saved: nil))
                let code = try await AccountCommand.code(self.code, email: self.email, purpose: "reset", client: client)
                let password = try TerminalInput.password(confirm: true)
                try await client.resetPassword(email: self.email, code: code, password: password)
                ClientConsole.print("Password changed; every session of the account has ended. Log in with: parley account login")
            }
        }
    }

    /// `parley account profile`.
    struct ProfileCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "profile",
            abstract: "Show the logged-in user's profile, or change it with --nickname and --description."
        )

        @Option(help: "A new nickname (1–50 characters).")
        var nickname: String?

        @Option(help: "A new description (at most 1,000 characters).")
        var description: String?

        func run() async throws {
            try await ClientConsole.run {
                guard let saved = try CredentialStore.standard().load() else {
                    throw ParleyError(.unauthenticated, "not logged in (log in with `parley account login`)")
                }
                let client = try ParleyHTTPClient(gateway: saved.gateway)
                var profile = try await client.profile(token: saved.token)
                if self.nickname != nil || self.description != nil {
                    profile = try await client.updateProfile(
                        token: saved.token, nickname: self.nickname ?? profile.nickname,
                        description: self.description ?? profile.description
                    )
                }
                ClientConsole.print("username:    \(profile.username)")
                ClientConsole.print("nickname:    \(profile.nickname)")
                ClientConsole.print("email:       \(profile.email ?? "(none)")")
                ClientConsole.print("description: \(profile.description)")
            }
        }
    }
}

/// `--gateway URL`, shared by the client subcommands.
struct ClientGatewayOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The gateway's base URL (default: $PARLEY_GATEWAY, else the saved session's gateway where it applies, else \(GatewayAddress.defaultURL)).",
            valueName: "URL"
        )
    )
    var gateway: String?

    /// The gateway to talk to: the flag, else `PARLEY_GATEWAY`, else `saved`, else the default.
    func gateway(saved: String?) throws(ParleyError) -> String {
        try GatewayAddress.resolve(flag: self.gateway, environment: ProcessInfo.processInfo.environment, saved: saved)
    }
}

/// Output and error handling shared by the client subcommands.
enum ClientConsole {
    /// Runs a client command: any error is printed as `error: MESSAGE` on standard error
    /// and the command exits with status 1, without a stack trace.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ParleyError {
            Self.printError(Self.message(for: error))
            throw ExitCode(1)
        } catch let error as ExitCode {
            throw error
        } catch is CancellationError {
            Self.printError("cancelled")
            throw ExitCode(1)
        } catch {
            Self.printError(String(describing: error))
            throw ExitCode(1)
        }
    }

    /// The message shown for an error, with a hint where one helps.
    static func message(for error: ParleyError) -> String {
        switch error.code {
        case .unauthenticated where !error.message.contains("parley account"):
            "\(error.message) (log in again with `parley account login`)"
        default:
            error.message
        }
    }

    /// The username from the flag, else asked for (or read from piped standard input).
    static func username(_ flag: String?) throws(ParleyError) -> String {
        if let flag, !flag.isEmpty { return flag }
        guard let line = TerminalInput.line(prompt: "Username: "), !line.isEmpty else {
            throw ParleyError(.invalidInput, "no username given (use --username NAME)")
        }
        return line
    }

    /// Writes a line to standard output.
    static func print(_ text: String) {
        Swift.print(text)
    }

    /// Writes a line to standard error, as a note that is not the command's output.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data("note: \(text)\n".utf8))
    }

    /// Writes `error: MESSAGE` to standard error.
    static func printError(_ text: String) {
        FileHandle.standardError.write(Data("error: \(text)\n".utf8))
    }
}
