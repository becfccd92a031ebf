// Resident memory per managed job: what one scheduler engine costs per job it holds.
//
// The jobs live in a SQLite file (in production the database is another process or a bounded
// page cache), and every job's topology is declared on the in-memory bus before the first
// measurement (in production it lives in RabbitMQ), so the slope is the engine's own cost: its
// job cache, timers and consumer subscriptions; a child process writes the jobs, as the api would.
// Measured with the engine holding 0 jobs, then 10k, then 110k (created while it runs); the figure
// is the slope from 10k to 110k. Two views of one slope:
//   RSS from /proc/self/statm (what the issue asks for; glibc reuses freed pages, so noisy),
//   heap in use from mallinfo2 (allocated bytes, not pages).
//
// Usage: MemoryPerJob <scratch directory>
import CMallocInfo
import Foundation
import Logging
import SchedulerCore

func residentBytes() -> Int {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = statm.split(separator: " ")
    return (Int(fields.count > 1 ? fields[1] : "0") ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func heapInUse() -> Int {
    Int(cmalloc_heap_in_use())
}

var logger = Logger(label: "bench")
logger.logLevel = .error
let far = Timestamp.now.adding(milliseconds: 86_400_000)

// `MemoryPerJob --create <database> <from> <to>`: the jobs are written by a child process, as
// the api would write them, so the scheduler's figure does not include a client's garbage.
if CommandLine.arguments.count == 5, CommandLine.arguments[1] == "--create" {
    let writer = SQLiteDatabase(path: CommandLine.arguments[2], logger: logger)
    for index in Int(CommandLine.arguments[3])!..<Int(CommandLine.arguments[4])! {
        try await writer.createJob(Job(name: "mem-\(index)", nextRunAt: far, interval: 60_000))
    }
    exit(0)
}

let scratch = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : NSTemporaryDirectory()
let path = "\(scratch)/memory-per-job-\(getpid()).db"
defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }

let database = SQLiteDatabase(path: path, logger: logger)
try await database.prepare()
let bus = InMemoryMessageBus()
let targets = [10_000, 110_000]
for index in 0..<targets.last! { try await bus.declareTopology(jobName: "mem-\(index)") }
func createJobs(_ range: Range<Int>) async throws {
    let writer = Process()
    writer.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    writer.arguments = ["--create", path, String(range.lowerBound), String(range.upperBound)]
    try writer.run()
    writer.waitUntilExit()
    guard writer.terminationStatus == 0 else { fatalError("the job writer failed: \(writer.terminationStatus)") }
}

let engine = SchedulerEngine(
    database: database, bus: bus,
    settings: SchedulerEngine.Settings(
        heartbeatInterval: 300, heartbeatTimeout: 30_000, cleanupInterval: 600_000),
    logger: logger)
let engineTask = Task { try await engine.run() }
try await Task.sleep(for: .seconds(2))

func settle() async throws {
    try await Task.sleep(for: .seconds(2))
}

var measurements: [(held: Int, rss: Int, heap: Int)] = []
try await settle()
measurements.append((0, residentBytes(), heapInUse()))
for (index, target) in targets.enumerated() {
    try await createJobs((index == 0 ? 0 : targets[index - 1])..<target)
    while await engine.heldJobCount < target { try await Task.sleep(for: .milliseconds(200)) }
    try await settle()
    measurements.append((target, residentBytes(), heapInUse()))
}
engineTask.cancel()

let (low, high) = (measurements[1], measurements[2])
let jobs = high.held - low.held
print(
    #"{"metric":"memory_per_job","unit":"bytes/job","value":\#((high.rss - low.rss) / jobs),"#
        + #""heap_per_job":\#((high.heap - low.heap) / jobs),"n":\#(jobs),"#
        + #""rss":[\#(measurements.map { String($0.rss) }.joined(separator: ","))],"#
        + #""heap":[\#(measurements.map { String($0.heap) }.joined(separator: ","))],"#
        + #""held":[\#(measurements.map { String($0.held) }.joined(separator: ","))]}"#)
exit(0)
