import Foundation
import Logging
import Testing

@testable import SchedulerCore
import TestSupport

/// The databases the daemons are tested on: SQLite, and the MongoDB-protocol server.
enum DaemonBackend: String, CaseIterable, Sendable {
    case sqlite
    case mongodb
}

/// A private store for one test, and the settings that point daemons at it and at the broker.
struct DaemonFixture: Sendable {
    let amqp: String
    let database: any Database
    let settings: [String: String]

    init(_ backend: DaemonBackend) async throws {
        amqp = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_AMQP_URL")
        let logger = Logger(label: "test")
        switch backend {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("daemons-\(UUID().uuidString).db").path
            database = SQLiteDatabase(path: path, logger: logger)
            settings = ["SIMPLE_SCHEDULER_DB_TYPE": "sqlite", "SIMPLE_SCHEDULER_DB_CONNECTION_STRING": path]
        case .mongodb:
            let url = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_MONGODB_URL")
            let name = "daemons_\(UUID().uuidString.prefix(8))"
            database = try MongoDatabase(connectionString: url, databaseName: name, logger: logger)
            settings = [
                "SIMPLE_SCHEDULER_DB_TYPE": "mongodb", "SIMPLE_SCHEDULER_DB_CONNECTION_STRING": url,
                "SIMPLE_SCHEDULER_DB_NAME": name,
            ]
        }
        try await database.prepare()
    }

    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        settings.merging([
            "SIMPLE_SCHEDULER_MESSAGEBUS_CONNECTION_STRING": amqp, "SIMPLE_SCHEDULER_HEARTBEAT_INTERVAL": "200",
            "SIMPLE_SCHEDULER_HEARTBEAT_TIMEOUT": "3000", "SIMPLE_SCHEDULER_CLEANUP_INTERVAL": "500",
            "SIMPLE_SCHEDULER_LOG_LEVEL": "info",
        ]) { $1 }.merging(extra) { $1 }
    }

    func slotsAreUnique(_ job: String) async throws -> Bool {
        let runs = try await database.runs(matching: RunQuery(jobNames: [job], trigger: .schedule), after: nil, limit: nil).items
        return Set(runs.map(\.createdTime)).count == runs.count
    }
}

/// The `scheduler` and `custodian` binaries against the real broker, on each database.
extension BrokerTests {
@Suite("Scheduler daemons")
struct SchedulerDaemonTests {

    @Test(arguments: DaemonBackend.allCases)
    func aOneSecondJobRunsThroughAWorkerAndSIGTERMReleasesAtOnce(_ backend: DaemonBackend) async throws {
        let fixture = try await DaemonFixture(backend)
        let database = fixture.database
        let job = "tick-\(UUID().uuidString.prefix(6).lowercased())"
        try await database.createJob(Job(name: job, nextRunAt: Timestamp.now.adding(milliseconds: 1000), interval: 1000))
        let worker = try await TestWorker(job: job, url: fixture.amqp) { action in
            action.runID.hex.last!.wholeNumberValue.map { $0 % 2 == 0 } ?? true ? .completed : .failed
        }
        let scheduler = try Daemon("scheduler", environment: fixture.environment())
        defer { Task { await scheduler.stop() } }
        try await waitUntil(.seconds(30), "four finished runs") {
            try await database.runs(matching: RunQuery(jobNames: [job], statuses: [.completed, .failed]), after: nil, limit: nil)
                .items.count >= 4
        }
        let runs = try await database.runs(matching: RunQuery(jobNames: [job]), after: nil, limit: nil).items
        for run in runs where run.status == .completed || run.status == .failed {
            #expect(run.startTime != nil && run.endTime != nil && run.heartbeat != nil, "\(run)")
            let expected: RunStatus = run.id.hex.last!.wholeNumberValue.map { $0 % 2 == 0 } ?? true ? .completed : .failed
            #expect(run.status == expected)
        }
        #expect(try await fixture.slotsAreUnique(job))
        #expect(try await database.job(named: job)?.managerId != nil)

        scheduler.signal(SIGTERM)
        #expect(try await scheduler.wait(timeout: .seconds(15)) == 0, "\(scheduler.output)")
        #expect(try await database.job(named: job)?.managerId == nil, "SIGTERM must release the lock")
        #expect(try await database.managers().isEmpty)
        // The released lock is claimed again (the original wrote a zero id nobody claimed).
        let next = try Daemon("scheduler", environment: fixture.environment())
        defer { Task { await next.stop() } }
        try await waitUntil(.seconds(10), "the released job claimed again") {
            try await database.job(named: job)?.managerId != nil
        }
        next.signal(SIGTERM)
        #expect(try await next.wait() == 0)
        await worker.stop()
    }

    @Test(arguments: DaemonBackend.allCases)
    func twoInstancesWithMaxJobsSplitFourJobsAndKillNineFailsOver(_ backend: DaemonBackend) async throws {
        let fixture = try await DaemonFixture(backend)
        let database = fixture.database
        let prefix = "split-\(UUID().uuidString.prefix(6).lowercased())"
        let names = (0..<4).map { "\(prefix)-\($0)" }
        for name in names {
            try await database.createJob(Job(name: name, nextRunAt: Timestamp.now.adding(milliseconds: 500), interval: 1000,
                allowConcurrentRuns: true))
        }
        let first = try Daemon("scheduler", environment: fixture.environment(["SIMPLE_SCHEDULER_MAX_JOBS": "2"]))
        let second = try Daemon("scheduler", environment: fixture.environment(["SIMPLE_SCHEDULER_MAX_JOBS": "1"]))
        defer { Task { await first.stop(); await second.stop() } }
        try await waitUntil(.seconds(20), "three jobs held, two and one") {
            let managers = try await database.managers()
            guard managers.count == 2 else { return false }
            let counts = try await managers.asyncMap { try await database.jobs(lockedBy: $0.id).count }
            return counts.sorted() == [1, 2]
        }
        // Kill -9 the instance holding two: the other may take one more (its cap is 1: none), so
        // start a third with room and check the orphaned jobs fire there within the lease + 5 s.
        let holders = try await database.managers()
        var killedJobs: [String] = []
        for manager in holders {
            let held = try await database.jobs(lockedBy: manager.id)
            if held.count == 2 { killedJobs = held.map(\.name) }
        }
        first.signal(SIGKILL)
        _ = try await first.wait()
        let third = try Daemon("scheduler", environment: fixture.environment())
        defer { Task { await third.stop() } }
        let killedAt = ContinuousClock.now
        let orphaned = killedJobs
        let before = try await database.runs(matching: RunQuery(jobNames: orphaned), after: nil, limit: nil).items.count
        try await waitUntil(.seconds(3 + 5 + 5), "orphaned jobs fire elsewhere") {
            try await database.runs(matching: RunQuery(jobNames: orphaned), after: nil, limit: nil).items.count > before + 2
        }
        print("[integration] takeover after kill -9 took \(ContinuousClock.now - killedAt) (lease 3 s)")
        for name in names { #expect(try await fixture.slotsAreUnique(name), "slot with two runs in \(name)") }
        third.signal(SIGTERM)
        second.signal(SIGTERM)
        #expect(try await third.wait() == 0)
        #expect(try await second.wait() == 0)
    }

    @Test(arguments: DaemonBackend.allCases)
    func startAndExecutionTimeoutsCancelAndAHeartbeatTimeoutRepublishes(_ backend: DaemonBackend) async throws {
        let fixture = try await DaemonFixture(backend)
        let database = fixture.database
        let tag = UUID().uuidString.prefix(6).lowercased()
        let (silent, stuck, quiet) = ("silent-\(tag)", "stuck-\(tag)", "quiet-\(tag)")
        let soon = Timestamp.now.adding(milliseconds: 300)
        try await database.createJob(Job(name: silent, nextRunAt: soon, runStartTimeout: 1000))
        try await database.createJob(Job(name: stuck, nextRunAt: soon, runExecutionTimeout: 1000))
        try await database.createJob(Job(name: quiet, nextRunAt: soon, heartbeatTimeout: 1000))
        // Never starts; starts and never ends; starts and never sends a heartbeat.
        let never = try await TestWorker(job: silent, url: fixture.amqp) { $0.action == .cancel ? [.cancelled] : [] }
        let hangs = try await TestWorker(job: stuck, url: fixture.amqp) { $0.action == .cancel ? [.cancelled] : [.running] }
        let mute = try await TestWorker(job: quiet, url: fixture.amqp) { $0.action == .cancel ? [] : [.running] }
        let scheduler = try Daemon("scheduler", environment: fixture.environment())
        defer { Task { await scheduler.stop() } }

        for (job, worker) in [(silent, never), (stuck, hangs)] {
            try await waitUntil(.seconds(20), "\(job) cancelled") {
                try await database.runs(matching: RunQuery(jobNames: [job]), after: nil, limit: nil).items.first?.status
                    == .cancelled
            }
            let actions = worker.actions
            #expect(actions.map(\.action) == [.run, .cancel], "\(job)")
            #expect(actions.last?.jobName == job, "a cancel action names its job")
        }
        try await waitUntil(.seconds(20), "the quiet run's second attempt") { mute.actions.count >= 3 }
        let actions = mute.actions
        #expect(actions[0].action == .run && actions[0].attempt == 1)
        #expect(actions[1].action == .cancel && actions[1].attempt == 1)
        #expect(actions[2].action == .run && actions[2].attempt == 2 && actions[2].runID == actions[0].runID)
        scheduler.signal(SIGTERM)
        #expect(try await scheduler.wait() == 0)
        for worker in [never, hangs, mute] { await worker.stop() }
    }

    @Test(arguments: DaemonBackend.allCases)
    func anEditThroughTheDatabaseIsHonouredWithinOneSecond(_ backend: DaemonBackend) async throws {
        let fixture = try await DaemonFixture(backend)
        let database = fixture.database
        let job = "edit-\(UUID().uuidString.prefix(6).lowercased())"
        try await database.createJob(Job(name: job, nextRunAt: Timestamp.now.adding(milliseconds: 3_600_000), interval: 3_600_000))
        let scheduler = try Daemon("scheduler", environment: fixture.environment())
        defer { Task { await scheduler.stop() } }
        try await waitUntil(.seconds(20), "the job held") { try await database.job(named: job)?.managerId != nil }
        let due = Timestamp.now.adding(milliseconds: 200)
        _ = try await database.updateJob(named: job, JobPatch(nextRunAt: .some(due)))
        try await waitUntil(.seconds(5), "the edited slot fired") {
            try await !database.runs(matching: RunQuery(jobNames: [job]), after: nil, limit: nil).items.isEmpty
        }
        let fired = Timestamp.now
        #expect(fired.milliseconds(since: due) < 1000, "fired \(fired.milliseconds(since: due)) ms after the edited slot")
        // Disabling stops it and releases the lock.
        _ = try await database.updateJob(named: job, JobPatch(enabled: false))
        try await waitUntil(.seconds(5), "the disabled job released") { try await database.job(named: job)?.managerId == nil }
        scheduler.signal(SIGTERM)
        #expect(try await scheduler.wait() == 0)
    }

    @Test(arguments: DaemonBackend.allCases)
    func theCustodianFreesASilentManagersJobsAndLeavesALiveOnes(_ backend: DaemonBackend) async throws {
        let fixture = try await DaemonFixture(backend)
        let database = fixture.database
        let (live, silent) = (RunID.generate().hex, RunID.generate().hex)
        try await database.createJob(Job(name: "held-live", nextRunAt: .now, interval: 60_000))
        try await database.createJob(Job(name: "held-silent", nextRunAt: .now, interval: 60_000))
        try await database.registerManager(id: silent, hostname: "silent")
        _ = try await database.claimJobs(for: silent, limit: 1, leaseTimeout: 3000)
        try await Task.sleep(for: .milliseconds(1500))
        try await database.registerManager(id: live, hostname: "live")
        _ = try await database.claimJobs(for: live, limit: 1, leaseTimeout: 3000)
        let custodian = try Daemon("custodian", environment: fixture.environment(["SIMPLE_SCHEDULER_HEARTBEAT_TIMEOUT": "1000"]))
        defer { Task { await custodian.stop() } }
        try await waitUntil(.seconds(10), "the silent manager's job freed") {
            try await database.jobs(lockedBy: silent).isEmpty
        }
        #expect(try await database.jobs(lockedBy: live).count == 1)
        custodian.signal(SIGTERM)
        #expect(try await custodian.wait() == 0)
    }
}

}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
