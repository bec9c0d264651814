import ArgumentParser
import Foundation
import ParleyClient
import ParleyContacts

/// `parley contacts --user NAME --servers HOST:PORT,… add|remove|list`: a user's contact
/// list on the contacts replicas, over the seed 003 client protocol.
struct ContactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts",
        abstract: "Read and write a user's contacts on the contacts replicas.",
        discussion: """
            The contacts protocol has no authentication: anyone who reaches a replica can act \
            as any user, which is why replicas listen on 127.0.0.1 unless told otherwise. The \
            command tries each server in turn and moves to the next when one does not answer.
            """,
        subcommands: [AddCommand.self, RemoveCommand.self, ListCommand.self]
    )

    @Option(help: ArgumentHelp("The user whose contacts to use (default: $PARLEY_CONTACTS_USER).", valueName: "NAME"))
    var user: String?

    @Option(
        help: ArgumentHelp(
            "The replicas to try, in order (default: $PARLEY_CONTACTS_SERVERS, else 127.0.0.1:9000).",
            valueName: "HOST:PORT,…"
        )
    )
    var servers: String?

    @Option(help: "Seconds each server gets to answer.")
    var timeout: Double = 2

    func validate() throws {
        _ = try self.client()
    }

    /// The client the options describe.
    func client() throws -> ContactsClient {
        let environment = ProcessInfo.processInfo.environment
        guard let user = self.user ?? environment["PARLEY_CONTACTS_USER"], !user.isEmpty else {
            throw ValidationError("Give the user with --user NAME (or PARLEY_CONTACTS_USER).")
        }
        let list = self.servers ?? environment["PARLEY_CONTACTS_SERVERS"] ?? "127.0.0.1:9000"
        let servers = try list.split(separator: ",").map { try Self.server(String($0).trimmingCharacters(in: .whitespaces)) }
        guard !servers.isEmpty else {
            throw ValidationError("--servers needs at least one HOST:PORT.")
        }
        guard self.timeout > 0, self.timeout <= 3600 else {
            throw ValidationError("--timeout must be between 0 and 3600 seconds.")
        }
        return ContactsClient(user: user, servers: servers, timeout: .milliseconds(Int64(self.timeout * 1000)))
    }

    /// Parses `HOST:PORT` (`[::1]:PORT` for IPv6).
    static func server(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port), colon > text.startIndex
        else {
            throw ValidationError("'\(text)' is not HOST:PORT.")
        }
        var host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
        }
        return (String(host), port)
    }

    /// `parley contacts … add NAME PHONE`.
    struct AddCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Add a contact, or change its phone number."
        )

        @ParentCommand var parent: ContactsCommand

        @Argument(help: "The contact's name (at most 255 bytes of UTF-8).")
        var name: String

        @Argument(help: "The phone number: digits, an optional leading +, spaces, -, ( and ) (at most 19 bytes).")
        var phone: String

        func run() async throws {
            let client = try self.parent.client()
            try await ClientConsole.run {
                try await client.update(contact: self.name, phone: self.phone)
                ClientConsole.print("Saved \(PostListing.sanitize(self.name, keepNewlines: false)).")
            }
        }
    }

    /// `parley contacts … remove NAME`.
    struct RemoveCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove a contact."
        )

        @ParentCommand var parent: ContactsCommand

        @Argument(help: "The contact's name.")
        var name: String

        func run() async throws {
            let client = try self.parent.client()
            try await ClientConsole.run {
                try await client.delete(contact: self.name)
                ClientConsole.print("Removed \(PostListing.sanitize(self.name, keepNewlines: false)).")
            }
        }
    }

    /// `parley contacts … list`.
    struct ListCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Show the contacts, sorted by name, as NAME<TAB>PHONE lines."
        )

        @ParentCommand var parent: ContactsCommand

        func run() async throws {
            let client = try self.parent.client()
            try await ClientConsole.run {
                for contact in try await client.list() {
                    ClientConsole.print("\(PostListing.sanitize(contact.name, keepNewlines: false).replacingOccurrences(of: "\t", with: " "))\t\(contact.phone)")
                }
            }
        }
    }
}
