import ArgumentParser
import Foundation
import Logging
import SchedulerCore
import ServiceLifecycle

@main
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Fires job runs on time and follows them to a final status.",
        discussion: "Settings come from the environment over the env file (SPEC §8)."
    )

    @Argument(help: "Env file to read (default: .env when present).")
    var envFile: String?

    func run() async throws {
        let configuration = try DaemonStartup.load("scheduler", envFile, SchedulerConfiguration.load)
        configuration.logging.bootstrap()
        let observability = Observability.bootstrap()
        let logger = Logger(label: "scheduler")
        logger.info("starting", metadata: ["database": "\(configuration.database)", "bus": "\(configuration.messageBus)"])
        let database = try await configuration.database.openPrepared(logger: logger)
        let bus = try configuration.messageBus.open(logger: logger)
        let engine = SchedulerEngine(database: database, bus: bus, settings: .init(configuration), logger: logger)
        var services: [any Service] = [DaemonService { try await engine.run() }]
        if let address = configuration.metricsAddress {
            let server = try observability.serve(on: address, logger: logger) {
                (try? await database.now()) != nil && bus.isConnected
            }
            services.append(DaemonService { await server.serve() })
        }
        let group = ServiceGroup.daemon(services, logger: logger)
        try await group.run()
        if let bus = bus as? RabbitMQBus { await bus.shutdown() }
        logger.info("stopped")
    }
}
