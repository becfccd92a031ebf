import ArgumentParser
import Foundation
import Logging
import SchedulerCore
import ServiceLifecycle

@main
struct CustodianCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "custodian",
        abstract: "Frees the jobs of dead scheduler instances and prunes old data.",
        discussion: "Settings come from the environment over the env file (SPEC §8)."
    )

    @Argument(help: "Env file to read (default: .env when present).")
    var envFile: String?

    func run() async throws {
        let configuration = try DaemonStartup.load("custodian", envFile, CustodianConfiguration.load)
        configuration.logging.bootstrap()
        let logger = Logger(label: "custodian")
        let database = try configuration.database.open(logger: logger)
        try await database.prepare()
        let custodian = Custodian(configuration: configuration, database: database, logger: logger)
        let group = ServiceGroup.daemon([DaemonService { await custodian.run() }], logger: logger)
        try await group.run()
        logger.info("stopped")
    }
}
