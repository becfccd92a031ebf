import ArgumentParser
import Foundation

@main
struct SimpleScheduler: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simple-scheduler",
        abstract: "Manages Simple Scheduler jobs and runs through its API.",
        discussion: """
            Authenticate with --token (or SIMPLE_SCHEDULER_TOKEN): an API key (ssk_…) or a bearer token; \
            or run `login` once. Results go to stdout, diagnostics to stderr. Exit status: 0 on success, \
            1 when the API or the network refuses, 2 on a usage error.
            """,
        subcommands: [
            LoginCommand.self, LogoutCommand.self, StatusCommand.self, ListCommand.self, GetCommand.self,
            AddCommand.self, UpdateCommand.self, DeleteCommand.self, TriggerCommand.self, CancelCommand.self,
        ]
    )

    /// Exit statuses as SPEC §9 gives them: 1 for API and network errors, 2 for usage errors
    /// (argument-parser's own default for those is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("simple-scheduler: \(error.message)\n".utf8))
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data("\(fullMessage(for: error))\n".utf8))
            Foundation.exit(code == .failure ? 1 : 2)
        }
    }
}
