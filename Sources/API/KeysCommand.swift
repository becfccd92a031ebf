import ArgumentParser

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manages API keys.", subcommands: [CreateKey.self])

    struct CreateKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Prints a new API key once, and the line to append to SIMPLE_SCHEDULER_API_KEYS_FILE.",
            discussion: "Only the key's SHA-256 hash goes into the file; the key itself is shown this once.")

        @Option(help: "A name for the key (shown in logs).")
        var name: String

        @Option(help: "Space-separated scopes, e.g. \"jobs:read runs:read\".")
        var scopes: String

        func run() throws {
            let created = try APIKeys.create(name: name, scopes: scopes.split(separator: " ").map(String.init))
            print("key:  \(created.key)")
            print("line: \(created.line)")
        }
    }
}
