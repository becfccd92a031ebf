// A sustained load: N jobs every second, their slots spread evenly over the second, fired by one
// in-process scheduler engine for SECONDS. Measures confirmed fires per second and lateness
// (publish confirmed − slot instant) from a bus wrapper that timestamps each confirmed action;
// counts fires in the database and at the bus (they must agree) and early fires (must be 0).
//
//   SustainedLoad sqlite PATH memory|AMQP_URL JOBS SECONDS
import Foundation
import Logging
import SchedulerCore
import Synchronization

/// Wraps a bus and records when each run action's publish was confirmed.
final class ConfirmClock: MessageBus {
    let base: any MessageBus
    let confirmed = Mutex<[(runID: String, at: Int64)]>([])

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
        let now = Timestamp.now.milliseconds
        var batch: [(String, Int64)] = []
        for (message, ok) in zip(messages, results) where ok {
            if let action = try? ActionMessage(parsing: message.body), action.action == .run { batch.append((action.runID.hex, now)) }
        }
        confirmed.withLock { $0.append(contentsOf: batch) }
        return results
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 6, let jobs = Int(arguments[4]), let seconds = Int(arguments[5]) else {
    FileHandle.standardError.write(Data("usage: SustainedLoad sqlite PATH memory|AMQP_URL JOBS SECONDS\n".utf8))
    exit(2)
}
var logger = Logger(label: "bench")
logger.logLevel = .error
let database = SQLiteDatabase(path: arguments[2], logger: logger)
try await database.prepare()
let inner: any MessageBus
if arguments[3] == "memory" {
    inner = InMemoryMessageBus()
} else {
    let rabbit = try RabbitMQBus(connectionString: arguments[3], logger: logger)
    try await rabbit.waitUntilConnected(timeout: .seconds(30))
    inner = rabbit
}
let bus = ConfirmClock(inner)
let prefix = "load-\(UUID().uuidString.prefix(6).lowercased())"
// Creating, claiming and (on RabbitMQ) declaring and consuming take about 1 ms per job on the
// memory bus and 25 ms per job on the broker here; the allowance leaves twice that.
let setup: Int64 = arguments[3] == "memory" ? 5_000 + Int64(jobs) * 3 : 10_000 + Int64(jobs) * 50
let setupStarted = Timestamp.now
let start = setupStarted.adding(milliseconds: setup)
for index in 0..<jobs {
    // Slots spread evenly over each second, every job firing every 1,000 ms.
    let offset = Int64(index) * 1000 / Int64(jobs)
    try await database.createJob(
        Job(name: "\(prefix)-\(index)", nextRunAt: start.adding(milliseconds: offset), interval: 1000, allowConcurrentRuns: true))
}
let engine = SchedulerEngine(
    database: database, bus: bus,
    settings: SchedulerEngine.Settings(heartbeatInterval: 1000, heartbeatTimeout: 30_000, cleanupInterval: 600_000),
    logger: logger)
let task = Task { try await engine.run() }
// Ready when every job is held and its topology declared and consumed.
while await engine.consumedJobCount < jobs, Timestamp.now < start { try await Task.sleep(for: .milliseconds(100)) }
let setupSeconds = String(format: "%.1f", Double(Timestamp.now.milliseconds(since: setupStarted)) / 1000)
guard Timestamp.now < start else {
    print(#"{"metric":"sustained","error":"setup took \#(setupSeconds) s, longer than the allowance; raise it"}"#)
    exit(1)
}
let end = start.adding(milliseconds: Int64(seconds) * 1000)
let usageBefore = cpuSeconds()
while Timestamp.now < end.adding(milliseconds: 2000) { try await Task.sleep(for: .milliseconds(200)) }
task.cancel()
_ = try? await task.value

// Slots in [start, end): each must have fired exactly once, confirmed, never before its instant.
let runs = try await database.runs(matching: RunQuery(trigger: .schedule), after: nil, limit: nil).items
    .filter { $0.jobName.hasPrefix(prefix) && $0.createdTime >= start && $0.createdTime < end }
let confirmations = Dictionary(bus.confirmed.withLock { $0 }.map { ($0.runID, $0.at) }, uniquingKeysWith: min)
var lateness: [Int64] = []
var early = 0
// The worst lateness of each second of the run: tells a warm-up or a periodic stall from noise.
var worstBySecond = Array(repeating: Int64(0), count: seconds)
// Lateness after the first 3 s: a broker's first persistent writes into a thousand fresh queues
// are slow for a second or two (a plain librabbitmq loop shows the same; see BusThroughput).
let warmUp: Int64 = 3000
var steady: [Int64] = []
for run in runs {
    guard let at = confirmations[run.id.hex] else { continue }
    let late = at - run.createdTime.milliseconds
    if late < 0 { early += 1 }
    lateness.append(late)
    if run.createdTime.milliseconds(since: start) >= warmUp { steady.append(late) }
    let second = Int(run.createdTime.milliseconds(since: start) / 1000)
    if second >= 0, second < seconds { worstBySecond[second] = max(worstBySecond[second], late) }
}
lateness.sort()
let sorted = lateness
let percentile = { (p: Double) -> Int64 in sorted.isEmpty ? -1 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
let expected = jobs * seconds
let duplicates = runs.count - Set(runs.map { "\($0.jobName)|\($0.createdTime.milliseconds)" }).count
let cpu = cpuSeconds() - usageBefore
let backend = "sqlite+\(arguments[3] == "memory" ? "memory-bus" : "rabbitmq")"
print(#"{"metric":"sustained_fires_per_second","backend":"\#(backend)","unit":"fires/s","value":\#(String(format: "%.0f", Double(lateness.count) / Double(seconds))),"n":\#(expected),"slots_recorded":\#(runs.count),"confirmed":\#(lateness.count),"duplicates":\#(duplicates),"early":\#(early),"cpu_seconds":\#(String(format: "%.2f", cpu)),"setup_seconds":\#(setupSeconds),"setup_allowance_seconds":\#(setup / 1000)}"#)
print(#"{"metric":"lateness_p50","backend":"\#(backend)","rate":\#(jobs),"unit":"ms","value":\#(percentile(0.5)),"n":\#(lateness.count)}"#)
print(#"{"metric":"lateness_p99","backend":"\#(backend)","rate":\#(jobs),"unit":"ms","value":\#(percentile(0.99)),"n":\#(lateness.count)}"#)
steady.sort()
let steadyP99 = steady.isEmpty ? -1 : steady[min(steady.count - 1, Int(Double(steady.count) * 0.99))]
print(#"{"metric":"lateness_p99_after_warm_up","backend":"\#(backend)","rate":\#(jobs),"unit":"ms","value":\#(steadyP99),"warm_up_ms":\#(warmUp),"n":\#(steady.count)}"#)
print(#"{"metric":"lateness_max","backend":"\#(backend)","rate":\#(jobs),"unit":"ms","value":\#(lateness.last ?? -1),"n":\#(lateness.count),"worst_by_second":\#(worstBySecond)}"#)
exit(0)

/// User + system CPU seconds of this process, from /proc/self/stat (utime, stime at 100 Hz).
func cpuSeconds() -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the command: state is field 3; utime and stime are fields 14 and 15 (1-based).
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / 100
}
