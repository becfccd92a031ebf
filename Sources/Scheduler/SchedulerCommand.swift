import ArgumentParser
import SchedulerCore

@main
struct SchedulerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Fires job runs on time and follows them to a final status."
    )

    func run() throws {
        throw ValidationError("this build of scheduler has no commands yet; see --help")
    }
}
