import ArgumentParser
import Foundation
import ParleyClient
import ParleyCore

/// `parley board post|list`: the public message board.
struct BoardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "board",
        abstract: "Read and write the public board.",
        subcommands: [PostCommand.self, ListCommand.self]
    )

    /// `parley board post --title T BODY`.
    struct PostCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "post",
            abstract: "Write a post, as the logged-in user or else as Guest."
        )

        @OptionGroup var options: ClientGatewayOptions

        @Option(help: "The post's title.")
        var title: String

        @Argument(help: "The post's text; '-' reads it from standard input.")
        var body: String

        func run() async throws {
            try await ClientConsole.run {
                let saved = try CredentialStore.standard().load()
                let client = try ParleyHTTPClient(gateway: try self.options.gateway(saved: saved?.gateway))
                var token: String?
                if let saved, GatewayAddress.same(saved.gateway, client.gateway) {
                    token = saved.token
                } else if let saved {
                    ClientConsole.note("the saved session is for \(saved.gateway), not \(client.gateway); posting as Guest")
                } else {
                    ClientConsole.note("not logged in; posting as Guest")
                }
                let post = try await client.createPost(title: self.title, body: try self.text(), token: token)
                ClientConsole.print("Posted #\(post.id) as \(PostListing.sanitize(post.author, keepNewlines: false)).")
            }
        }

        /// The body argument, or all of standard input for `-`.
        private func text() throws(ParleyError) -> String {
            guard self.body == "-" else { return self.body }
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard let text = String(data: data, encoding: .utf8) else {
                throw ParleyError(.invalidInput, "standard input is not UTF-8 text")
            }
            return text
        }
    }

    /// `parley board list [--limit N] [--before CURSOR]`.
    struct ListCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Show posts, newest first."
        )

        @OptionGroup var options: ClientGatewayOptions

        @Option(help: "How many posts to show, 1 to 100 (default: the gateway's, 20).")
        var limit: Int?

        @Option(help: ArgumentHelp("Show posts older than this cursor (printed after a page).", valueName: "CURSOR"))
        var before: Int64?

        func validate() throws {
            if let limit, !Limits.pageSize.contains(limit) {
                throw ValidationError("--limit must be from 1 to 100.")
            }
            if let before, before <= 0 {
                throw ValidationError("--before must be a cursor printed by an earlier page.")
            }
        }

        func run() async throws {
            try await ClientConsole.run {
                let saved = try? CredentialStore.standard().load()
                let client = try ParleyHTTPClient(gateway: try self.options.gateway(saved: saved?.gateway))
                let page = try await client.posts(limit: self.limit, before: self.before)
                let options = (self.limit.map { ["--limit", "\($0)"] } ?? []) + (self.options.gateway.map { ["--gateway", $0] } ?? [])
                Swift.print(PostListing.render(page, options: options), terminator: "")
            }
        }
    }
}
