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
        let observability = Observability.bootstrap()
        let logger = Logger(label: "custodian")
        let database = try await configuration.database.openPrepared(logger: logger)
        let custodian = Custodian(configuration: configuration, database: database, logger: logger)
        var services: [any Service] = [DaemonService { await custodian.run() }]
        if let address = configuration.metricsAddress {
            let server = try observability.serve(on: address, logger: logger) { (try? await database.now()) != nil }
            services.append(DaemonService { await server.serve() })
        }
        let group = ServiceGroup.daemon(services, logger: logger)
        try await group.run()
        logger.info("stopped")
    }
}
