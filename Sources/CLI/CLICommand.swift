import ArgumentParser
import SchedulerCore

@main
struct CLICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simple-scheduler",
        abstract: "Manages jobs and runs through the API."
    )

    func run() throws {
        throw ValidationError("this build of simple-scheduler has no commands yet; see --help")
    }
}
