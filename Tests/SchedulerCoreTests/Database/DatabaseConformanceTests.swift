import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

/// One suite, every adapter: the same storage semantics from in-memory, SQLite and MongoDB.
@Suite("Database conformance")
struct DatabaseConformanceTests {
    private func job(_ name: String = "job-\(UUID().uuidString.prefix(8))", enabled: Bool = true) -> Job {
        Job(name: name, enabled: enabled, nextRunAt: .test(), interval: 60_000, maxQueueCount: 2)
    }

    @Test(arguments: Adapter.allCases)
    func jobCRUD(_ adapter: Adapter) async throws {
        let db = try await TestStore.make(adapter).database
        var original = job("alpha")
        original.cron = "*/5 * * * *"
        original.interval = 0
        original.timezone = "Europe/Berlin"
        original.managerId = "aaaaaaaaaaaaaaaaaaaaaaaa"  // a client cannot lock a job by creating it
        try await db.createJob(original)
        var expected = original
        expected.managerId = nil
        #expect(try await db.job(named: "alpha") == expected)
        #expect(try await db.job(named: "missing") == nil)

        await #expect {
            try await db.createJob(original)
        } throws: { ($0 as? DatabaseError)?.isJobExists == true }

        let patched = try await db.updateJob(
            named: "alpha", JobPatch(enabled: false, nextRunAt: .some(nil), interval: 5000, cron: .some(nil)))
        expected.enabled = false
        expected.nextRunAt = nil
        expected.cron = nil
        expected.interval = 5000
        #expect(patched == expected)
        #expect(try await db.job(named: "alpha") == expected)
        #expect(try await db.updateJob(named: "missing", JobPatch(enabled: true)) == nil)

        #expect(try await db.deleteJob(named: "alpha"))
        #expect(try await db.deleteJob(named: "alpha") == false)
        #expect(try await db.job(named: "alpha") == nil)
    }

    @Test(arguments: Adapter.allCases)
    func jobPagesAreOrderedByName(_ adapter: Adapter) async throws {
        let db = try await TestStore.make(adapter).database
        let names = (0..<7).map { "job-\($0)" }.shuffled()
        for name in names { try await db.createJob(job(name)) }
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await db.jobs(after: cursor, limit: 3)
            seen += page.items.map(\.name)
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 10
        #expect(seen == names.sorted())
        #expect(pages == 3)
    }

    @Test(arguments: Adapter.allCases)
    func concurrentClaimersShareJobsExactlyOnce(_ adapter: Adapter) async throws {
        let store = try await TestStore.make(adapter)
        for index in 0..<100 { try await store.database.createJob(job(String(format: "claim-%03d", index))) }
        try await store.database.createJob(job("disabled", enabled: false))
        let managers = (0..<8).map { _ in RunID.generate().hex }
        var handles: [any Database] = []
        for manager in managers {
            let handle = try await store.openAnother()
            try await handle.registerManager(id: manager, hostname: "test")
            handles.append(handle)
        }
        let claims = try await withThrowingTaskGroup(of: (String, [Job]).self) { group in
            for (manager, handle) in zip(managers, handles) {
                group.addTask { (manager, try await handle.claimJobs(for: manager, limit: 20, leaseTimeout: 60_000)) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        let all = claims.values.flatMap { $0 }
        #expect(all.count == 100)
        #expect(Set(all.map(\.name)).count == 100, "a job was claimed twice")
        #expect(!all.contains { $0.name == "disabled" })
        for (manager, jobs) in claims {
            #expect(jobs.count <= 20)
            #expect(jobs.allSatisfy { $0.managerId == manager && $0.heartbeat != nil })
            #expect(Set(try await store.database.jobs(lockedBy: manager).map(\.name)) == Set(jobs.map(\.name)))
        }
        #expect(try await handles[0].claimJobs(for: managers[0], limit: nil, leaseTimeout: 60_000).isEmpty)
    }

    @Test(arguments: Adapter.allCases)
    func expiredGoneAndZeroLocksAreClaimableLiveOnesAreNot(_ adapter: Adapter) async throws {
        let store = try await TestStore.make(adapter)
        let db = store.database
        let (a, b) = (RunID.generate().hex, RunID.generate().hex)
        try await db.createJob(job("held"))
        try await db.registerManager(id: a, hostname: "a")
        try await db.registerManager(id: b, hostname: "b")
        #expect(try await db.claimJobs(for: a, limit: nil, leaseTimeout: 60_000).map(\.name) == ["held"])

        // A live manager's lock holds.
        #expect(try await db.claimJobs(for: b, limit: nil, leaseTimeout: 60_000).isEmpty)

        // Silent for longer than the lease: claimable.
        try await Task.sleep(for: .milliseconds(120))
        #expect(try await db.renewManager(id: b))
        #expect(try await db.claimJobs(for: b, limit: nil, leaseTimeout: 60).map(\.name) == ["held"])
        #expect(try await db.job(named: "held")?.managerId == b)

        // Manager document gone: claimable.
        try await db.removeManager(id: b)
        #expect(try await db.renewManager(id: b) == false)
        #expect(try await db.renewManager(id: a))
        #expect(try await db.claimJobs(for: a, limit: nil, leaseTimeout: 60_000).map(\.name) == ["held"])

        // Release: claimable at once.
        try await db.registerManager(id: b, hostname: "b")
        #expect(try await db.releaseJobs(of: a, names: nil) == 1)
        #expect(try await db.job(named: "held")?.managerId == nil)
        #expect(try await db.claimJobs(for: b, limit: nil, leaseTimeout: 60_000).map(\.name) == ["held"])

        // The zero id the original wrote on shutdown counts as unlocked.
        try await store.overwriteLock("held", Manager.zeroID)
        #expect(try await db.claimJobs(for: a, limit: nil, leaseTimeout: 60_000).map(\.name) == ["held"])
    }

    @Test(arguments: Adapter.allCases)
    func heldJobsArePagedByNameAndOnlyTheHolders(_ adapter: Adapter) async throws {
        let db = try await TestStore.make(adapter).database
        let (holder, other) = (RunID.generate().hex, RunID.generate().hex)
        let names = (0..<7).map { "held-\($0)" } + ["theirs"]
        for name in names.shuffled() { try await db.createJob(job(name)) }
        try await db.registerManager(id: holder, hostname: "holder")
        try await db.registerManager(id: other, hostname: "other")
        let theirs = try await db.claimJobs(for: other, limit: 1, leaseTimeout: 60_000).map(\.name)
        #expect(theirs.count == 1)
        #expect(try await db.claimJobs(for: holder, limit: nil, leaseTimeout: 60_000).count == 7)
        let held = names.filter { !theirs.contains($0) }.sorted()
        var pages: [[String]] = []
        var after: String?
        repeat {
            let page = try await db.jobs(lockedBy: holder, after: after, limit: 3).map(\.name)
            pages.append(page)
            after = page.last
        } while pages.last!.count == 3 && pages.count < 10
        #expect(pages == [Array(held[0..<3]), Array(held[3..<6]), [held[6]]])
        #expect(try await db.jobs(lockedBy: holder, after: held[4], limit: 100).map(\.name) == Array(held[5...]))
        #expect(try await db.jobs(lockedBy: holder, after: nil, limit: 0).isEmpty)
        #expect(try await db.jobs(lockedBy: other, after: nil, limit: 100).map(\.name) == theirs)
        #expect(try await db.jobs(lockedBy: holder).count == 7)
    }

    @Test(arguments: Adapter.allCases)
    func releaseByNameAndCustodianSweeps(_ adapter: Adapter) async throws {
        let db = try await TestStore.make(adapter).database
        let (live, dead) = (RunID.generate().hex, RunID.generate().hex)
        for name in ["j1", "j2", "j3", "j4"] { try await db.createJob(job(name)) }
        try await db.registerManager(id: dead, hostname: "dead")
        #expect(try await db.claimJobs(for: dead, limit: 2, leaseTimeout: 60_000).count == 2)
        // Margins of seconds, not 100 ms: `live` must stay live through the dozen round
        // trips below, which take ~1 s on SecantusDB (a Python server) while the other
        // tests run in parallel.
        try await Task.sleep(for: .milliseconds(2_500))
        try await db.registerManager(id: live, hostname: "live")
        #expect(try await db.claimJobs(for: live, limit: 2, leaseTimeout: 60_000).count == 2)
        #expect(try await db.releaseJobs(of: live, names: ["j3", "j1"]) == 1)  // j1 is not live's

        // `live` renews just before each sweep, as a running instance does, so a slow machine
        // cannot age it past the timeout between the calls above and the sweep.
        #expect(try await db.renewManager(id: live))
        #expect(try await db.releaseJobsOfDeadManagers(leaseTimeout: 2_000) == 2)
        #expect(try await db.jobs(lockedBy: dead).isEmpty)
        #expect(try await db.jobs(lockedBy: live).map(\.name) == ["j4"])
        #expect(try await db.renewManager(id: live))
        #expect(try await db.deleteManagers(silentFor: 2_000) == 1)
        #expect(try await db.managers().map(\.id) == [live])
    }

    @Test(arguments: Adapter.allCases)
    func aSlotHasOneFateWhileManualRunsNeverCollide(_ adapter: Adapter) async throws {
        let db = try await TestStore.make(adapter).database
        let slot = Timestamp.test()
        let first = Run(jobName: "j", status: .pending, createdTime: slot)
        let again = Run(jobName: "j", status: .pending, createdTime: slot)
        let skipped = Run(jobName: "j", status: .skipped, createdTime: slot, endTime: slot)
        let manual = Run(jobName: "j", status: .queued, createdTime: slot, trigger: .manual)
        let retry = Run(jobName: "j", status: .pending, createdTime: slot, trigger: .retry, retryOf: first.id)
        let otherJob = Run(jobName: "k", status: .pending, createdTime: slot)
        let outcomes = try await db.insertRuns([first, again, skipped, manual, retry, otherJob])
        #expect(outcomes == [.inserted, .duplicateSlot, .duplicateSlot, .inserted, .inserted, .inserted])
        #expect(try await db.insertRun(again) == .duplicateSlot)
        #expect(try await db.run(id: first.id) == first)
        #expect(try await db.run(id: again.id) == nil)
        #expect(try await db.run(id: retry.id) == retry)
        #expect(Set(try await db.runs(ids: [first.id, manual.id, again.id]).map(\.id)) == [first.id, manual.id])
    }

    @Test(arguments: Adapter.allCases)
    func batchInsertOfAHundredRunsIsOneRoundTrip(_ adapter: Adapter) async throws {
        let db = try await TestStore.make(adapter).database
        let runs = (0..<100).map { Run(jobName: "batch", status: .pending, createdTime: .test(Int64($0))) }
        let before = db.statistics.roundTrips
        let outcomes = try await db.insertRuns(runs)
        let roundTrips = db.statistics.roundTrips - before
        print("[conformance] \(adapter.rawValue): batch insert of 100 runs took \(roundTrips) round trip(s)")
        #expect(outcomes.allSatisfy { $0 == .inserted })
        #expect(roundTrips == 1)
    }

    @Test(arguments: Adapter.allCases)
    func transitionsAreCompareAndSet(_ adapter: Adapter) async throws {
        let db = try await TestStore.make(adapter).database
        var run = Run(jobName: "j", status: .pending, createdTime: .test(), statusTime: .test())
        let done = Run(jobName: "j", status: .completed, createdTime: .test(1), endTime: .test(5))
        _ = try await db.insertRuns([run, done])

        let start = RunTransition(id: run.id, from: .pending, attempt: 1, to: .running, at: .test(10))
        let stale = RunTransition(id: run.id, from: .pending, to: .failed, at: .test(11))
        let wrongAttempt = RunTransition.heartbeat(run.id, attempt: 2, at: .test(12))
        let beat = RunTransition.heartbeat(run.id, attempt: 1, at: .test(20))
        let lateBeat = RunTransition.heartbeat(run.id, attempt: nil, at: .test(15))
        let illegal = RunTransition(id: done.id, from: .completed, to: .running, at: .test(13))
        let missing = RunTransition(id: .generate(), from: .pending, to: .running, at: .test(14))
        let outcomes = try await db.applyTransitions([start, stale, wrongAttempt, beat, lateBeat, illegal, missing])
        #expect(outcomes == [.applied, .conflict, .conflict, .applied, .applied, .illegal, .notFound])

        run.status = .running
        run.startTime = .test(10)
        run.heartbeat = .test(20)  // the late heartbeat did not move it back
        run.statusTime = .test(10)
        #expect(try await db.run(id: run.id) == run)
        #expect(try await db.run(id: done.id) == done)

        // Heartbeat reset: back to pending as the next attempt; the old attempt's messages are stale.
        #expect(try await db.applyTransition(.init(id: run.id, from: .running, attempt: 1, to: .pending, at: .test(30)))
            == .applied)
        #expect(try await db.applyTransition(.heartbeat(run.id, attempt: 1, at: .test(31))) == .conflict)
        #expect(try await db.applyTransition(.init(id: run.id, from: .pending, attempt: 2, to: .completed, at: .test(40)))
            == .applied)
        let final = try #require(try await db.run(id: run.id))
        #expect(final.status == .completed)
        #expect(final.attempt == 2)
        #expect(final.startTime == nil)
        #expect(final.heartbeat == nil)
        #expect(final.endTime == .test(40))
        #expect(final.statusTime == .test(40))
        // Final is final.
        for status in RunStatus.allCases {
            #expect(try await db.applyTransition(.init(id: run.id, from: .completed, to: status, at: .test(50)))
                == .illegal)
        }
    }

    @Test(arguments: Adapter.allCases)
    func runFiltersAndNewestFirstPages(_ adapter: Adapter) async throws {
        let db = try await TestStore.make(adapter).database
        var runs: [Run] = []
        for index in 0..<25 {
            runs.append(
                Run(
                    jobName: index % 2 == 0 ? "even" : "odd", status: index % 5 == 0 ? .completed : .pending,
                    createdTime: .test(Int64(index / 2)), startTime: index % 3 == 0 ? .test(Int64(index)) : nil,
                    heartbeat: index % 4 == 0 ? .test(Int64(index)) : nil,
                    trigger: index % 7 == 0 ? .manual : .schedule))
        }
        _ = try await db.insertRuns(runs)
        let newestFirst = runs.sorted(by: Run.newestFirst)

        let queries: [RunQuery] = [
            RunQuery(), RunQuery(jobNames: ["even"]), RunQuery(statuses: [.completed]), RunQuery(trigger: .manual),
            RunQuery(createdBefore: .test(5)), RunQuery(startedBefore: .test(12)),
            RunQuery(heartbeatBefore: .test(16)), RunQuery(jobNames: ["odd"], statuses: [.pending, .running]),
        ]
        for query in queries {
            let all = try await db.runs(matching: query, after: nil, limit: nil)
            #expect(all.items == newestFirst.filter(query.matches), "query \(query)")
            #expect(all.next == nil)
        }

        // Pages stay stable while newer runs arrive between them.
        var seen: [Run] = []
        var cursor: RunCursor?
        repeat {
            let page = try await db.runs(matching: RunQuery(), after: cursor, limit: 10)
            seen += page.items
            cursor = page.next
            _ = try await db.insertRun(Run(jobName: "late", status: .pending, createdTime: .test(1000 + Int64(seen.count))))
        } while cursor != nil
        #expect(seen == newestFirst)
    }

    @Test(arguments: Adapter.allCases)
    func deletesOnlyOldFinalRuns(_ adapter: Adapter) async throws {
        let db = try await TestStore.make(adapter).database
        let oldDone = Run(jobName: "j", status: .completed, createdTime: .test(0), endTime: .test(10))
        let oldMissed = Run(jobName: "j", status: .missed, createdTime: .test(1))
        let newDone = Run(jobName: "j", status: .failed, createdTime: .test(2), endTime: .test(200))
        let oldActive = Run(jobName: "j", status: .running, createdTime: .test(3))
        _ = try await db.insertRuns([oldDone, oldMissed, newDone, oldActive])
        #expect(try await db.deleteFinalRuns(endedBefore: .test(100)) == 2)
        let left = try await db.runs(matching: RunQuery(), after: nil, limit: nil).items.map(\.id)
        #expect(Set(left) == [newDone.id, oldActive.id])
    }

    @Test func malformedRunIDsAreATypedError() throws {
        for text in ["", "xyz", "6799b53b33fcc6482f29c96", "6799b53b33fcc6482f29c96g", "6799b53b33fcc6482f29c96f0"] {
            #expect(throws: DatabaseError.self) { try RunID(validating: text) }
            #expect((try? RunID(validating: text)) == nil)
            do { _ = try RunID(validating: text) } catch { #expect(error.isMalformedRunID) }
        }
        #expect(try RunID(validating: "6799B53B33FCC6482F29C96F").hex == "6799b53b33fcc6482f29c96f")
    }
}
