// Failover: two `scheduler` processes share JOBS one-second jobs on SQLite (lease timeout 3 s);
// the first holds every job, the second stands by; each trial kills -9 the holder at a random
// moment and measures the
// takeover: from the kill until the survivor has claimed every orphaned job and fired a slot
// of each. Afterwards every slot of every job must have exactly one fate: no duplicate, none
// lost (a catch-up run stands for the slots it covers).
//
//   Failover SCHEDULER_BINARY AMQP_URL SQLITE_DIR [TRIALS] [JOBS]
import Foundation
import Logging
import SchedulerCore

let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    FileHandle.standardError.write(Data("usage: Failover SCHEDULER_BINARY AMQP_URL SQLITE_DIR [TRIALS] [JOBS]\n".utf8))
    exit(2)
}
let binary = arguments[1]
let amqp = arguments[2]
let directory = arguments[3]
let trials = arguments.count > 4 ? Int(arguments[4]) ?? 20 : 20
let jobCount = arguments.count > 5 ? Int(arguments[5]) ?? 1000 : 1000
let leaseTimeout: Int64 = 3000
var logger = Logger(label: "bench")
logger.logLevel = .error

func spawnScheduler(_ path: String, log: String) -> pid_t {
    var environment = ProcessInfo.processInfo.environment
    environment.merge([
        "SIMPLE_SCHEDULER_DB_TYPE": "sqlite", "SIMPLE_SCHEDULER_DB_CONNECTION_STRING": path,
        "SIMPLE_SCHEDULER_MESSAGEBUS_CONNECTION_STRING": amqp, "SIMPLE_SCHEDULER_HEARTBEAT_INTERVAL": "500",
        "SIMPLE_SCHEDULER_HEARTBEAT_TIMEOUT": String(leaseTimeout), "SIMPLE_SCHEDULER_LOG_LEVEL": "warning",
    ]) { $1 }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup(binary), nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, binary, &actions, nil, argv, envp) == 0 else { fatalError("cannot start \(binary)") }
    return pid
}

func stop(_ pid: pid_t, signal: Int32) {
    kill(pid, signal)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
}

var takeovers: [Double] = []
var actionsConfirmed: [Double] = []
var duplicates = 0
var lost = 0
var generator = SystemRandomNumberGenerator()
for trial in 0..<trials {
    let trialStarted = Timestamp.now
    let path = "\(directory)/failover-\(trial).db"
    let database = SQLiteDatabase(path: path, logger: logger)
    try await database.prepare()
    let prefix = "fo\(trial)-\(UUID().uuidString.prefix(4).lowercased())"
    let first = Timestamp.now.adding(milliseconds: 2000)
    let names = (0..<jobCount).map { "\(prefix)-\($0)" }
    for name in names {
        try await database.createJob(Job(name: name, nextRunAt: first, interval: 1000, allowConcurrentRuns: true))
    }
    let created = Timestamp.now
    let log = "\(directory)/failover-\(trial).log"
    // The lease holder starts first and claims every job; the standby starts once it has.
    var pids = [spawnScheduler(path, log: log)]
    while try await database.managers().count < 1 { try await Task.sleep(for: .milliseconds(100)) }
    let holder = try await database.managers()[0].id
    while try await database.jobs(lockedBy: holder).count < jobCount { try await Task.sleep(for: .milliseconds(200)) }
    let claimed = Timestamp.now
    pids.append(spawnScheduler(path, log: log))
    while try await database.managers().count < 2 { try await Task.sleep(for: .milliseconds(100)) }
    // Steady state first: every job has fired and its action is confirmed, so its topology is
    // declared (a broker takes seconds to declare a thousand new ones; that is start-up, not failover).
    while true {
        let runs = try await database.runs(matching: RunQuery(trigger: .schedule), after: nil, limit: nil).items
        if Set(runs.filter(\.published).map(\.jobName)).count == jobCount { break }
        try await Task.sleep(for: .milliseconds(200))
    }
    let steady = Timestamp.now
    try await Task.sleep(for: .milliseconds(1000 + Int(generator.next() % 2000)))
    // kill -9 the lease holder at a random moment.
    let victim = 0
    let deadManager: String? = holder
    let victimJobs = Set(names)
    let killedAt = Timestamp.now
    stop(pids[victim], signal: SIGKILL)
    // Takeover: every job the dead instance held is held by the survivor and fired after the kill.
    var takeover: Double?
    let deadline = killedAt.adding(milliseconds: 60_000)
    while takeover == nil && Timestamp.now < deadline {
        try await Task.sleep(for: .milliseconds(100))
        let survivor = try await database.managers().first { $0.id != deadManager }
        guard let survivor else { continue }
        let held = Set(try await database.jobs(lockedBy: survivor.id).map(\.name))
        guard victimJobs.isSubset(of: held) else { continue }
        let fired = try await database.runs(matching: RunQuery(jobNames: Array(victimJobs)), after: nil, limit: nil).items
            .filter { $0.createdTime.adding(milliseconds: Int64($0.missedSlots) * 1000) >= killedAt }
        if Set(fired.map(\.jobName)).count == victimJobs.count {
            takeover = Double(Timestamp.now.milliseconds(since: killedAt)) / 1000
        }
    }
    // Until those first fires' actions are confirmed by the broker too: after a takeover each
    // job's topology is declared before its first action goes out.
    var published: Double?
    while takeover != nil, published == nil, Timestamp.now < deadline {
        let fired = try await database.runs(matching: RunQuery(jobNames: Array(victimJobs)), after: nil, limit: nil).items
            .filter { $0.createdTime.adding(milliseconds: Int64($0.missedSlots) * 1000) >= killedAt }
        var firstFires: [String: Run] = [:]
        for run in fired where firstFires[run.jobName].map({ run.createdTime < $0.createdTime }) ?? true {
            firstFires[run.jobName] = run
        }
        if firstFires.count == victimJobs.count, firstFires.values.allSatisfy(\.published) {
            published = Double(Timestamp.now.milliseconds(since: killedAt)) / 1000
        } else {
            try await Task.sleep(for: .milliseconds(100))
        }
    }
    // Run a little longer, then stop the survivor and check every slot's fate.
    let takenOver = Timestamp.now
    try await Task.sleep(for: .seconds(2))
    stop(pids[1 - victim], signal: SIGTERM)
    pids.removeAll()
    let stopped = Timestamp.now
    let end = try await database.jobs(after: nil, limit: 100_000).items
    for job in end where names.contains(job.name) {
        let runs = try await database.runs(matching: RunQuery(jobNames: [job.name], trigger: .schedule), after: nil, limit: nil).items
        let slots = Set(runs.map(\.createdTime))
        duplicates += runs.count - slots.count
        let covered = runs.reduce(0) { $0 + 1 + $1.missedSlots }
        let expected = Int(job.nextRunAt!.milliseconds(since: first) / 1000)
        lost += max(0, expected - covered)
        duplicates += max(0, covered - expected)
    }
    if let takeover { takeovers.append(takeover) }
    if let published { actionsConfirmed.append(published) }
    let phases = [
        ("create_s", created.milliseconds(since: trialStarted)), ("claim_s", claimed.milliseconds(since: created)),
        ("steady_s", steady.milliseconds(since: claimed)), ("wait_takeover_s", takenOver.milliseconds(since: steady)), ("stop_s", stopped.milliseconds(since: takenOver)),
        ("check_s", Timestamp.now.milliseconds(since: stopped)),
        ("trial_s", Timestamp.now.milliseconds(since: trialStarted)),
    ].map { #""\#($0.0)":\#(String(format: "%.1f", Double($0.1) / 1000))"# }.joined(separator: ",")
    print(#"{"metric":"failover_trial","trial":\#(trial),"unit":"s","value":\#(takeover.map { String(format: "%.2f", $0) } ?? "null"),"orphaned_jobs":\#(victimJobs.count),"first_actions_confirmed_s":\#(published.map { String(format: "%.2f", $0) } ?? "null"),\#(phases)}"#)
}
let worst = takeovers.max() ?? -1
print(#"{"metric":"failover_takeover_worst","unit":"s","value":\#(String(format: "%.2f", worst)),"n":\#(trials),"completed_trials":\#(takeovers.count),"jobs":\#(jobCount),"lease_timeout_s":\#(leaseTimeout / 1000),"duplicate_slots":\#(duplicates),"lost_slots":\#(lost),"median":\#(String(format: "%.2f", takeovers.sorted()[takeovers.count / 2])),"first_actions_confirmed_worst_s":\#(String(format: "%.2f", actionsConfirmed.max() ?? -1)),"first_actions_confirmed_trials":\#(actionsConfirmed.count)}"#)
exit(0)
