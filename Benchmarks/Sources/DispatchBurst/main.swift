// A burst of N jobs due at the same instant, fired by one in-process scheduler engine.
// Prints JSON lines: fires per second from the due instant until every action is confirmed,
// database round trips and writes per fire (the adapters' own counters), and the worst
// lateness (last confirmed action − due instant).
//
//   DispatchBurst sqlite PATH|mongodb URL  memory|AMQP_URL  [JOBS] [SETUP_SECONDS]
//
// SETUP_SECONDS is how far ahead of the start the burst is due: creating the jobs, claiming them
// and declaring their topology must be done by then (default 15 with the memory bus, 120 else).
import Foundation
import Logging
import SchedulerCore
import Synchronization

/// Counts the run actions the broker confirmed, and when the last one was: the burst is timed
/// at the bus, so the benchmark does not poll the database it measures.
final class ConfirmCounter: MessageBus {
    let base: any MessageBus
    let state = Mutex<(count: Int, last: Timestamp?)>((0, nil))

    init(_ base: any MessageBus) { self.base = base }

    var isConnected: Bool { base.isConnected }
    func declareTopology(jobName: String) async throws { try await base.declareTopology(jobName: jobName) }
    func declareTopologies(jobNames: [String]) async -> [String: any Error] {
        await base.declareTopologies(jobNames: jobNames)
    }
    func subscribe(queue: String, prefetch: Int, to sink: DeliverySink) async throws -> Subscription {
        try await base.subscribe(queue: queue, prefetch: prefetch, to: sink)
    }
    func unsubscribe(_ subscription: Subscription) async { await base.unsubscribe(subscription) }
    func publish(_ messages: [OutgoingMessage]) async throws -> [Bool] {
        let results = try await base.publish(messages)
        let confirmed = results.count { $0 }
        let now = Timestamp.now
        state.withLock { $0 = ($0.count + confirmed, now) }
        return results
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    FileHandle.standardError.write(Data("usage: DispatchBurst sqlite PATH|mongodb URL memory|AMQP_URL [JOBS]\n".utf8))
    exit(2)
}
let count = arguments.count > 4 ? Int(arguments[4]) ?? 10_000 : 10_000
var logger = Logger(label: "bench")
logger.logLevel = .error

let database: any Database
switch arguments[1] {
case "sqlite": database = SQLiteDatabase(path: arguments[2], logger: logger)
default:
    database = try MongoDatabase(
        connectionString: arguments[2], databaseName: "bench_\(UUID().uuidString.prefix(8))", logger: logger)
}
try await database.prepare()
let inner: any MessageBus
if arguments[3] == "memory" {
    inner = InMemoryMessageBus()
} else {
    let rabbit = try RabbitMQBus(connectionString: arguments[3], logger: logger)
    try await rabbit.waitUntilConnected(timeout: .seconds(30))
    inner = rabbit
}
let bus = ConfirmCounter(inner)

let prefix = "burst-\(UUID().uuidString.prefix(6).lowercased())"
// Due far enough ahead that claiming and declaring every job's topology is done by then.
let setupAllowance: Int64 =
    arguments.count > 5 ? (Int64(arguments[5]) ?? 120) * 1000 : (arguments[3] == "memory" ? 15_000 : 120_000)
let setupStarted = Timestamp.now
let due = setupStarted.adding(milliseconds: setupAllowance)
for start in stride(from: 0, to: count, by: 1000) {
    for index in start..<min(start + 1000, count) {
        try await database.createJob(Job(name: "\(prefix)-\(index)", nextRunAt: due, interval: 3_600_000))
    }
}
let engine = SchedulerEngine(
    database: database, bus: bus,
    settings: SchedulerEngine.Settings(heartbeatInterval: 1000, heartbeatTimeout: 30_000, cleanupInterval: 600_000),
    logger: logger)
let task = Task { try await engine.run() }
// Ready when every job is held and its topology declared and consumed.
while await engine.consumedJobCount < count, Timestamp.now < due {
    try await Task.sleep(for: .milliseconds(100))
}
let ready = Timestamp.now
let setupSeconds = String(format: "%.1f", Double(ready.milliseconds(since: setupStarted)) / 1000)
guard ready < due else {
    print(#"{"metric":"dispatch_burst","error":"setup took \#(setupSeconds) s, longer than the allowance; raise it"}"#)
    exit(1)
}
// Quiet until the burst: counters are read from here.
while Timestamp.now < due.adding(milliseconds: -200) { try await Task.sleep(for: .milliseconds(50)) }
let roundTripsBefore = database.statistics.roundTrips
let writesBefore = database.statistics.writes
// Bounded: a burst that does not finish in 10 minutes is reported as such.
let giveUp = due.adding(milliseconds: 600_000)
while bus.state.withLock({ $0.count }) < count, Timestamp.now < giveUp {
    try await Task.sleep(for: .milliseconds(20))
}
let (confirmed, last) = bus.state.withLock { $0 }
guard confirmed >= count, let done = last else {
    print(#"{"metric":"dispatch_burst","error":"only \#(confirmed) of \#(count) actions confirmed in 10 minutes"}"#)
    exit(1)
}
// The marks of the last batch follow its confirm: counters are read a second later (which
// adds that second's lease renewal), before the one check of the database below.
try await Task.sleep(for: .seconds(1))
let roundTripsAtDone = database.statistics.roundTrips
let writesAtDone = database.statistics.writes
let fired = try await database.runs(
    matching: RunQuery(statuses: [.pending], createdBefore: due.adding(milliseconds: 1)), after: nil, limit: nil
).items.filter { $0.jobName.hasPrefix(prefix) }
guard fired.count == count, Set(fired.map(\.jobName)).count == count, fired.allSatisfy(\.published) else {
    print(#"{"metric":"dispatch_burst","error":"\#(fired.count) runs recorded for \#(count) jobs"}"#)
    exit(1)
}
let seconds = Double(done.milliseconds(since: due)) / 1000
let backend = "\(arguments[1])+\(arguments[3] == "memory" ? "memory-bus" : "rabbitmq")"
print(#"{"metric":"burst_fires_per_second","backend":"\#(backend)","unit":"fires/s","value":\#(Int(Double(count) / seconds)),"n":\#(count),"setup_seconds":\#(setupSeconds),"setup_allowance_seconds":\#(setupAllowance / 1000)}"#)
print(#"{"metric":"burst_worst_lateness","backend":"\#(backend)","unit":"ms","value":\#(done.milliseconds(since: due)),"n":\#(count)}"#)
let roundTrips = roundTripsAtDone - roundTripsBefore
let writes = writesAtDone - writesBefore
print(#"{"metric":"burst_db_round_trips_per_fire","backend":"\#(backend)","unit":"round trips","value":\#(String(format: "%.4f", Double(roundTrips) / Double(count))),"n":\#(count)}"#)
print(#"{"metric":"burst_db_writes_per_fire","backend":"\#(backend)","unit":"writes","value":\#(String(format: "%.2f", Double(writes) / Double(count))),"n":\#(count)}"#)
task.cancel()
_ = try? await task.value
exit(0)
