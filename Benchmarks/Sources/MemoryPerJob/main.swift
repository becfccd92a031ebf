// Resident memory per managed job: what one scheduler engine costs per job it holds.
// For N = 10k and then 100k more jobs (in-memory database and bus, none due): RSS after the
// database holds the jobs, and again once the engine has claimed and scheduled them; the
// difference over N is the engine's cost per job (the database's own copy is not counted:
// in production it lives in SQLite or MongoDB). RSS from /proc/self/statm.
import Foundation
import Logging
import SchedulerCore

func residentBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    return (Int(fields.count > 1 ? fields[1] : "0") ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

var logger = Logger(label: "bench")
logger.logLevel = .error
let database = InMemoryDatabase()
let bus = InMemoryMessageBus()
let engine = SchedulerEngine(
    database: database, bus: bus,
    settings: SchedulerEngine.Settings(heartbeatInterval: 300, heartbeatTimeout: 30_000, cleanupInterval: 600_000),
    logger: logger)
let far = Timestamp.now.adding(milliseconds: 86_400_000)
var created = 0
var engineTask: Task<Void, Error>?
for target in [10_000, 110_000] {
    let batch = target - created
    while created < target {
        try await database.createJob(Job(name: "mem-\(created)", nextRunAt: far, interval: 60_000))
        created += 1
    }
    try await Task.sleep(for: .seconds(1))
    let before = residentBytes()
    if engineTask == nil { engineTask = Task { try await engine.run() } }
    while await engine.heldJobs.count < target { try await Task.sleep(for: .milliseconds(200)) }
    try await Task.sleep(for: .seconds(2))
    let after = residentBytes()
    print(#"{"metric":"memory_per_job","unit":"bytes/job","value":\#((after - before) / batch),"n":\#(batch),"held":\#(target),"rss_before":\#(before),"rss_after":\#(after)}"#)
}
engineTask?.cancel()
exit(0)
