import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

@Suite struct ConfigurationTests {
    @Test func defaultsFollowTheSpec() throws {
        let scheduler = try SchedulerConfiguration.load(Environment([:]))
        #expect(scheduler.database == DatabaseSettings(kind: .sqlite, connectionString: "simple-scheduler.db",
            databaseName: "simpleScheduler"))
        #expect(scheduler.messageBus.connectionString == "amqp://guest:guest@localhost:5672/")
        #expect(scheduler.maxJobs == nil)
        #expect(scheduler.cacheRefreshInterval == 300_000 && scheduler.cleanupInterval == 60_000)
        #expect(scheduler.heartbeatInterval == 1000 && scheduler.heartbeatTimeout == 30_000)
        #expect(scheduler.metricsAddress == nil)
        #expect(scheduler.logging == LoggingSettings(level: .info, format: .text))
        let custodian = try CustodianConfiguration.load(Environment([:]))
        #expect(custodian.runRetention == nil)
    }

    @Test func everyBadValueIsReportedInOneError() {
        let environment = Environment([
            "SIMPLE_SCHEDULER_DB_TYPE": "postgres", "SIMPLE_SCHEDULER_MAX_JOBS": "-1",
            "SIMPLE_SCHEDULER_HEARTBEAT_INTERVAL": "soon", "SIMPLE_SCHEDULER_LOG_FORMAT": "xml",
            "SIMPLE_SCHEDULER_METRICS_URL": "nowhere",
        ])
        #expect {
            try SchedulerConfiguration.load(environment)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            let line = error.description
            return error.problems.count == 5 && !line.contains("\n")
                && ["DB_TYPE", "MAX_JOBS", "HEARTBEAT_INTERVAL", "LOG_FORMAT", "METRICS_URL"].allSatisfy {
                    line.contains("SIMPLE_SCHEDULER_\($0)")
                }
        }
    }

    @Test func apiRefusesToRunWithoutAuthentication() throws {
        #expect(throws: ConfigurationError.self) { try APIConfiguration.load(Environment([:])) }
        let api = try APIConfiguration.load(
            Environment(["SIMPLE_SCHEDULER_API_KEYS_FILE": "keys", "SIMPLE_SCHEDULER_API_URL": "127.0.0.1:9090"]))
        #expect(api.listenAddress == ListenAddress(host: "127.0.0.1", port: 9090))
        #expect(api.maxConnections == 1024)
        #expect(ListenAddress(":8080") == ListenAddress(host: nil, port: 8080))
        #expect(ListenAddress("[::1]:80") == ListenAddress(host: "::1", port: 80))
        #expect(ListenAddress("8080") == nil)
    }

    @Test func envFileIsReadAndProcessEnvironmentWins() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("test.env").path
        try """
        # comment
        export SIMPLE_SCHEDULER_MAX_JOBS=5
        SIMPLE_SCHEDULER_DB_NAME="quoted # not a comment"
        SIMPLE_SCHEDULER_LOG_LEVEL=debug # trailing comment
        SIMPLE_SCHEDULER_DB_CONNECTION_STRING='/tmp/x.db'
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let environment = try Environment.load(
            arguments: [file], process: ["SIMPLE_SCHEDULER_MAX_JOBS": "7"])
        let configuration = try SchedulerConfiguration.load(environment)
        #expect(configuration.maxJobs == 7)
        #expect(configuration.database.databaseName == "quoted # not a comment")
        #expect(configuration.database.connectionString == "/tmp/x.db")
        #expect(configuration.logging.level == .debug)
        #expect(throws: ConfigurationError.self) { try Environment.load(arguments: [file + ".missing"]) }
    }

    @Test func secretsAreRedacted() {
        #expect(Redaction.url("amqp://guest:secret@host:5672/") == "amqp://guest:***@host:5672/")
        #expect(Redaction.url("mongodb://host/?x=1") == "mongodb://host/?x=1")
        let settings = MessageBusSettings(kind: .rabbitmq, connectionString: "amqps://u:p@h/")
        #expect(!settings.description.contains(":p@"))
    }
}
