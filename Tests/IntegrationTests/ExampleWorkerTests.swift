import Foundation
import Logging
import Testing

@testable import SchedulerCore
import TestSupport

/// The reference workers against the real broker: each completes, fails and cancels a run.
extension BrokerTests {
@Suite("Example workers")
struct ExampleWorkerTests {
    /// Publishes actions as the scheduler would and reads the statuses the worker reports.
    struct Harness {
        let bus: RabbitMQBus
        let jobs: [String]
        let statuses: [String: DeliveryReader]

        init(prefix: String) async throws {
            let url = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_AMQP_URL")
            bus = try RabbitMQBus(connectionString: url, logger: Logger(label: "test"))
            try await bus.waitUntilConnected(timeout: .seconds(20))
            jobs = ["ok", "bad", "slow"].map { "\(prefix)-\($0)" }
            var statuses: [String: DeliveryReader] = [:]
            for job in jobs {
                try await bus.declareTopology(jobName: job)
                statuses[job] = DeliveryReader(try await bus.consume(queue: Topology.queue(job, Topology.statusKey), prefetch: 10))
            }
            self.statuses = statuses
        }

        func send(_ job: String, _ id: RunID, _ action: JobAction) async throws {
            #expect(try await bus.publish([OutgoingMessage(action: ActionMessage(jobName: job, runID: id, action: action, attempt: 1))]) == [true])
        }

        func nextStatus(_ job: String) async throws -> StatusMessage {
            let delivery = try await statuses[job]!.next(within: .seconds(30))
            await delivery.ack()
            return try StatusMessage(parsing: delivery.body)
        }

        /// Runs `ok`, `bad` and `slow` (cancelled), checking every reported status.
        func completeFailAndCancel() async throws {
            let (ok, bad, slow) = (RunID.generate(), RunID.generate(), RunID.generate())
            try await send(jobs[0], ok, .run)
            try await send(jobs[1], bad, .run)
            try await send(jobs[2], slow, .run)
            #expect(try await nextStatus(jobs[0]).status == .running)
            let completed = try await nextStatus(jobs[0])
            #expect(completed.status == .completed && completed.runID == ok && completed.jobName == jobs[0])
            #expect(try await nextStatus(jobs[1]).status == .running)
            #expect(try await nextStatus(jobs[1]).status == .failed)
            #expect(try await nextStatus(jobs[2]).status == .running)
            let started = ContinuousClock.now
            try await send(jobs[2], slow, .cancel)
            let cancelled = try await nextStatus(jobs[2])
            #expect(cancelled.status == .cancelled && cancelled.runID == slow)
            #expect(started.duration(to: .now) < .seconds(20), "the 60 s command was stopped, not waited for")
        }
    }

    @Test func theSwiftExampleWorkerCompletesFailsAndCancels() async throws {
        let prefix = "ew-\(UUID().uuidString.prefix(6).lowercased())"
        let harness = try await Harness(prefix: prefix)
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("worker-\(prefix).conf")
        try """
            # test jobs
            \(harness.jobs[0]) = echo "run $SIMPLE_SCHEDULER_RUN_ID"; exit 0
            \(harness.jobs[1]) = exit 3
            \(harness.jobs[2]) = sleep 60
            """.write(to: config, atomically: true, encoding: .utf8)
        let worker = try Daemon("example-worker", environment: [
            "SIMPLE_SCHEDULER_MESSAGEBUS_CONNECTION_STRING": try requiredEnvironment("SIMPLE_SCHEDULER_TEST_AMQP_URL"),
        ], arguments: [config.path, "--grace", "2000", "--heartbeat-interval", "500"])
        defer { Task { await worker.stop() } }
        try await harness.completeFailAndCancel()
        worker.signal(SIGTERM)
        #expect(try await worker.wait(timeout: .seconds(20)) == 0, "\(worker.output)")
        await harness.bus.shutdown()
    }

    @Test func thePythonExampleWorkerCompletesFailsAndCancels() async throws {
        let python = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_PYTHON")
        let prefix = "pw-\(UUID().uuidString.prefix(6).lowercased())"
        let harness = try await Harness(prefix: prefix)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/python-worker/worker.py").path
        let worker = try Daemon(python, environment: [
            "SIMPLE_SCHEDULER_MESSAGEBUS_CONNECTION_STRING": try requiredEnvironment("SIMPLE_SCHEDULER_TEST_AMQP_URL"),
        ], arguments: [script, "\(harness.jobs[0])=exit 0", "\(harness.jobs[1])=exit 3", "\(harness.jobs[2])=sleep 60"])
        defer { Task { await worker.stop() } }
        try await harness.completeFailAndCancel()
        worker.signal(SIGTERM)
        #expect(try await worker.wait(timeout: .seconds(20)) == 0, "\(worker.output)")
        await harness.bus.shutdown()
    }
}
}
