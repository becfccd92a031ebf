import ArgumentParser
import SchedulerCore

@main
struct CustodianCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custodian",
        abstract: "Frees the jobs of dead scheduler instances and prunes old data."
    )

    func run() throws {
        throw ValidationError("this build of custodian has no commands yet; see --help")
    }
}
