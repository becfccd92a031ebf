import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

/// Polls (in real time, bounded) until `body` returns a value.
func poll<T: Sendable>(
    _ timeout: Duration, _ what: String, every interval: Duration = .milliseconds(100),
    _ body: @Sendable () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try await body() { return value }
        try await Task.sleep(for: interval)
    }
    throw DaemonError(description: "timed out after \(timeout) waiting for \(what)")
}

/// Schedulers of one fault test, each known by the manager id it registered.
final class SchedulerFleet: @unchecked Sendable {
    let database: any Database
    let environment: [String: String]
    private(set) var daemons: [String: Daemon] = [:]

    init(database: any Database, environment: [String: String]) {
        self.database = database
        self.environment = environment
    }

    /// Starts a scheduler and returns its manager id once it has registered.
    func start() async throws -> String {
        let known = Set(try await database.managers().map(\.id)).union(daemons.keys)
        let daemon = try Daemon("scheduler", environment: environment)
        let database = self.database
        let id = try await poll(.seconds(60), "a new scheduler to register") {
            try await database.managers().map(\.id).first { !known.contains($0) }
        }
        daemons[id] = daemon
        return id
    }

    subscript(id: String) -> Daemon { daemons[id]! }

    /// SIGKILLs whatever still runs (clean-up after a failed test).
    func killAll() async {
        for daemon in daemons.values { await daemon.stop() }
    }

    func stopAll() async {
        for daemon in daemons.values where daemon.exitStatus == nil {
            daemon.signal(SIGTERM)
            if (try? await daemon.wait(timeout: .seconds(20))) == nil { await daemon.stop() }
        }
    }
}

/// Whether every job of `names` has a run for a slot at or after `instant`.
func everyJobFired(_ database: any Database, _ names: Set<String>, since instant: Timestamp, interval: Int64) async throws -> Bool {
    var fired = Set<String>()
    var cursor: RunCursor?
    // Newest first: stop at runs older than the instant.
    pages: repeat {
        let page = try await database.runs(matching: RunQuery(trigger: .schedule), after: cursor, limit: 2000)
        for run in page.items {
            if run.createdTime.adding(milliseconds: Int64(run.missedSlots) * interval) < instant.adding(milliseconds: -interval) {
                break pages
            }
            if names.contains(run.jobName), run.createdTime.adding(milliseconds: Int64(run.missedSlots) * interval) >= instant {
                fired.insert(run.jobName)
            }
        }
        cursor = page.next
    } while cursor != nil
    return fired.count == names.count
}

/// Whether `job` has fired a slot at or after `instant`: its `nextRunAt` moves only in the
/// transaction that records the run (or the catch-up run) for the slots before it, so a slot at
/// or after the instant has a run once `nextRunAt` is an interval past it.
func firedSince(_ instant: Timestamp, _ job: Job, interval: Int64) -> Bool {
    guard let next = job.nextRunAt else { return false }
    return next.milliseconds(since: instant) >= interval
}

/// SPEC's promises under crashes and pauses, against the real daemons, broker and databases.
extension BrokerTests {
@Suite("Faults: crashes and pauses")
struct CrashFaultTests {
    static let lease: Int64 = 3000

    /// Issue 10 (1): kill -9 the lease holder at random moments; the standby takes over within the
    /// lease + 5 s, and every slot has exactly one fate.
    @Test(arguments: DaemonBackend.allCases)
    func killNineTheLeaseHolderAtRandomMoments(_ backend: DaemonBackend) async throws {
        let plan = FaultPlan.current
        let fixture = try await DaemonFixture(backend)
        let database = fixture.database
        let count = backend == .sqlite ? plan.sqliteJobs : plan.mongoJobs
        let prefix = "crash-\(UUID().uuidString.prefix(4).lowercased())"
        let names = (0..<count).map { "\(prefix)-\($0)" }
        let first = Timestamp.now.adding(milliseconds: 5000)
        for name in names { try await database.createJob(Job(name: name, nextRunAt: first, interval: 1000)) }
        let worker = try await TestWorker(jobs: names, url: fixture.amqp) { _ in .completed }
        let environment = fixture.environment([
            "SIMPLE_SCHEDULER_HEARTBEAT_INTERVAL": "500", "SIMPLE_SCHEDULER_HEARTBEAT_TIMEOUT": "\(Self.lease)",
            "SIMPLE_SCHEDULER_LOG_LEVEL": "warning",
        ])
        let custodian = try Daemon("custodian", environment: environment)
        let fleet = SchedulerFleet(database: database, environment: environment)
        do {
            try await Self.crashTrials(backend, plan, fleet, custodian, worker, database, names, first)
        } catch {
            // A failed trial must not leave daemons running after the test.
            await fleet.killAll()
            await custodian.stop()
            await worker.stop()
            throw error
        }
    }

    private static func crashTrials(
        _ backend: DaemonBackend, _ plan: FaultPlan, _ fleet: SchedulerFleet, _ custodian: Daemon, _ worker: TestWorker,
        _ database: any Database, _ names: [String], _ first: Timestamp
    ) async throws {
        let count = names.count
        var holder = try await fleet.start()
        let firstHolder = holder
        _ = try await poll(.seconds(120), "the first scheduler to hold every job", every: .milliseconds(250)) {
            try await database.jobs(lockedBy: firstHolder).count == count ? true : nil
        }
        var takeovers: [Double] = []
        for _ in 0..<plan.crashTrials {
            let standby = try await fleet.start()
            try await Task.sleep(for: .milliseconds(1000 + Int.random(in: 0..<3000)))
            let killedAt = Timestamp.now
            fleet[holder].signal(SIGKILL)
            _ = try await fleet[holder].wait()
            let all = Set(names)
            // Polled gently: the MongoDB-protocol server is slow, and the test must not be its main
            // load (paging through the runs at each poll was: 0.4 s of its time for each page).
            let took = try await poll(.seconds(60), "the standby to hold and fire every job", every: .milliseconds(500)) {
                () async throws -> Double? in
                let held = try await database.jobs(lockedBy: standby)
                guard Set(held.map(\.name)) == all, held.allSatisfy({ firedSince(killedAt, $0, interval: 1000) })
                else { return nil }
                return Double(Timestamp.now.milliseconds(since: killedAt)) / 1000
            }
            takeovers.append(took)
            print("[fault] trial \(takeovers.count) (\(backend)): takeover \(String(format: "%.2f", took)) s")
            holder = standby
        }
        try await Task.sleep(for: .seconds(2))
        await fleet.stopAll()
        custodian.signal(SIGTERM)
        _ = try? await custodian.wait()
        await worker.stop()
        let audit = try await SlotAudit(database: database, names: names, first: first, interval: 1000)
        let worst = takeovers.max() ?? -1
        FaultPlan.report("crash-\(backend)", [
            "jobs": "\(count)", "trials": "\(takeovers.count)", "worst_takeover_s": String(format: "%.2f", worst),
            "median_takeover_s": String(format: "%.2f", takeovers.sorted()[takeovers.count / 2]),
            "slots": "\(audit.slots)", "duplicates": "\(audit.duplicates)", "lost": "\(audit.lost)",
        ])
        #expect(audit.duplicates == 0 && audit.lost == 0, "\(audit)")
        #expect(audit.slots >= count * plan.crashTrials, "\(audit)")
        #expect(worst <= Double(lease) / 1000 + 5, "takeovers: \(takeovers)")
    }

    /// Issue 10 (2): SIGSTOP the holder past its lease; when it wakes after another instance took
    /// over, it fires nothing on the stale lease: no slot twice, no action for a run twice.
    @Test func aPausedHolderWakesToFireNothing() async throws {
        let fixture = try await DaemonFixture(.sqlite)
        let database = fixture.database
        let prefix = "pause-\(UUID().uuidString.prefix(4).lowercased())"
        let names = (0..<20).map { "\(prefix)-\($0)" }
        let first = Timestamp.now.adding(milliseconds: 3000)
        for name in names { try await database.createJob(Job(name: name, nextRunAt: first, interval: 1000)) }
        let worker = try await TestWorker(jobs: names, url: fixture.amqp) { _ in .completed }
        let environment = fixture.environment([
            "SIMPLE_SCHEDULER_HEARTBEAT_INTERVAL": "500", "SIMPLE_SCHEDULER_HEARTBEAT_TIMEOUT": "\(Self.lease)",
        ])
        let fleet = SchedulerFleet(database: database, environment: environment)
        do {
            try await Self.pauseTrial(fleet, worker, database, names, first)
        } catch {
            await fleet.killAll()
            await worker.stop()
            throw error
        }
    }

    private static func pauseTrial(
        _ fleet: SchedulerFleet, _ worker: TestWorker, _ database: any Database, _ names: [String], _ first: Timestamp
    ) async throws {
        let holder = try await fleet.start()
        _ = try await poll(.seconds(60), "the first scheduler to hold every job") {
            try await database.jobs(lockedBy: holder).count == names.count ? true : nil
        }
        try await Task.sleep(for: .seconds(4))  // firing
        let standby = try await fleet.start()
        let pausedAt = Timestamp.now
        fleet[holder].signal(SIGSTOP)
        _ = try await poll(.seconds(30), "the standby to take over") { () async throws -> Bool? in
            guard try await database.jobs(lockedBy: standby).count == names.count else { return nil }
            return try await everyJobFired(database, Set(names), since: pausedAt, interval: 1000) ? true : nil
        }
        try await Task.sleep(for: .seconds(2))
        fleet[holder].signal(SIGCONT)
        try await Task.sleep(for: .seconds(5))
        await fleet.stopAll()
        await worker.stop()

        let audit = try await SlotAudit(database: database, names: names, first: first, interval: 1000)
        let runs = try await database.runs(matching: RunQuery(jobNames: names), after: nil, limit: nil).items
        let known = Set(runs.map(\.id))
        let deliveries = worker.actions.filter { $0.action == .run }
        let distinct = Set(deliveries.map { "\($0.runID.hex)/\($0.attempt)" })
        let output = fleet[holder].output
        FaultPlan.report("pause", [
            "slots": "\(audit.slots)", "duplicates": "\(audit.duplicates)", "lost": "\(audit.lost)",
            "run_actions": "\(deliveries.count)", "repeated_actions": "\(deliveries.count - distinct.count)",
        ])
        #expect(audit.duplicates == 0 && audit.lost == 0, "\(audit)")
        #expect(deliveries.count == distinct.count, "a run's action was published twice")
        #expect(deliveries.allSatisfy { known.contains($0.runID) })
        #expect(fleet[holder].exitStatus == 0, "the woken instance stops cleanly: \(output.suffix(2000))")
    }
}
}
