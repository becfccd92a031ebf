import ArgumentParser

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Checks that the API answers.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let response = try await global.client().send("GET", "status")
        try Printer(format: global.output).print(response) { json in
            "API \(((json as? [String: Any])?["status"] as? String) ?? "?") at \(global.url)\n"
        }
    }
}
