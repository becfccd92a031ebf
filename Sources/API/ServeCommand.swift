import ArgumentParser
import Foundation
import HTTPServer
import Logging
import SchedulerCore
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serves the API (the default command).",
        discussion: "Settings come from the environment over the env file (SPEC §8)."
    )

    @Argument(help: "Env file to read (default: .env when present).")
    var envFile: String?

    func run() async throws {
        let configuration = try DaemonStartup.load("api", envFile, APIConfiguration.load)
        configuration.logging.bootstrap()
        let observability = Observability.bootstrap()
        let logger = Logger(label: "api")
        let authenticator = try startupStep("SIMPLE_SCHEDULER_API_KEYS_FILE") {
            try BearerAuthenticator(configuration: configuration, logger: logger)
        }
        let database = try await configuration.database.openPrepared(logger: logger)
        let bus = try configuration.messageBus.open(logger: logger)
        let api = SchedulerAPI(database: database, bus: bus, logger: logger, observability: observability)
        let application = Application(responder: api.responder(), authenticator: authenticator, logger: logger)
        var serverConfiguration = HTTPServerConfiguration(
            host: configuration.listenAddress.host, port: Int(configuration.listenAddress.port),
            eventLoops: ProcessInfo.processInfo.activeProcessorCount)
        serverConfiguration.maxConnections = configuration.maxConnections
        let server = try startupStep("SIMPLE_SCHEDULER_API_URL") {
            try HTTPServer(configuration: serverConfiguration, handler: application.handler)
        }
        logger.info("listening", metadata: ["http.address": "\(configuration.listenAddress)", "http.port": "\(server.port)"])
        let group = ServiceGroup.daemon([DaemonService { await server.serve(drainTimeout: .seconds(10)) }], logger: logger)
        try await group.run()
        if let bus = bus as? RabbitMQBus { await bus.shutdown() }
        logger.info("stopped")
    }

    /// A start-up step whose failure is one line naming the setting, then exit 2 (SPEC §8).
    private func startupStep<T>(_ setting: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            FileHandle.standardError.write(Data("api: \(setting): \(error)\n".utf8))
            throw ExitCode(DaemonStartup.badConfigurationStatus)
        }
    }
}

extension BearerAuthenticator {
    init(configuration: APIConfiguration, logger: Logger) throws {
        apiKeys = try configuration.apiKeysFile.map { try APIKeys(contentsOf: $0) }
        jwt = configuration.oidcIssuer.map { issuer in
            JWTVerifier(
                keys: OIDCKeySource(issuer: issuer, logger: logger), issuer: issuer, audience: configuration.oidcAudience)
        }
    }
}
