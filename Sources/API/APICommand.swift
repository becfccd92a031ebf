import ArgumentParser
import SchedulerCore

@main
struct APICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Serves the REST API."
    )

    func run() throws {
        throw ValidationError("this build of api has no commands yet; see --help")
    }
}
