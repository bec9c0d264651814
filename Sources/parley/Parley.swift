import ArgumentParser

/// The `parley` command: servers, clients and tools in one binary.
@main
struct Parley: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "Parley: a distributed message board and chat system.",
        subcommands: [ServeCommand.self, MigrateCommand.self, AccountCommand.self, BoardCommand.self, ChatCommand.self, ContactsCommand.self, ClusterCommand.self, LoadgenCommand.self]
    )
}
