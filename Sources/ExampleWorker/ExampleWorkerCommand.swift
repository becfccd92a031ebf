import ArgumentParser
import Foundation
import Logging
import SchedulerCore
import ServiceLifecycle

/// The reference worker: runs a shell command per job (SPEC §2 protocol), so a new installation
/// has something that completes, fails and cancels runs. Workers in other languages can follow
/// `examples/python-worker/worker.py` and docs/workers.md.
@main
struct ExampleWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example-worker",
        abstract: "Runs a shell command for each run action of the jobs in its config file.",
        discussion: """
            Config lines are `JOB-NAME = shell command` (# starts a comment). The command runs with \
            /bin/sh -c and SIMPLE_SCHEDULER_JOB_NAME, SIMPLE_SCHEDULER_RUN_ID, SIMPLE_SCHEDULER_ATTEMPT set; \
            exit 0 reports completed, anything else failed. A cancel sends SIGTERM to the command's \
            process group, then SIGKILL after the grace period, and reports cancelled. The broker URL comes \
            from SIMPLE_SCHEDULER_MESSAGEBUS_CONNECTION_STRING.
            """
    )

    @Argument(help: "The config file.")
    var config: String = "worker.conf"

    @Option(help: "Milliseconds between heartbeats of a running command.")
    var heartbeatInterval: Int = 5000

    @Option(help: "Milliseconds between SIGTERM and SIGKILL on cancel.")
    var grace: Int = 10_000

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        LoggingSettings.lenient(environment).bootstrap()
        let logger = Logger(label: "example-worker")
        let commands: [String: String]
        do {
            commands = try WorkerConfiguration.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("example-worker: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let url = environment["SIMPLE_SCHEDULER_MESSAGEBUS_CONNECTION_STRING"] ?? "amqp://guest:guest@localhost:5672/"
        let bus = try RabbitMQBus(connectionString: url, logger: logger)
        let worker = Worker(
            bus: bus, commands: commands, heartbeatInterval: .milliseconds(heartbeatInterval), grace: .milliseconds(grace),
            logger: logger)
        let group = ServiceGroup.daemon([DaemonService { try await worker.run() }], logger: logger)
        try await group.run()
        await bus.shutdown()
    }
}
