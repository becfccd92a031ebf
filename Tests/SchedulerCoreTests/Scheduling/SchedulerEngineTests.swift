import Foundation
import Logging
import Synchronization
import Testing

@testable import SchedulerCore
import TestSupport

/// The scheduler's behaviour with a manual clock, on the in-memory database and bus.
@Suite("Scheduler engine")
struct SchedulerEngineTests {
    @Test func firesOnTimeNeverEarlyAndMovesAlongTheGrid() async throws {
        let h = EngineHarness()
        try await h.database.createJob(Job(name: "tick", nextRunAt: .test(10), interval: 60_000))
        let worker = try await h.worker("tick")
        try await h.start()
        try await h.advance(to: 9.9)
        #expect(try await h.runs("tick").isEmpty, "fired early")
        try await h.advance(to: 10)
        let action = try await worker.next().action
        let runs = try await h.runs("tick")
        #expect(runs.map(\.createdTime) == [.test(10)])
        #expect(action == ActionMessage(jobName: "tick", runID: runs[0].id, action: .run, attempt: 1))
        try await eventually { try await h.database.run(id: runs[0].id)?.published == true }
        #expect(try await h.database.job(named: "tick")?.nextRunAt == .test(70))
        try await h.stop()
    }

    @Test func aCronJobFiresOnItsInstantsWithTheSameFirePath() async throws {
        let h = EngineHarness()
        // Every 10 s (seconds field); Timestamp.test(0) is 10:00:00 UTC.
        try await h.database.createJob(Job(name: "cron", nextRunAt: .test(10), cron: "*/10 * * * * *", allowConcurrentRuns: true))
        let worker = try await h.worker("cron")
        try await h.start()
        try await h.advance(to: 35)
        let runs = try await h.runs("cron")
        #expect(Set(runs.map(\.createdTime)) == [.test(10), .test(20), .test(30)])
        #expect(runs.allSatisfy { $0.trigger == .schedule && $0.status == .pending })
        for _ in runs { #expect(try await worker.next().action.action == .run) }
        #expect(try await h.database.job(named: "cron")?.nextRunAt == .test(40))
        try await h.stop()
    }

    /// A claim reads at most `claimBatch` jobs at a time but repeats within the same round, and
    /// keeps to SIMPLE_SCHEDULER_MAX_JOBS across its batches.
    @Test func oneClaimRoundTakesEveryClaimableJobInBatchesUpToTheMaximum() async throws {
        let maximum = 2 * SchedulerEngine.claimBatch + 100
        var settings = EngineHarness.settings
        settings.maxJobs = maximum
        let h = EngineHarness(settings: settings)
        for index in 0..<(3 * SchedulerEngine.claimBatch) {
            try await h.database.createJob(Job(name: "j\(index)", nextRunAt: .test(3600), interval: 60_000))
        }
        try await h.start()
        // The clock stands still: only the claim at start-up has run.
        try await eventually { await h.engine.heldJobs.count == maximum }
        let manager = try await h.database.managers()[0].id
        #expect(try await h.database.jobs(lockedBy: manager).count == maximum)
        try await h.advance(to: 5)
        #expect(await h.engine.heldJobs.count == maximum)
        try await h.stop()
    }

    @Test func aOneShotJobFiresOnceAndADisabledJobNever() async throws {
        let h = EngineHarness()
        try await h.database.createJob(Job(name: "once", nextRunAt: .test(1)))
        try await h.database.createJob(Job(name: "off", enabled: false, nextRunAt: .test(1), interval: 1000))
        try await h.start()
        try await h.advance(to: 5)
        #expect(try await h.runs("once").count == 1)
        #expect(try await h.database.job(named: "once")?.nextRunAt == nil)
        #expect(try await h.runs("off").isEmpty)
        try await h.stop()
    }

    @Test func statusesAndHeartbeatsFromWorkersLand() async throws {
        let h = EngineHarness()
        try await h.database.createJob(Job(name: "w", nextRunAt: .test(1)))
        let worker = try await h.worker("w")
        try await h.start()
        try await h.advance(to: 1)
        let id = try await worker.next().action.runID
        try await h.report("w", id, "running")
        try await eventually { try await h.database.run(id: id)?.status == .running }
        try await h.advance(to: 3)
        try await h.heartbeat("w", id)
        try await eventually { try await h.database.run(id: id)?.heartbeat == .test(3) }
        try await h.report("w", id, "completed")
        try await eventually { try await h.database.run(id: id)?.status == .completed }
        let run = try #require(try await h.database.run(id: id))
        #expect(run.startTime == .test(1) && run.endTime == .test(3))
        // Final is final.
        try await h.report("w", id, "failed")
        try await h.advance(to: 4)
        #expect(try await h.database.run(id: id)?.status == .completed)
        try await h.stop()
    }

    @Test func poisonMessagesAreDroppedAndTheQueueFlows() async throws {
        let h = EngineHarness()
        try await h.database.createJob(Job(name: "p", nextRunAt: .test(1)))
        try await h.database.createJob(Job(name: "other", nextRunAt: .test(100)))
        let worker = try await h.worker("p")
        try await h.start()
        try await h.advance(to: 1)
        let id = try await worker.next().action.runID
        let exchange = Topology.exchange("p")
        let bodies = [
            "not json", #"{"jobName":"p","runId":"zz","status":"running"}"#,
            #"{"jobName":"p","runId":"\#(RunID.generate().hex)","status":"running"}"#,
            #"{"jobName":"other","runId":"\#(id.hex)","status":"running"}"#,
            #"{"jobName":"p","runId":"\#(id.hex)","status":"queued"}"#,
            #"{"jobName":"p","runId":"\#(id.hex)","status":"running","attempt":7}"#,
        ]
        _ = try await h.bus.publish(bodies.map { OutgoingMessage(exchange: exchange, routingKey: "status", body: Array($0.utf8)) })
        try await h.report("p", id, "running")
        try await eventually { try await h.database.run(id: id)?.status == .running }
        try await eventually { h.bus.depth(of: Topology.queue("p", "status")) == 0 }
        #expect(try await h.database.run(id: id)?.attempt == 1)
        try await h.stop()
    }

    @Test func concurrencyQueuesThenSkipsThenDispatchesWhenTheActiveRunEnds() async throws {
        let h = EngineHarness()
        try await h.database.createJob(Job(name: "c", nextRunAt: .test(10), interval: 10_000, maxQueueCount: 1))
        let worker = try await h.worker("c")
        try await h.start()
        try await h.advance(to: 10)
        let first = try await worker.next().action.runID
        try await h.report("c", first, "running")
        try await h.advance(to: 20)
        try await h.advance(to: 30)
        try await eventually { try await h.runs("c").count == 3 }
        #expect(try await h.runs("c").map(\.status) == [.running, .queued, .skipped])
        try await h.report("c", first, "completed")
        let second = try await worker.next().action.runID
        let runs = try await h.runs("c")
        #expect(runs[1].id == second)
        #expect(runs.map(\.status) == [.completed, .pending, .skipped])
        try await h.stop()
    }

    @Test func missedSlotsCatchUpOnceAndOlderOnesAreRecordedMissed() async throws {
        let h = EngineHarness()
        // Due since 0 every 10 s; the instance fires at some now in [95 s, 96 s) with a 24.5 s
        // window, so the window starts in [70.5 s, 71.5 s) wherever in that second it fires.
        try await h.database.createJob(
            Job(name: "late", nextRunAt: .test(0), interval: 10_000, allowConcurrentRuns: true, catchUpWindow: 24_500))
        h.clock.advance(to: .test(95))
        try await h.start()
        try await eventually { await h.engine.heldJobs == ["late"] }
        try await h.advance(to: 95.9)
        let runs = try await h.runs("late")
        #expect(runs.count == 2)
        // Slots 0…70 fell outside the window (8 slots), 80 and 90 inside it (2 slots).
        let missed = try #require(runs.first { $0.status == .missed })
        let catchUp = try #require(runs.first { $0.status == .pending })
        #expect(missed.createdTime == .test(0) && missed.missedSlots == 7)
        #expect(catchUp.createdTime == .test(80) && catchUp.missedSlots == 1)
        #expect(try await h.database.job(named: "late")?.nextRunAt == .test(100))
        try await h.stop()
    }

    @Test func heartbeatTimeoutCancelsTheOldAttemptAndRepublishes() async throws {
        let h = EngineHarness()
        try await h.database.createJob(Job(name: "hb", nextRunAt: .test(1), heartbeatTimeout: 5000))
        let worker = try await h.worker("hb")
        try await h.start()
        try await h.advance(to: 1)
        let id = try await worker.next().action.runID
        try await h.report("hb", id, "running")
        try await eventually { try await h.database.run(id: id)?.status == .running }
        try await h.advance(to: 8)
        let cancel = try await worker.next().action
        let again = try await worker.next().action
        #expect(cancel == ActionMessage(jobName: "hb", runID: id, action: .cancel, attempt: 1))
        #expect(again == ActionMessage(jobName: "hb", runID: id, action: .run, attempt: 2))
        let run = try #require(try await h.database.run(id: id))
        #expect(run.status == .pending && run.attempt == 2)
        // The old attempt's late report is stale.
        try await h.report("hb", id, "completed", attempt: 1)
        try await h.advance(to: 9)
        #expect(try await h.database.run(id: id)?.status == .pending)
        try await h.stop()
    }

    @Test func startAndExecutionTimeoutsCancelWithTheJobName() async throws {
        let h = EngineHarness()
        try await h.database.createJob(Job(name: "slow", nextRunAt: .test(1), runExecutionTimeout: 3000, runStartTimeout: 2000))
        let worker = try await h.worker("slow")
        try await h.start()
        try await h.advance(to: 1)
        let first = try await worker.next().action.runID
        // The start timeout (2 s) ends at 3 s when the slot fired on time; the clean-up loop runs
        // every second. Under load the loops lag the manual clock, so this leaves two more turns.
        try await h.advance(to: 6)
        #expect(try await worker.next().action == ActionMessage(jobName: "slow", runID: first, action: .cancel, attempt: 1))
        #expect(try await h.database.run(id: first)?.status == .cancelling)
        try await h.report("slow", first, "cancelled")
        try await eventually { try await h.database.run(id: first)?.status == .cancelled }
        try await h.stop()
    }

    @Test func anAPIEditIsHonouredWithinOneSecond() async throws {
        let h = EngineHarness()
        try await h.database.createJob(Job(name: "e", nextRunAt: .test(3600), interval: 60_000))
        try await h.start()
        try await h.advance(to: 1)
        _ = try await h.database.updateJob(named: "e", JobPatch(nextRunAt: .some(.test(2))))
        try await h.advance(to: 2)
        // A fire loop that went to sleep at 2.0 just before the re-read scheduled the slot wakes
        // at 2.05 (it wakes every 50 ms of the clock): step the clock on while waiting.
        try await eventually {
            if h.clock.now() < .test(3) { h.clock.advance(to: h.clock.now().adding(milliseconds: 10)) }
            return try await h.runs("e").count == 1
        }
        #expect(try await h.runs("e")[0].createdTime == .test(2))
        try await h.stop()
    }

    /// The re-read after an API change goes through the held jobs a page at a time; edits on any
    /// page take effect, and jobs deleted from the first and the last page are dropped.
    @Test func theReReadOfHeldJobsCoversEveryPage() async throws {
        let h = EngineHarness()
        let count = 2 * SchedulerEngine.claimBatch + 500
        for index in 0..<count {
            try await h.database.createJob(Job(name: "p\(index)", nextRunAt: .test(3600), interval: 60_000))
        }
        try await h.start()
        try await eventually { await h.engine.heldJobCount == count }
        let names = (0..<count).map { "p\($0)" }.sorted()
        let (first, last, edited, disabled) = (names[0], names[count - 1], names[count - 2], names[1500])
        #expect(try await h.database.deleteJob(named: first))
        #expect(try await h.database.deleteJob(named: last))
        _ = try await h.database.updateJob(named: edited, JobPatch(nextRunAt: .some(.test(2))))
        _ = try await h.database.updateJob(named: disabled, JobPatch(enabled: false))
        try await h.advance(to: 1)
        try await eventually { await h.engine.heldJobCount == count - 3 }
        let held = Set(await h.engine.heldJobs)
        #expect(!held.contains(first) && !held.contains(last) && !held.contains(disabled))
        #expect(try await h.database.job(named: disabled)?.managerId == nil)
        try await h.advance(to: 2)
        try await eventually { try await h.runs(edited).count == 1 }
        #expect(try await h.runs(edited)[0].createdTime == .test(2))
        try await h.stop()
    }

    /// The change poll and the periodic re-read both sweep the held jobs. A second sweep that
    /// starts while the first reads its last page, and then lags, must not make the first take
    /// the jobs of its earlier pages for jobs the database no longer gives this instance.
    @Test func overlappingReReadsDropNothing() async throws {
        let h = EngineHarness()
        let count = 2 * SchedulerEngine.claimBatch + 500
        for index in 0..<count {
            try await h.database.createJob(Job(name: "o\(index)", nextRunAt: .test(3600), interval: 60_000))
        }
        try await h.start()
        try await eventually { await h.engine.heldJobCount == count }
        let engine = h.engine
        // (began, second sweep's reads) — whichever sweep reads a last page first is the first one.
        let state = Mutex((began: false, reads: 0))
        h.database.afterHeldJobsRead.withLock {
            $0 = { page in
                let (begin, lagging) = state.withLock { state in
                    if state.began {
                        state.reads += 1
                        return (false, true)
                    }
                    state.began = page.count < SchedulerEngine.claimBatch
                    return (state.began, false)
                }
                if begin {
                    // The first sweep's last page: a second sweep begins meanwhile, and lags.
                    Task { await engine.refreshJobs() }
                    try? await Task.sleep(for: .milliseconds(50))
                } else if lagging {
                    try? await Task.sleep(for: .milliseconds(300))
                }
            }
        }
        await engine.refreshJobs()
        #expect(await h.engine.heldJobCount == count)
        try await eventually { state.withLock { $0.reads } >= 3 }  // the second sweep has been read too
        #expect(await h.engine.heldJobCount == count)
        h.database.afterHeldJobsRead.withLock { $0 = nil }
        try await h.stop()
    }

    @Test func manualRunsAndRetriesGoThroughTheQueue() async throws {
        let h = EngineHarness()
        try await h.database.createJob(Job(name: "m", nextRunAt: nil, maxRetries: 1, retryDelay: 2000))
        let worker = try await h.worker("m")
        try await h.start()
        let manual = Run(jobName: "m", status: .queued, createdTime: .test(0), trigger: .manual)
        _ = try await h.database.insertRun(manual)
        try await h.advance(to: 0.5)
        #expect(try await worker.next().action.runID == manual.id)
        try await h.report("m", manual.id, "failed")
        try await eventually { try await h.runs("m").count == 2 }
        let retry = try await h.runs("m")[1]
        #expect(retry.trigger == .retry && retry.retryOf == manual.id && retry.createdTime > .test(0))
        try await h.advance(to: 3)
        #expect(try await worker.next().action.runID == retry.id)
        try await h.report("m", retry.id, "failed")
        try await h.advance(to: 8)
        #expect(try await h.runs("m").count == 2, "maxRetries 1 allows one retry")
        try await h.stop()
    }

    @Test func theOutboxAndTheCleanUpLeaveAnotherInstancesRunsAlone() async throws {
        // Both read every instance's runs and keep those of held jobs.
        let h = EngineHarness()
        try await h.database.createJob(Job(name: "theirs", enabled: true))
        try await h.database.createJob(Job(name: "theirs-silent", enabled: true, heartbeatTimeout: 2000))
        try await h.database.registerManager(id: "other", hostname: "elsewhere")
        #expect(
            try await h.database.claimJobs(for: "other", limit: nil, leaseTimeout: 3_600_000).map(\.name).sorted()
                == ["theirs", "theirs-silent"])
        try await h.database.createJob(Job(name: "mine", enabled: true))
        let mine = try await h.worker("mine")
        let theirs = try await h.worker("theirs")
        let unpublishedMine = Run(jobName: "mine", status: .pending, createdTime: .test(0), statusTime: .test(0))
        let unpublishedTheirs = Run(jobName: "theirs", status: .pending, createdTime: .test(0), statusTime: .test(0))
        let silentTheirs = Run(
            jobName: "theirs-silent", status: .running, createdTime: .test(0), startTime: .test(0), heartbeat: .test(0),
            statusTime: .test(0), published: true)
        for run in [unpublishedMine, unpublishedTheirs, silentTheirs] {
            #expect(try await h.database.insertRun(run) == .inserted)
        }
        try await h.start(otherManagers: 1)
        try await h.advance(to: 6)
        #expect(try await mine.next().action.runID == unpublishedMine.id)
        try await theirs.expectNothing(within: .milliseconds(300))
        #expect(try await h.database.run(id: unpublishedTheirs.id)?.published == false)
        #expect(try await h.database.run(id: silentTheirs.id)?.status == .running, "its holder times it out, not us")
        #expect(await h.engine.heldJobs == ["mine"])
        try await h.stop()
    }

    @Test func anOutboxReadOverlappingAPublishDoesNotPublishTwice() async throws {
        let harness = EngineHarness()
        try await harness.database.createJob(Job(name: "race", enabled: true))
        let worker = try await harness.worker("race")
        let run = Run(jobName: "race", status: .pending, createdTime: .test(0), statusTime: .test(0))
        _ = try await harness.database.insertRun(run)
        // The first outbox read that sees the run returns only after the run was published and
        // marked by another path (the fire path does exactly this during a burst).
        let engine = harness.engine
        let raced = Mutex(false)
        harness.database.afterUnpublishedRead.withLock {
            $0 = { runs in
                guard !runs.isEmpty, !raced.withLock({ $0 }) else { return }
                raced.withLock { $0 = true }
                await engine.publish(runs)
            }
        }
        try await harness.start()
        try await harness.advance(to: 4)
        #expect(raced.withLock { $0 })
        let action = try await worker.next()
        #expect(try action.action.runID == run.id)
        await action.ack()
        try await worker.expectNothing(within: .milliseconds(300))
        #expect(try await harness.database.run(id: run.id)?.published == true)
        try await harness.stop()
    }

    /// A bus whose topology declarations, or consumer cancels, wait until the test opens the
    /// gate (a broker that takes seconds to declare hundreds of topologies after a failover, or
    /// to cancel thousands of consumers at shutdown).
    final class GatedBus: MessageBus {
        let base = InMemoryMessageBus()
        struct State {
            var declaring = false
            var open: Bool
            var declared = 0
            var unsubscribing = false
            var unsubscribesOpen: Bool
        }
        let state: Mutex<State>
        init(gatingDeclarations: Bool = true, gatingUnsubscribes: Bool = false) {
            state = Mutex(State(open: !gatingDeclarations, unsubscribesOpen: !gatingUnsubscribes))
        }
        var isConnected: Bool { true }
        func declareTopology(jobName: String) async throws {
            state.withLock { $0.declaring = true }
            while !state.withLock({ $0.open }) { try? await Task.sleep(for: .milliseconds(10)) }
            try await base.declareTopology(jobName: jobName)
            state.withLock { $0.declared += 1 }
        }
        func publish(_ messages: [OutgoingMessage]) async throws -> [Bool] { try await base.publish(messages) }
        func subscribe(queue: String, prefetch: Int, to sink: DeliverySink) async throws -> Subscription {
            try await base.subscribe(queue: queue, prefetch: prefetch, to: sink)
        }
        func unsubscribe(_ subscription: Subscription) async {
            state.withLock { $0.unsubscribing = true }
            while !state.withLock({ $0.unsubscribesOpen }) { try? await Task.sleep(for: .milliseconds(10)) }
            await base.unsubscribe(subscription)
        }
    }

    /// An engine on a manual clock at 0 and an in-memory database holding `jobs`, over `bus`, running.
    struct Running {
        let clock = ManualClock(.test(0))
        let database: InMemoryDatabase
        let engine: SchedulerEngine
        let task: Task<Void, Error>

        init(_ bus: any MessageBus, jobs: [Job]) async throws {
            let clock = self.clock
            database = InMemoryDatabase(clock: { clock.now() })
            for job in jobs { try await database.createJob(job) }
            var logger = Logger(label: "engine")
            logger.logLevel = .critical
            let engine = SchedulerEngine(
                database: database, bus: bus, clock: clock, settings: EngineHarness.settings, logger: logger)
            self.engine = engine
            task = Task { try await engine.run() }
        }
    }

    @Test func aSlowClaimDoesNotHoldUpTheLease() async throws {
        let bus = GatedBus()
        let running = try await Running(bus, jobs: [Job(name: "slow-topology", nextRunAt: .test(3600), interval: 60_000)])
        let (clock, database, _, task) = (running.clock, running.database, running.engine, running.task)
        try await eventually { bus.state.withLock { $0.declaring } }  // the claim is stuck declaring
        let before = try #require(try await database.managers().first).heartbeat
        while clock.now() < .test(5) {
            clock.advance(to: clock.now().adding(milliseconds: 250))
            try await Task.sleep(for: .milliseconds(5))
        }
        try await eventually { try await database.managers().first!.heartbeat.milliseconds(since: before) >= 4000 }
        bus.state.withLock { $0.open = true }
        task.cancel()
        _ = try? await task.value
    }

    @Test func aShutdownDuringALargeClaimDoesNotDeclareTheRest() async throws {
        let bus = GatedBus()
        let running = try await Running(bus, jobs: (0..<50).map { Job(name: "many-\($0)", nextRunAt: .test(3600), interval: 60_000) })
        let (_, database, _, task) = (running.clock, running.database, running.engine, running.task)
        try await eventually { bus.state.withLock { $0.declaring } }  // the first of 50 declarations
        task.cancel()
        bus.state.withLock { $0.open = true }
        _ = try? await task.value
        // The declarations in flight finish (the claim's, and the clean-up's and the re-read's, which
        // also make sure held jobs are consumed); the other jobs are not declared.
        #expect(bus.state.withLock { $0.declared } <= 3, "the shutdown waited for the claim's other declarations")
        #expect(try await database.managers().isEmpty)
        #expect(try await database.job(named: "many-49")?.managerId == nil)
    }

    @Test func aShutdownLeavesFiresWaitingOnDeclarationsInTheOutbox() async throws {
        let bus = GatedBus()
        let running = try await Running(bus, jobs: (0..<50).map { Job(name: "due-\($0)", nextRunAt: .test(0), interval: 60_000) })
        let (clock, database, _, task) = (running.clock, running.database, running.engine, running.task)
        // Every slot fired and recorded; publishing them (in the background) waits on their topologies.
        try await eventually {
            clock.advance(to: clock.now().adding(milliseconds: 10))
            return try await database.unpublishedRuns(jobNames: nil).count == 50
        }
        task.cancel()
        bus.state.withLock { $0.open = true }
        _ = try? await task.value
        let declared = bus.state.withLock { $0.declared }
        #expect(declared <= 4, "the shutdown waited for the fires' other declarations")
        // Runs whose topology was declared went out; the others wait in the outbox for the next holder.
        #expect(try await database.unpublishedRuns(jobNames: nil).count >= 50 - declared)
        #expect(try await database.managers().isEmpty)
    }

    /// A bus that refuses one job's topology (an exchange someone declared with another type).
    final class RefusingBus: MessageBus {
        let base = InMemoryMessageBus()
        let refused: String
        init(refusing name: String) { refused = name }
        var isConnected: Bool { true }
        func declareTopology(jobName: String) async throws {
            guard jobName != refused else { throw MessageBusError.refused("inequivalent arg 'type'") }
            try await base.declareTopology(jobName: jobName)
        }
        func publish(_ messages: [OutgoingMessage]) async throws -> [Bool] { try await base.publish(messages) }
        func subscribe(queue: String, prefetch: Int, to sink: DeliverySink) async throws -> Subscription {
            try await base.subscribe(queue: queue, prefetch: prefetch, to: sink)
        }
        func unsubscribe(_ subscription: Subscription) async { await base.unsubscribe(subscription) }
    }

    @Test func aRefusedTopologyHoldsBackOnlyItsOwnRuns() async throws {
        let bus = RefusingBus(refusing: "refused")
        let running = try await Running(bus, jobs: ["good-1", "refused", "good-2"].map { Job(name: $0, nextRunAt: .test(1), interval: 60_000) })
        let (clock, database, engine, task) = (running.clock, running.database, running.engine, running.task)
        try await eventually { await engine.heldJobCount == 3 }
        try await eventually {
            if clock.now() < .test(3) { clock.advance(to: clock.now().adding(milliseconds: 10)) }
            let published = try await database.runs(matching: RunQuery(), after: nil, limit: nil).items.filter(\.published)
            return Set(published.map(\.jobName)) == ["good-1", "good-2"]
        }
        let runs = try await database.runs(matching: RunQuery(), after: nil, limit: nil).items
        #expect(runs.filter { $0.jobName == "refused" }.allSatisfy { !$0.published }, "\(runs)")
        #expect(try await database.unpublishedRuns(jobNames: nil).map(\.jobName) == ["refused"], "\(runs)")
        task.cancel()
        _ = try? await task.value
    }

    @Test func shutdownReleasesTheLocksBeforeLettingGoOfTheQueues() async throws {
        let bus = GatedBus(gatingDeclarations: false, gatingUnsubscribes: true)
        let running = try await Running(bus, jobs: ["q1", "q2"].map { Job(name: $0, nextRunAt: .test(3600), interval: 60_000) })
        let (_, database, engine, task) = (running.clock, running.database, running.engine, running.task)
        try await eventually { await engine.consumedJobCount == 2 }
        task.cancel()
        // Cancelling consumers is stuck: the jobs are claimable all the same.
        try await eventually { bus.state.withLock { $0.unsubscribing } }
        try await eventually {
            let holders = [try await database.job(named: "q1")?.managerId, try await database.job(named: "q2")?.managerId]
            let managers = try await database.managers()
            return holders == [nil, nil] && managers.isEmpty
        }
        #expect(await engine.consumedJobCount > 0, "the gate let a cancel through")
        bus.state.withLock { $0.unsubscribesOpen = true }
        _ = try? await task.value
        #expect(await engine.consumedJobCount == 0)
    }

    @Test func shutdownReleasesEveryLock() async throws {
        let h = EngineHarness()
        for name in ["r1", "r2"] { try await h.database.createJob(Job(name: name, nextRunAt: .test(3600), interval: 1000)) }
        try await h.start()
        try await eventually { await h.engine.heldJobs.count == 2 }
        try await h.stop()
        #expect(try await h.database.job(named: "r1")?.managerId == nil)
        #expect(try await h.database.managers().isEmpty)
    }
}
