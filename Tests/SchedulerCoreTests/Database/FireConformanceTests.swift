import Foundation
import Testing

@testable import SchedulerCore
import TestSupport

/// The fenced fire, the publish outbox and the jobs change marker, on every adapter.
@Suite("Database conformance: firing")
struct FireConformanceTests {
    private func setUp(_ adapter: Adapter) async throws -> (TestStore, String) {
        let store = try await TestStore.make(adapter)
        let manager = RunID.generate().hex
        try await store.database.registerManager(id: manager, hostname: "test")
        for name in ["a", "b"] {
            try await store.database.createJob(Job(name: name, nextRunAt: .test(0), interval: 60_000))
        }
        _ = try await store.database.claimJobs(for: manager, limit: nil, leaseTimeout: 60_000)
        return (store, manager)
    }

    @Test(arguments: Adapter.allCases)
    func aFireMovesNextRunAtAndInsertsItsRunsTogether(_ adapter: Adapter) async throws {
        let (store, manager) = try await setUp(adapter)
        let db = store.database
        let run = Run(jobName: "a", status: .pending, createdTime: .test(0))
        let skipped = Run(jobName: "b", status: .skipped, createdTime: .test(0), endTime: .test(1))
        let outcomes = try await db.recordFires(
            [
                SlotFire(jobName: "a", expectedNextRunAt: .test(0), nextRunAt: .test(60), runs: [run]),
                SlotFire(jobName: "b", expectedNextRunAt: .test(0), nextRunAt: .test(60), runs: [skipped]),
            ], manager: manager, leaseTimeout: 60_000)
        #expect(outcomes == [.recorded([.inserted]), .recorded([.inserted])])
        #expect(try await db.job(named: "a")?.nextRunAt == .test(60))
        #expect(try await db.run(id: run.id) == run)
        #expect(try await db.run(id: skipped.id) == skipped)

        // The same plan again (a retry after a lost reply): nextRunAt moved, so it is refused.
        let again = try await db.recordFires(
            [SlotFire(jobName: "a", expectedNextRunAt: .test(0), nextRunAt: .test(60), runs: [run])],
            manager: manager, leaseTimeout: 60_000)
        #expect(again == [.changed])
        // A slot recorded twice under a fresh plan keeps its first fate.
        let duplicate = Run(jobName: "a", status: .pending, createdTime: .test(60))
        let first = try await db.recordFires(
            [SlotFire(jobName: "a", expectedNextRunAt: .test(60), nextRunAt: .test(120), runs: [duplicate])],
            manager: manager, leaseTimeout: 60_000)
        #expect(first == [.recorded([.inserted])])
        #expect(try await db.insertRuns([duplicate, Run(jobName: "a", status: .pending, createdTime: .test(60))])
            == [.duplicateSlot, .duplicateSlot])
    }

    @Test(arguments: Adapter.allCases)
    func fencesRefuseLostLocksStaleLeasesAndEdits(_ adapter: Adapter) async throws {
        let (store, manager) = try await setUp(adapter)
        let db = store.database
        func fire(_ job: String = "a", expected: Timestamp? = .test(0)) -> SlotFire {
            SlotFire(jobName: job, expectedNextRunAt: expected, nextRunAt: .test(60),
                runs: [Run(jobName: job, status: .pending, createdTime: .test(0))])
        }
        let other = RunID.generate().hex
        #expect(try await db.recordFires([fire()], manager: other, leaseTimeout: 60_000) == [.lockLost])
        #expect(try await db.recordFires([fire("missing")], manager: manager, leaseTimeout: 60_000) == [.lockLost])

        _ = try await db.updateJob(named: "b", JobPatch(enabled: false))
        #expect(try await db.recordFires([fire("b")], manager: manager, leaseTimeout: 60_000) == [.changed])
        #expect(try await db.recordFires([fire(expected: .test(5))], manager: manager, leaseTimeout: 60_000)
            == [.changed])

        // A lease older than the timeout fences every fire, though the lock field still names us.
        try await Task.sleep(for: .milliseconds(150))
        #expect(try await db.recordFires([fire()], manager: manager, leaseTimeout: 50) == [.lockLost])
        #expect(try await db.job(named: "a")?.nextRunAt == .test(0))
        #expect(try await db.runs(matching: RunQuery(), after: nil, limit: nil).items.isEmpty)

        _ = try await db.releaseJobs(of: manager, names: ["a"])
        #expect(try await db.recordFires([fire()], manager: manager, leaseTimeout: 60_000) == [.lockLost])
    }

    @Test(arguments: Adapter.allCases)
    func theOutboxHoldsActionsUntilConfirmed(_ adapter: Adapter) async throws {
        let db = try await TestStore.make(adapter).database
        let pending = Run(jobName: "a", status: .pending, createdTime: .test(0))
        let queued = Run(jobName: "a", status: .queued, createdTime: .test(1))
        let running = Run(jobName: "b", status: .running, createdTime: .test(2), attempt: 1, published: true)
        _ = try await db.insertRuns([pending, queued, running])
        #expect(try await db.unpublishedRuns(jobNames: nil).map(\.id) == [pending.id])
        #expect(try await db.unpublishedRuns(jobNames: ["b"]).isEmpty)

        // A confirm for another attempt or status does not count.
        try await db.markPublished([PublishedAction(id: pending.id, status: .pending, attempt: 2)])
        #expect(try await db.unpublishedRuns(jobNames: ["a"]).map(\.id) == [pending.id])
        try await db.markPublished([PublishedAction(id: pending.id, status: .pending, attempt: 1)])
        #expect(try await db.unpublishedRuns(jobNames: nil).isEmpty)
        #expect(try await db.run(id: pending.id)?.published == true)

        // Entering pending or cancelling calls for a new action: back in the outbox.
        #expect(try await db.applyTransition(.init(id: queued.id, from: .queued, to: .pending, at: .test(3))) == .applied)
        #expect(try await db.applyTransition(.init(id: running.id, from: .running, to: .cancelling, at: .test(3)))
            == .applied)
        #expect(Set(try await db.unpublishedRuns(jobNames: nil).map(\.id)) == [queued.id, running.id])
        // A heartbeat does not.
        let started = RunTransition(id: pending.id, from: .pending, to: .running, at: .test(4))
        #expect(try await db.applyTransition(started) == .applied)
        #expect(try await db.applyTransition(.heartbeat(pending.id, attempt: 1, at: .test(5))) == .applied)
        #expect(try await db.run(id: pending.id)?.published == true)
    }

    @Test(arguments: Adapter.allCases)
    func everyJobEditMovesTheChangeMarker(_ adapter: Adapter) async throws {
        let db = try await TestStore.make(adapter).database
        var seen = try await db.jobsChangeMarker()
        func moved() async throws -> Bool {
            let now = try await db.jobsChangeMarker()
            defer { seen = now }
            return now != seen
        }
        try await db.createJob(Job(name: "m", nextRunAt: .test()))
        #expect(try await moved())
        _ = try await db.updateJob(named: "m", JobPatch(enabled: false))
        #expect(try await moved())
        #expect(try await moved() == false)
        #expect(try await db.deleteJob(named: "m"))
        #expect(try await moved())
        #expect(try await db.deleteJob(named: "m") == false)
        #expect(try await moved() == false)
    }
}
