// Status and heartbeat ingestion: MESSAGES messages pre-published to the status and heartbeat
// queues of JOBS jobs (RUNS running runs), then drained by one of three consumers, each on a
// fresh copy of the same data:
//   engine  the scheduler engine (batched reads, one compare-and-set write per batch,
//           heartbeats coalesced per run)
//   naive   one database update per message, then ack (the reference the engine must beat 2×)
//   ack     ack only, no database (the broker's floor)
// Each run ends with every run's final `completed` status; the clock stops when all are
// completed (engine, naive) or when every message was acknowledged (ack).
//
//   Ingestion AMQP_URL SQLITE_DIR [MESSAGES] [JOBS] [RUNS_PER_JOB]
import Foundation
import Logging
import SchedulerCore
import Synchronization


let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: Ingestion AMQP_URL SQLITE_DIR [MESSAGES] [JOBS] [RUNS_PER_JOB]\n".utf8))
    exit(2)
}
let url = arguments[1]
let directory = arguments[2]
let messages = arguments.count > 3 ? Int(arguments[3]) ?? 200_000 : 200_000
let jobCount = arguments.count > 4 ? Int(arguments[4]) ?? 20 : 20
let runsPerJob = arguments.count > 5 ? Int(arguments[5]) ?? 50 : 50
let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    return logger
}()

struct Prepared: Sendable {
    let database: SQLiteDatabase
    let jobs: [String]
    let runs: [Run]
    let messages: Int
}

/// A fresh database with running runs, and the messages for them published to the broker.
func prepare(_ name: String, bus: RabbitMQBus, count: Int = messages) async throws -> Prepared {
    let database = SQLiteDatabase(path: "\(directory)/ingest-\(name).db", logger: logger)
    try await database.prepare()
    let prefix = "ingest-\(name)-\(UUID().uuidString.prefix(4).lowercased())"
    let jobs = (0..<jobCount).map { "\(prefix)-\($0)" }
    var runs: [Run] = []
    let now = Timestamp.now
    for job in jobs {
        // Disabled: held for its messages, never fired.
        try await database.createJob(Job(name: job, enabled: true, nextRunAt: now.adding(milliseconds: 86_400_000), interval: 86_400_000))
        try await bus.declareTopology(jobName: job)
        // Manual runs: scheduled ones are unique per slot, and these all share one instant.
        let batch = (0..<runsPerJob).map { _ in
            Run(jobName: job, status: .running, createdTime: now, startTime: now, heartbeat: now, trigger: .manual)
        }
        _ = try await database.insertRuns(batch)
        runs += batch
    }
    // Mostly heartbeats, some repeated `running` statuses, then one `completed` per run.
    var outgoing: [OutgoingMessage] = []
    outgoing.reserveCapacity(messages)
    for index in 0..<(count - runs.count) {
        let run = runs[index % runs.count]
        if index % 10 == 0 {
            outgoing.append(OutgoingMessage(exchange: Topology.exchange(run.jobName), routingKey: Topology.statusKey,
                                            body: StatusMessage(jobName: run.jobName, runID: run.id, status: .running, attempt: 1).body))
        } else {
            outgoing.append(OutgoingMessage(exchange: Topology.exchange(run.jobName), routingKey: Topology.heartbeatKey,
                                            body: HeartbeatMessage(jobName: run.jobName, runID: run.id, attempt: 1).body))
        }
    }
    for run in runs {
        outgoing.append(OutgoingMessage(exchange: Topology.exchange(run.jobName), routingKey: Topology.statusKey,
                                        body: StatusMessage(jobName: run.jobName, runID: run.id, status: .completed, attempt: 1).body))
    }
    for start in stride(from: 0, to: outgoing.count, by: 1000) {
        let results = try await bus.publish(Array(outgoing[start..<min(start + 1000, outgoing.count)]))
        guard results.allSatisfy({ $0 }) else { fatalError("the broker refused messages") }
    }
    return Prepared(database: database, jobs: jobs, runs: runs, messages: count)
}

@Sendable func allCompleted(_ prepared: Prepared) async throws -> Bool {
    try await prepared.database.runs(matching: RunQuery(jobNames: prepared.jobs, statuses: [.completed]), after: nil, limit: nil)
        .items.count == prepared.runs.count
}

func report(_ consumer: String, seconds: Double, roundTrips: Int?, messages: Int) {
    var line = #"{"metric":"ingestion_messages_per_second","consumer":"\#(consumer)","unit":"msgs/s","value":\#(Int(Double(messages) / seconds)),"n":\#(messages)"#
    if let roundTrips { line += #","db_round_trips_per_message":\#(String(format: "%.4f", Double(roundTrips) / Double(messages)))"# }
    FileHandle.standardOutput.write(Data((line + "}\n").utf8))  // unbuffered: a timeout keeps what was measured
}

let bus = try RabbitMQBus(connectionString: url, logger: logger)
try await bus.waitUntilConnected(timeout: .seconds(30))

// The engine.
do {
    let prepared = try await prepare("engine", bus: bus)
    let engine = SchedulerEngine(
        database: prepared.database, bus: bus,
        settings: SchedulerEngine.Settings(heartbeatInterval: 1000, heartbeatTimeout: 30_000, cleanupInterval: 600_000),
        logger: logger)
    let before = prepared.database.statistics.roundTrips
    let started = ContinuousClock.now
    let task = Task { try await engine.run() }
    var polls = 0
    while try await !allCompleted(prepared) {
        polls += 1
        try await Task.sleep(for: .milliseconds(50))
    }
    let elapsed = started.duration(to: .now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    report("engine", seconds: seconds, roundTrips: prepared.database.statistics.roundTrips - before - polls, messages: prepared.messages)
    task.cancel()
    _ = try? await task.value
}

/// Consumes every status and heartbeat queue of `prepared` with `handle`, until `done`.
func drain(_ prepared: Prepared, handle: @escaping @Sendable (Delivery) async -> Void, done: @escaping @Sendable () async throws -> Bool) async throws -> Double {
    let started = ContinuousClock.now
    var consumers: [Consumer] = []
    var tasks: [Task<Void, Never>] = []
    for job in prepared.jobs {
        for key in [Topology.statusKey, Topology.heartbeatKey] {
            let consumer = try await bus.consume(queue: Topology.queue(job, key), prefetch: 200)
            consumers.append(consumer)
            tasks.append(Task { for await delivery in consumer.deliveries { await handle(delivery) } })
        }
    }
    while try await !done() { try await Task.sleep(for: .milliseconds(50)) }
    let elapsed = started.duration(to: .now)
    for consumer in consumers { await consumer.cancel() }
    for task in tasks { task.cancel() }
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

// Naive: one compare-and-set per message. Each is a durable SQLite transaction, so it drains a
// tenth of the messages; its rate is what it is compared by.
do {
    let prepared = try await prepare("naive", bus: bus, count: max(runsPerJob * jobCount * 2, messages / 10))
    let database = prepared.database
    let before = database.statistics.roundTrips
    let seconds = try await drain(prepared, handle: { delivery in
        if let status = try? StatusMessage(parsing: delivery.body) {
            let from: RunStatus = .running
            _ = try? await database.applyTransition(RunTransition(id: status.runID, from: from, attempt: status.attempt, to: status.status, at: .now))
        } else if let heartbeat = try? HeartbeatMessage(parsing: delivery.body) {
            _ = try? await database.applyTransition(.heartbeat(heartbeat.runID, attempt: heartbeat.attempt, at: .now))
        }
        await delivery.ack()
    }, done: { try await allCompleted(prepared) })
    report("naive", seconds: seconds, roundTrips: database.statistics.roundTrips - before, messages: prepared.messages)
}

// Ack only.
do {
    let prepared = try await prepare("ack", bus: bus)
    let acked = AckCount()
    let seconds = try await drain(prepared, handle: { delivery in
        await delivery.ack()
        acked.value.add(1, ordering: .relaxed)
    }, done: { acked.value.load(ordering: .relaxed) >= messages })
    report("ack-only", seconds: seconds, roundTrips: nil, messages: prepared.messages)
}
await bus.shutdown()
exit(0)

final class AckCount: Sendable {
    let value = Atomic<Int>(0)
}
