import Foundation
import Logging
import Testing

@testable import SchedulerCore
import TestSupport

/// Focused tests of the MongoDB adapter against a real server (scripts/test starts one
/// and sets SIMPLE_SCHEDULER_TEST_MONGODB_URL). Each test uses a database of its own.
@Suite struct MongoDatabaseTests {
    static func open(_ name: String? = nil) async throws -> (MongoDatabase, String) {
        let url = try requiredEnvironment("SIMPLE_SCHEDULER_TEST_MONGODB_URL")
        let dbName = name ?? "test_\(UUID().uuidString.prefix(8))"
        let db = try MongoDatabase(connectionString: url, databaseName: dbName, logger: Logger(label: "test"))
        try await db.prepare()
        return (db, dbName)
    }

    static let t0 = Timestamp(milliseconds: 1_738_144_800_000)

    @Test func badURIThrows() {
        #expect(throws: DatabaseError.self) {
            _ = try MongoDatabase(connectionString: "nonsense://x", databaseName: "x", logger: Logger(label: "t"))
        }
    }

    @Test func serverTimeIsNearLocalTime() async throws {
        let (db, _) = try await Self.open()
        let now = try await db.now()
        #expect(abs(now.milliseconds(since: .now)) < 60_000)
    }

    @Test func jobCRUD() async throws {
        let (db, _) = try await Self.open()
        let job = Job(
            name: "job-a", nextRunAt: Self.t0, interval: 60_000, runExecutionTimeout: 5, maxQueueCount: 2,
            managerId: "0123456789abcdef01234567", heartbeat: Self.t0)
        try await db.createJob(job)
        await #expect(throws: DatabaseError.jobExists("job-a")) { try await db.createJob(job) }
        var expected = job
        expected.managerId = nil
        expected.heartbeat = nil
        #expect(try await db.job(named: "job-a") == expected)
        #expect(try await db.job(named: "nope") == nil)

        let patched = try await db.updateJob(
            named: "job-a", JobPatch(nextRunAt: .some(nil), interval: 0, cron: .some("*/5 * * * *")))
        expected.nextRunAt = nil
        expected.interval = 0
        expected.cron = "*/5 * * * *"
        #expect(patched == expected)
        #expect(try await db.job(named: "job-a") == expected)
        #expect(try await db.updateJob(named: "job-a", JobPatch()) == expected)
        #expect(try await db.updateJob(named: "nope", JobPatch(enabled: false)) == nil)

        for i in 0..<5 { try await db.createJob(Job(name: "job-\(i)")) }
        let first = try await db.jobs(after: nil, limit: 4)
        #expect(first.items.map(\.name) == ["job-0", "job-1", "job-2", "job-3"])
        #expect(first.next == "job-3")
        let second = try await db.jobs(after: first.next, limit: 4)
        #expect(second.items.map(\.name) == ["job-4", "job-a"])
        #expect(second.next == nil)

        #expect(try await db.deleteJob(named: "job-a"))
        #expect(try await !db.deleteJob(named: "job-a"))
    }

    @Test func managersRegisterRenewRemove() async throws {
        let (db, _) = try await Self.open()
        let id = RunID.generate().hex
        try await db.registerManager(id: id, hostname: "host-1")
        let managers = try await db.managers()
        #expect(managers.map(\.id) == [id])
        #expect(managers.first?.hostname == "host-1")
        let serverNow = try await db.now()
        #expect(abs((managers.first?.heartbeat ?? Timestamp(milliseconds: 0)).milliseconds(since: serverNow)) < 5_000)
        #expect(try await db.renewManager(id: id))
        try await db.removeManager(id: id)
        #expect(try await !db.renewManager(id: id))
        #expect(try await db.managers().isEmpty)
    }

    @Test func claimRespectsLiveAndDeadManagers() async throws {
        let (db, _) = try await Self.open()
        let live = RunID.generate().hex
        let dead = RunID.generate().hex
        let me = RunID.generate().hex
        try await db.registerManager(id: live, hostname: "live")
        try await db.registerManager(id: me, hostname: "me")
        for name in ["held", "absent", "zero", "free", "off", "string-owner"] {
            try await db.createJob(Job(name: name, enabled: name != "off"))
        }
        try await db.overwriteLock(job: "held", managerId: live)
        try await db.overwriteLock(job: "absent", managerId: dead)
        try await db.overwriteLock(job: "zero", managerId: Manager.zeroID)
        try await db.overwriteLock(job: "string-owner", managerId: "not-an-object-id")
        let before = db.statistics.roundTrips
        let claimed = try await db.claimJobs(for: me, limit: nil, leaseTimeout: 60_000)
        #expect(claimed.map(\.name) == ["absent", "free", "string-owner", "zero"])
        // Server time, live managers, candidates, one update, read-back: not one per job.
        #expect(db.statistics.roundTrips - before == 5)
        #expect(try await db.claimJobs(for: me, limit: nil, leaseTimeout: 60_000).isEmpty)

        // With a zero lease every manager is dead: the live one's job becomes claimable.
        try await Task.sleep(for: .milliseconds(20))
        let other = RunID.generate().hex
        let taken = try await db.claimJobs(for: other, limit: 10, leaseTimeout: 0)
        #expect(taken.map(\.name) == ["absent", "free", "held", "string-owner", "zero"])

        #expect(try await db.releaseJobs(of: other, names: ["held"]) == 1)
        #expect(try await db.job(named: "held")?.managerId == nil)
        #expect(try await db.releaseJobs(of: other, names: nil) == 4)
        #expect(try await db.jobs(lockedBy: other).isEmpty)

        try await db.overwriteLock(job: "held", managerId: live)
        try await db.overwriteLock(job: "zero", managerId: Manager.zeroID)
        try await db.overwriteLock(job: "absent", managerId: dead)
        #expect(try await db.releaseJobsOfDeadManagers(leaseTimeout: 60_000) == 2)
        #expect(try await db.job(named: "held")?.managerId == live)
        #expect(try await db.deleteManagers(silentFor: 0) == 2)
    }

    @Test func duplicateSlotsAndManualRuns() async throws {
        let (db, _) = try await Self.open()
        let slot = Run(jobName: "j", status: .pending, createdTime: Self.t0)
        #expect(try await db.insertRun(slot) == .inserted)
        let again = Run(jobName: "j", status: .skipped, createdTime: Self.t0)
        let manual = Run(jobName: "j", status: .queued, createdTime: Self.t0, trigger: .manual)
        let manual2 = Run(jobName: "j", status: .queued, createdTime: Self.t0, trigger: .manual)
        let retry = Run(jobName: "j", status: .queued, createdTime: Self.t0, trigger: .retry, retryOf: slot.id)
        let otherJob = Run(jobName: "k", status: .pending, createdTime: Self.t0)
        let outcomes = try await db.insertRuns([again, manual, manual2, retry, otherJob])
        #expect(outcomes == [.duplicateSlot, .inserted, .inserted, .inserted, .inserted])
        #expect(try await db.run(id: retry.id) == retry)
        #expect(try await db.run(id: again.id) == nil)
        #expect(try await db.runs(ids: [slot.id, manual.id, again.id]).count == 2)
    }

    @Test func batchInsertIsOneRoundTrip() async throws {
        let (db, _) = try await Self.open()
        let runs = (0..<100).map {
            Run(jobName: "j", status: .pending, createdTime: Self.t0.adding(milliseconds: Int64($0)))
        }
        let before = db.statistics.roundTrips
        let outcomes = try await db.insertRuns(runs)
        #expect(db.statistics.roundTrips - before == 1)
        #expect(outcomes.allSatisfy { $0 == .inserted })
    }

    @Test func transitionsCompareAndSet() async throws {
        let (db, _) = try await Self.open()
        let a = Run(jobName: "j", status: .pending, createdTime: Self.t0)
        let b = Run(jobName: "j", status: .running, createdTime: Self.t0.adding(milliseconds: 1), heartbeat: Self.t0)
        _ = try await db.insertRuns([a, b])
        let t1 = Self.t0.adding(milliseconds: 5_000)
        let before = db.statistics.roundTrips
        let outcomes = try await db.applyTransitions([
            RunTransition(id: a.id, from: .pending, attempt: 1, to: .running, at: t1),
            .heartbeat(b.id, attempt: nil, at: t1),
        ])
        #expect(outcomes == [.applied, .applied])
        #expect(db.statistics.roundTrips - before == 1)
        #expect(
            try await db.run(id: a.id)
                == a.applying(RunTransition(id: a.id, from: .pending, to: .running, at: t1).changes))
        #expect(try await db.run(id: b.id)?.heartbeat == t1)

        // A stale heartbeat does not move the heartbeat back, but still applies.
        #expect(try await db.applyTransition(.heartbeat(b.id, attempt: 1, at: Self.t0)) == .applied)
        #expect(try await db.run(id: b.id)?.heartbeat == t1)

        let missing = RunID.generate()
        let mixed = try await db.applyTransitions([
            RunTransition(id: a.id, from: .pending, to: .cancelling, at: t1),  // stale: a is running
            RunTransition(id: a.id, from: .completed, to: .running, at: t1),  // illegal
            RunTransition(id: missing, from: .pending, to: .running, at: t1),
            RunTransition(id: b.id, from: .running, attempt: 2, to: .completed, at: t1),  // wrong attempt
            RunTransition(id: b.id, from: .running, attempt: 1, to: .pending, at: t1),  // reset
            RunTransition(id: b.id, from: .pending, attempt: 2, to: .running, at: t1),  // same run, next round
        ])
        #expect(mixed == [.conflict, .illegal, .notFound, .conflict, .applied, .applied])
        let reset = try await db.run(id: b.id)
        #expect(reset?.attempt == 2)
        #expect(reset?.status == .running)
    }

    @Test func paginationNewestFirst() async throws {
        let (db, _) = try await Self.open()
        var runs: [Run] = []
        for i in 0..<7 {
            // Pairs share a createdTime so the id breaks ties.
            runs.append(
                Run(
                    jobName: "p", status: .completed, createdTime: Self.t0.adding(milliseconds: Int64(i / 2)),
                    trigger: .manual))
        }
        runs.append(Run(jobName: "q", status: .pending, createdTime: Self.t0))
        _ = try await db.insertRuns(runs)
        let expected = runs.filter { $0.jobName == "p" }.sorted(by: Run.newestFirst)
        var seen: [Run] = []
        var cursor: RunCursor?
        repeat {
            let page = try await db.runs(matching: RunQuery(jobNames: ["p"]), after: cursor, limit: 3)
            seen += page.items
            cursor = page.next
        } while cursor != nil
        #expect(seen == expected)
        let all = try await db.runs(matching: RunQuery(), after: nil, limit: nil)
        #expect(all.items.count == 8)
        #expect(all.next == nil)
        let strict = try await db.runs(
            matching: RunQuery(createdBefore: Self.t0.adding(milliseconds: 1)), after: nil, limit: nil)
        #expect(Set(strict.items.map(\.id)) == Set(runs.filter { $0.createdTime == Self.t0 }.map(\.id)))
        let pending = try await db.runs(
            matching: RunQuery(statuses: [.pending], trigger: .schedule), after: nil, limit: 10)
        #expect(pending.items.map(\.jobName) == ["q"])
    }

    @Test func deleteFinalRuns() async throws {
        let (db, _) = try await Self.open()
        let old = Run(jobName: "d", status: .completed, createdTime: Self.t0, endTime: Self.t0)
        let oldNoEnd = Run(jobName: "d", status: .skipped, createdTime: Self.t0.adding(milliseconds: 1))
        let recentEnd = Run(
            jobName: "d", status: .failed, createdTime: Self.t0.adding(milliseconds: 2),
            endTime: Self.t0.adding(milliseconds: 10_000))
        let active = Run(jobName: "d", status: .running, createdTime: Self.t0.adding(milliseconds: 3))
        _ = try await db.insertRuns([old, oldNoEnd, recentEnd, active])
        #expect(try await db.deleteFinalRuns(endedBefore: Self.t0.adding(milliseconds: 5_000)) == 2)
        #expect(
            Set(try await db.runs(ids: [old.id, oldNoEnd.id, recentEnd.id, active.id]).map(\.id)) == [
                recentEnd.id, active.id,
            ])
        // The slot of a deleted run is free again.
        #expect(try await db.insertRun(Run(jobName: "d", status: .pending, createdTime: Self.t0)) == .inserted)
    }

    @Test func unreachableServerIsUnavailable() async throws {
        let db = try MongoDatabase(
            connectionString: "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200", databaseName: "x",
            logger: Logger(label: "t"))
        do {
            _ = try await db.job(named: "x")
            Issue.record("expected an error")
        } catch let error as DatabaseError {
            #expect(error.isUnavailable, "\(error)")
        }
    }

    @Test func readsDocumentsOfTheOriginal() async throws {
        let (db, _) = try await Self.open()
        let zeroTime = BSON.date(BSON.zeroTimeMilliseconds)
        let runID = RunID.generate()
        let zeroOwner = try RunID(validating: Manager.zeroID)
        try await db.perform { session throws(DatabaseError) in
            _ = try session.insert(
                "jobs",
                [
                    [
                        "_id": "legacy", "enabled": true, "nextRunAt": .date(Self.t0), "interval": .int32(60_000),
                        "runExecutionTimeout": .int32(0), "runStartTimeout": .int64(5), "heartbeatTimeout": .double(7),
                        "allowConcurrentRuns": false, "maxQueueCount": .int32(3),
                        "managerId": .objectID(zeroOwner.bytes), "heartbeat": zeroTime,
                    ]
                ], ordered: true)
            _ = try session.insert(
                "runs",
                [
                    [
                        "_id": .objectID(runID), "jobName": "legacy", "status": "completed",
                        "createdTime": .date(Self.t0), "startTime": zeroTime, "endTime": zeroTime,
                    ]
                ], ordered: true)
        }
        let job = try #require(try await db.job(named: "legacy"))
        #expect(job.interval == 60_000)
        #expect(job.runStartTimeout == 5)
        #expect(job.heartbeatTimeout == 7)
        #expect(job.maxQueueCount == 3)
        #expect(job.timezone == "UTC")
        #expect(job.cron == nil)
        #expect(job.heartbeat == nil)
        #expect(job.managerId == Manager.zeroID)
        #expect(
            try await db.run(id: runID)
                == Run(id: runID, jobName: "legacy", status: .completed, createdTime: Self.t0))
        #expect(try await db.runs(matching: RunQuery(trigger: .schedule), after: nil, limit: nil).items.count == 1)
        #expect(try await db.runs(matching: RunQuery(startedBefore: Self.t0), after: nil, limit: nil).items.isEmpty)
        // The zero id is unlocked.
        let me = RunID.generate().hex
        try await db.registerManager(id: me, hostname: "h")
        #expect(try await db.claimJobs(for: me, limit: nil, leaseTimeout: 60_000).map(\.name) == ["legacy"])
        // A year-1 end time is unset: the created time decides.
        #expect(try await db.deleteFinalRuns(endedBefore: Self.t0) == 0)
        #expect(try await db.deleteFinalRuns(endedBefore: Self.t0.adding(milliseconds: 1)) == 1)
    }

    @Test func corruptDocumentsThrowInvalidDocument() async throws {
        let (db, _) = try await Self.open()
        let runID = RunID.generate()
        try await db.perform { session throws(DatabaseError) in
            _ = try session.insert(
                "runs", [["_id": .objectID(runID), "jobName": "x", "status": "exploded"]], ordered: true)
        }
        await #expect(throws: DatabaseError.self) { _ = try await db.run(id: runID) }
        do { _ = try await db.run(id: runID) } catch let error as DatabaseError { #expect(error.isInvalidDocument) }
    }
}
