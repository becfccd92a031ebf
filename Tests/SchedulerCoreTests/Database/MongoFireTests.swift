import Foundation
import Logging
import Testing

@testable import SchedulerCore
import TestSupport

/// The MongoDB adapter's fenced fires beyond the conformance suite: its round trips, its
/// transaction under races, and documents of the original service.
@Suite struct MongoFireTests {
    static let t0 = MongoDatabaseTests.t0

    /// A database with `count` jobs (`j000`…) locked by a fresh manager.
    private static func jobs(_ count: Int) async throws -> (MongoDatabase, String, String) {
        let (db, name) = try await MongoDatabaseTests.open()
        let manager = RunID.generate().hex
        try await db.registerManager(id: manager, hostname: "test")
        for index in 0..<count {
            try await db.createJob(Job(name: String(format: "j%03d", index), nextRunAt: t0, interval: 60_000))
        }
        #expect(try await db.claimJobs(for: manager, limit: nil, leaseTimeout: 60_000).count == count)
        return (db, name, manager)
    }

    private static func fires(_ count: Int) -> [SlotFire] {
        (0..<count).map { index in
            let job = String(format: "j%03d", index)
            return SlotFire(
                jobName: job, expectedNextRunAt: t0, nextRunAt: t0.adding(milliseconds: 60_000),
                runs: [Run(jobName: job, status: .pending, createdTime: t0)])
        }
    }

    @Test func aHundredFiresAreOneTransaction() async throws {
        let (db, _, manager) = try await Self.jobs(100)
        var before = db.statistics.roundTrips
        let outcomes = try await db.recordFires(Self.fires(100), manager: manager, leaseTimeout: 60_000)
        var roundTrips = db.statistics.roundTrips - before
        print("MongoDB recordFires: \(roundTrips) round trips for a first batch of 100 fires")
        #expect(outcomes == Array(repeating: .recorded([.inserted]), count: 100))
        // hello, the session listed in the manager's document, lease, jobs, taken ids, taken
        // slots, update, insert, commit.
        #expect(roundTrips == 9)
        #expect(try await db.runs(matching: RunQuery(), after: nil, limit: nil).items.count == 100)
        let next = Self.t0.adding(milliseconds: 60_000)
        #expect(try await db.jobs(lockedBy: manager).allSatisfy { $0.nextRunAt == next })

        // The pooled session is listed once.
        let again = (0..<100).map { index in
            let job = String(format: "j%03d", index)
            return SlotFire(
                jobName: job, expectedNextRunAt: next, nextRunAt: next.adding(milliseconds: 60_000),
                runs: [Run(jobName: job, status: .pending, createdTime: next)])
        }
        before = db.statistics.roundTrips
        #expect(try await db.recordFires(again, manager: manager, leaseTimeout: 60_000).count == 100)
        roundTrips = db.statistics.roundTrips - before
        print("MongoDB recordFires: \(roundTrips) round trips for a second batch of 100 fires")
        #expect(roundTrips == 8)
    }

    @Test func takenSlotsAndIdsAreAnsweredWithoutAbortingTheBatch() async throws {
        let (db, _, manager) = try await Self.jobs(2)
        let stored = Run(jobName: "j000", status: .pending, createdTime: Self.t0)
        let manual = Run(jobName: "j001", status: .queued, createdTime: Self.t0, trigger: .manual)
        #expect(try await db.insertRuns([stored, manual]) == [.inserted, .inserted])
        let fresh = Run(jobName: "j000", status: .pending, createdTime: Self.t0.adding(milliseconds: 1))
        let sameSlot = Run(jobName: "j000", status: .skipped, createdTime: Self.t0)
        let twiceInBatch = Run(jobName: "j001", status: .pending, createdTime: Self.t0)
        let next = Self.t0.adding(milliseconds: 60_000)
        let outcomes = try await db.recordFires(
            [
                SlotFire(jobName: "j000", expectedNextRunAt: Self.t0, nextRunAt: next, runs: [sameSlot, fresh]),
                SlotFire(
                    jobName: "j001", expectedNextRunAt: Self.t0, nextRunAt: next,
                    runs: [manual, twiceInBatch, Run(jobName: "j001", status: .skipped, createdTime: Self.t0)]),
            ], manager: manager, leaseTimeout: 60_000)
        #expect(
            outcomes == [
                .recorded([.duplicateSlot, .inserted]), .recorded([.duplicateSlot, .inserted, .duplicateSlot]),
            ])
        #expect(try await db.job(named: "j000")?.nextRunAt == next)
        #expect(try await db.run(id: fresh.id) == fresh)
        #expect(try await db.run(id: twiceInBatch.id) == twiceInBatch)
        #expect(try await db.run(id: manual.id) == manual)
        // Outside a fire too, a run inserted again is answered, not thrown: slot or no slot.
        #expect(try await db.insertRuns([manual, fresh]) == [.duplicateSlot, .duplicateSlot])
    }

    /// Two handles (two processes, as far as the server can tell) fire the same plan at
    /// once: every job moves once and every slot gets one run, whichever transaction wins.
    @Test func racingBatchesRecordEachFireOnce() async throws {
        let (db, name, manager) = try await Self.jobs(20)
        let url = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_MONGODB_URL")
        let other = try MongoDatabase(connectionString: url, databaseName: name, logger: Logger(label: "test"))
        let plan = Self.fires(20)
        // The second handle fires the same slots as other runs (what a duplicate plan would insert).
        let rival = plan.map { fire in
            SlotFire(
                jobName: fire.jobName, expectedNextRunAt: fire.expectedNextRunAt, nextRunAt: fire.nextRunAt,
                runs: [Run(jobName: fire.jobName, status: .pending, createdTime: Self.t0)])
        }
        async let first = db.recordFires(plan, manager: manager, leaseTimeout: 60_000)
        async let second = other.recordFires(rival, manager: manager, leaseTimeout: 60_000)
        let (a, b) = try await (first, second)
        for (x, y) in zip(a, b) {
            let recorded = [x, y].filter { $0 == .recorded([.inserted]) }.count
            #expect(recorded == 1, "\(x) / \(y)")
            #expect([x, y].contains(.changed))
        }
        #expect(try await db.runs(matching: RunQuery(), after: nil, limit: nil).items.count == 20)
    }

    @Test func documentsOfTheOriginalFireAndEnterTheOutbox() async throws {
        let (db, _) = try await MongoDatabaseTests.open()
        let manager = RunID.generate().hex
        try await db.registerManager(id: manager, hostname: "test")
        let legacyRun = RunID.generate()
        try await db.perform { session throws(DatabaseError) in
            // A fired one-shot job as the original left it: no `enabled`, a year-1 nextRunAt,
            // the lock as an ObjectId; and a pending run without `published` or `attempt`.
            _ = try session.insert(
                "jobs",
                [
                    [
                        "_id": "legacy", "nextRunAt": .date(BSON.zeroTimeMilliseconds), "interval": .int32(0),
                        "managerId": BSON.identifier(manager),
                    ]
                ], ordered: true)
            _ = try session.insert(
                "runs",
                [
                    [
                        "_id": .objectID(legacyRun), "jobName": "legacy", "status": "pending",
                        "createdTime": .date(Self.t0),
                    ]
                ],
                ordered: true)
        }
        #expect(try await db.unpublishedRuns(jobNames: ["legacy"]).map(\.id) == [legacyRun])
        try await db.markPublished([PublishedAction(id: legacyRun, status: .pending, attempt: 1)])
        #expect(try await db.unpublishedRuns(jobNames: nil).isEmpty)
        #expect(try await db.run(id: legacyRun)?.published == true)

        let outcomes = try await db.recordFires(
            [SlotFire(jobName: "legacy", expectedNextRunAt: nil, nextRunAt: Self.t0, runs: [])], manager: manager,
            leaseTimeout: 60_000)
        #expect(outcomes == [.recorded([])])
        #expect(try await db.job(named: "legacy")?.nextRunAt == Self.t0)
    }
}

/// A process killed or paused inside a fire transaction leaves it open on the server, its
/// writes holding the jobs against every other writer until the server gives it up (60 s).
@Suite struct MongoAbandonedTransactionTests {
    @Test func aManagerDeadInsideAFireTransactionDoesNotHoldItsJobs() async throws {
        let (db, name) = try await MongoDatabaseTests.open()
        let url = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_MONGODB_URL")
        let rival = try MongoDatabase(connectionString: url, databaseName: name, logger: Logger(label: "test"))
        let (frozen, survivor) = (RunID.generate().hex, RunID.generate().hex)
        try await db.registerManager(id: frozen, hostname: "frozen")
        let t0 = MongoDatabaseTests.t0
        for index in 0..<3 {
            try await db.createJob(Job(name: "job\(index)", nextRunAt: t0, interval: 60_000))
        }
        let lease = 1_000
        #expect(try await db.claimJobs(for: frozen, limit: nil, leaseTimeout: lease).count == 3)

        // The frozen manager's batch stops after its writes, before its commit.
        let inside = DispatchSemaphore(value: 0)
        let wake = DispatchSemaphore(value: 0)
        db.beforeFireCommit.withLock { hook in
            hook = {
                inside.signal()
                wake.wait()
            }
        }
        let fires = (0..<3).map { index in
            SlotFire(
                jobName: "job\(index)", expectedNextRunAt: t0, nextRunAt: t0.adding(milliseconds: 60_000),
                runs: [Run(jobName: "job\(index)", status: .pending, createdTime: t0)])
        }
        let frozenFires = Task { try await db.recordFires(fires, manager: frozen, leaseTimeout: lease) }
        await Task.detached { inside.wait() }.value
        db.beforeFireCommit.withLock { $0 = nil }

        // Its lease runs out; a live instance takes its jobs at once, not after the server
        // gives the open transaction up (each write would time out first, after 10 s).
        try await rival.registerManager(id: survivor, hostname: "survivor")
        try await Task.sleep(for: .milliseconds(lease + 500))
        try await rival.renewManager(id: survivor)
        let started = ContinuousClock.now
        let claimed = try await rival.claimJobs(for: survivor, limit: nil, leaseTimeout: lease)
        let took = ContinuousClock.now - started
        #expect(claimed.map(\.name) == ["job0", "job1", "job2"])
        #expect(took < .seconds(5), "the claim took \(took)")
        #expect(claimed.allSatisfy { $0.nextRunAt == t0 }, "the frozen batch's moves were not committed")

        // When it wakes, the frozen manager's commit fails and it writes nothing.
        wake.signal()
        #expect(try await frozenFires.value == Array(repeating: .lockLost, count: 3))
        #expect(try await rival.runs(matching: RunQuery(), after: nil, limit: nil).items.isEmpty)
        #expect(try await rival.jobs(lockedBy: survivor).count == 3)
    }
}
