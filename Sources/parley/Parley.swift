import ArgumentParser
import NIOCore

/// The `parley` command: servers, clients and tools in one binary.
@main
struct Parley: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "Parley: a distributed message board and chat system.",
        subcommands: [ServeCommand.self, MigrateCommand.self, AccountCommand.self, BoardCommand.self, ChatCommand.self, ContactsCommand.self, ClusterCommand.self, LoadgenCommand.self]
    )

    /// As ArgumentParser's `main`, except for a `ValidationError` thrown once a command runs (a
    /// setting found wrong when it is read, from a flag or the environment): it is printed without
    /// the usage of `parley` itself, which says nothing about it, and exits 1, not 64.
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try await asyncParseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ValidationError {
            exit(withError: SettingError(description: error.message))
        } catch {
            exit(withError: error)
        }
    }
}

/// A setting's value refused once a command runs (see ``Parley/main()``).
struct SettingError: Error, CustomStringConvertible {
    let description: String
}

/// Half the cores, at least one, for roles whose handlers run on Swift concurrency's pool, which
/// has a thread per core already: event loops on the other half keep the threads fewer than twice
/// the cores. On a 2-core machine one event loop served the board's newest page with less CPU per
/// request than two, /healthz and posts alike within the noise (BENCHMARKS.md, "Fourth round").
let defaultEventLoopThreads = max(1, System.coreCount / 2)

/// A contacts replica alone does its work on the event loops themselves: one per core, NIO's
/// default (one event loop per replica accepted 67,499–69,300 updates/s and a restarted replica
/// converged in 1.72–1.74 s, against 78,616–80,645 and 1.12–1.23 s with two).
let contactsEventLoopThreads = System.coreCount

/// Sizes NIO's shared event loop group, which every server and client of the process uses; call
/// it before anything uses the group.
func useEventLoopThreads(_ count: Int) {
    NIOSingletons.groupLoopCountSuggestion = count
}
