import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

/// Issue 10 (5): hostile and broken worker messages against the running scheduler.
extension BrokerTests {
@Suite("Faults: messages")
struct MessageFaultTests {
    @Test func aFloodOfBadMessagesChangesNothingWhileTheValidOnesLand() async throws {
        let control = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_BROKER_CTL")
        let fixture = try await DaemonFixture(.sqlite)
        let database = fixture.database
        let job = "flood-\(UUID().uuidString.prefix(6).lowercased())"
        let other = "flood-other-\(UUID().uuidString.prefix(6).lowercased())"
        try await database.createJob(
            Job(name: job, nextRunAt: Timestamp.now.adding(milliseconds: 2000), interval: 500, allowConcurrentRuns: true))
        try await database.createJob(Job(name: other, enabled: false))
        // The worker only ever says `running`: every run stays running until the test speaks.
        let worker = try await TestWorker(job: job, url: fixture.amqp) { $0.action == .cancel ? [.cancelled] : [.running] }
        let scheduler = try Daemon("scheduler", environment: fixture.environment(["SIMPLE_SCHEDULER_LOG_LEVEL": "warning"]))
        let running = try await poll(.seconds(60), "twenty running runs", every: .milliseconds(200)) {
            let runs = try await database.runs(matching: RunQuery(jobNames: [job], statuses: [.running]), after: nil, limit: nil).items
            return runs.count >= 20 ? runs : nil
        }
        // Stop firing, so the runs below are all there is.
        _ = try await database.updateJob(named: job, JobPatch(enabled: false))
        try await Task.sleep(for: .seconds(2))
        let targets = Array(running.prefix(10))  // completed by valid messages
        let bystanders = Array(running.dropFirst(10).prefix(10))  // only bad messages name them
        let before = Dictionary(
            uniqueKeysWithValues: try await database.runs(ids: bystanders.map(\.id)).map { ($0.id, $0) })

        func status(_ run: RunID, _ status: String, job name: String = job, attempt: Int? = 1) -> [UInt8] {
            let attemptField = attempt.map { #","attempt":\#($0)"# } ?? ""
            return Array(#"{"jobName":"\#(name)","runId":"\#(run.hex)","status":"\#(status)"\#(attemptField)}"#.utf8)
        }
        var bad: [(key: String, body: [UInt8])] = []
        for run in bystanders {
            bad.append(("status", status(run.id, "completed", attempt: 7)))  // a stale or future attempt
            bad.append(("status", status(run.id, "pending")))  // not a status a worker reports
            bad.append(("status", status(run.id, "queued")))
            bad.append(("status", status(run.id, "completed", job: other)))  // names another job
            bad.append(("heartbeat", Array(#"{"jobName":"\#(other)","runId":"\#(run.id.hex)"}"#.utf8)))
        }
        for _ in 0..<50 {
            bad.append(("status", status(.generate(), "completed")))  // unknown run
            bad.append(("heartbeat", Array(#"{"jobName":"\#(job)","runId":"\#(RunID.generate().hex)"}"#.utf8)))
            bad.append(("status", Array(#"{"jobName":"\#(job)","runId":"nothex","status":"completed"}"#.utf8)))
            bad.append(("status", Array("{not json".utf8)))
            bad.append(("status", []))
            bad.append(("heartbeat", [0xff, 0xfe, 0x00, 0x7b]))
            bad.append(("status", Array(#"{"jobName":"\#(job)","status":"completed"}"#.utf8)))  // no run id
            bad.append(("status", Array(#"[1,2,3]"#.utf8)))
        }
        bad.append(("status", Array(repeating: UInt8(ascii: "x"), count: 1 << 20)))  // 1 MiB of nothing
        var valid: [(key: String, body: [UInt8])] = targets.map { ("status", status($0.id, "completed")) }
        valid += bystanders.map { ("heartbeat", Array(#"{"jobName":"\#(job)","runId":"\#($0.id.hex)"}"#.utf8)) }
        // Illegal after the valid completion lands: a completed run cannot run again.
        let late = targets.map { (key: "status", body: status($0.id, "running")) }
        let flood = (bad + valid).shuffled() + late
        let publisher = try RabbitMQBus(connectionString: fixture.amqp, logger: .init(label: "flood"))
        try await publisher.waitUntilConnected(timeout: .seconds(20))
        for chunk in stride(from: 0, to: flood.count, by: 200) {
            let messages = flood[chunk..<min(chunk + 200, flood.count)].map {
                OutgoingMessage(exchange: Topology.exchange(job), routingKey: $0.key, body: $0.body)
            }
            #expect(try await publisher.publish(messages).allSatisfy { $0 })
        }
        try await waitUntil(.seconds(60), "the valid completions to land") {
            try await database.runs(ids: targets.map(\.id)).allSatisfy { $0.status == .completed }
        }
        // Queues drain: every message was acknowledged, none left or requeued forever.
        let queues = [Topology.queue(job, "status"), Topology.queue(job, "heartbeat")]
        try await waitUntil(.seconds(60), "the status and heartbeat queues to drain") {
            let listing = try await runProgram(control, ["ctl", "list_queues", "-q", "name", "messages"]).output
            return queues.allSatisfy { queue in
                listing.split(separator: "\n").contains { $0.split(separator: "\t").first.map(String.init) == queue && $0.hasSuffix("\t0") }
            }
        }
        let after = try await database.runs(ids: bystanders.map(\.id))
        let changed = after.filter { run in
            guard let old = before[run.id] else { return true }
            return run.status != old.status || run.attempt != old.attempt || run.endTime != old.endTime
        }
        let stillCompleted = try await database.runs(ids: targets.map(\.id)).filter { $0.status == .completed }
        scheduler.signal(SIGTERM)
        #expect(try await scheduler.wait() == 0)
        await worker.stop()
        await publisher.shutdown()
        FaultPlan.report("messages", [
            "bad": "\(bad.count + late.count)", "valid": "\(valid.count)", "bystanders_changed": "\(changed.count)",
            "targets_completed": "\(stillCompleted.count)/\(targets.count)",
        ])
        #expect(changed.isEmpty, "\(changed)")
        #expect(stillCompleted.count == targets.count)
        #expect(after.allSatisfy { $0.status == .running })
    }
}
}
