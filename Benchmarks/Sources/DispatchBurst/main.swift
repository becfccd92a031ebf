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
let bus: any MessageBus
if arguments[3] == "memory" {
    bus = InMemoryMessageBus()
} else {
    let rabbit = try RabbitMQBus(connectionString: arguments[3], logger: logger)
    try await rabbit.waitUntilConnected(timeout: .seconds(30))
    bus = rabbit
}

let prefix = "burst-\(UUID().uuidString.prefix(6).lowercased())"
// Due far enough ahead that claiming and declaring every job's topology is done by then.
let setupAllowance: Int64 =
    arguments.count > 5 ? (Int64(arguments[5]) ?? 120) * 1000 : (arguments[3] == "memory" ? 15_000 : 120_000)
let due = Timestamp.now.adding(milliseconds: setupAllowance)
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
while await engine.heldJobs.count < count { try await Task.sleep(for: .milliseconds(100)) }
let ready = Timestamp.now
guard ready < due else {
    print(#"{"metric":"dispatch_burst","error":"setup took longer than the allowance; raise it"}"#)
    exit(1)
}
// Quiet until the burst: counters are read from here.
while Timestamp.now < due.adding(milliseconds: -200) { try await Task.sleep(for: .milliseconds(50)) }
let roundTripsBefore = database.statistics.roundTrips
let writesBefore = database.statistics.writes
var done: Timestamp?
var polls = 0
while done == nil {
    try await Task.sleep(for: .milliseconds(20))
    polls += 1
    let fired = try await database.runs(
        matching: RunQuery(statuses: [.pending], createdBefore: due.adding(milliseconds: 1)), after: nil, limit: nil
    ).items.filter { $0.jobName.hasPrefix(prefix) }
    if fired.count == count, fired.allSatisfy(\.published) { done = .now }
}
// Counters up to the moment everything was confirmed; the loop's own reads are taken off.
let seconds = Double(done!.milliseconds(since: due)) / 1000
let backend = "\(arguments[1])+\(arguments[3] == "memory" ? "memory-bus" : "rabbitmq")"
print(#"{"metric":"burst_fires_per_second","backend":"\#(backend)","unit":"fires/s","value":\#(Int(Double(count) / seconds)),"n":\#(count)}"#)
print(#"{"metric":"burst_worst_lateness","backend":"\#(backend)","unit":"ms","value":\#(done!.milliseconds(since: due)),"n":\#(count)}"#)
let roundTrips = database.statistics.roundTrips - roundTripsBefore - polls
let writes = database.statistics.writes - writesBefore
print(#"{"metric":"burst_db_round_trips_per_fire","backend":"\#(backend)","unit":"round trips","value":\#(String(format: "%.4f", Double(roundTrips) / Double(count))),"n":\#(count)}"#)
print(#"{"metric":"burst_db_writes_per_fire","backend":"\#(backend)","unit":"writes","value":\#(String(format: "%.2f", Double(writes) / Double(count))),"n":\#(count)}"#)
task.cancel()
_ = try? await task.value
exit(0)
