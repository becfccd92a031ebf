import Testing

@testable import SchedulerCore

@Suite("Job table")
struct JobTableTests {
    @Test func dueTimesComeOutInOrderAcrossAHundredThousandJobs() {
        var table = JobTable(managerID: "m")
        for index in 0..<100_000 {
            table["job-\(index)"] = Job(name: "job-\(index)", nextRunAt: .now, interval: 1000)
            table.schedule("job-\(index)", at: Timestamp(milliseconds: Int64(index % 1000)))
        }
        for index in stride(from: 0, to: 100_000, by: 2) {
            table.schedule("job-\(index)", at: Timestamp(milliseconds: 5000))
        }
        #expect(table.heldCount == 100_000)
        let due = table.popDue(Timestamp(milliseconds: 999))
        #expect(due.count == 50_000)
        #expect(due.allSatisfy { Int($0.dropFirst(4))! % 2 == 1 })
        #expect(table.nextDue() == Timestamp(milliseconds: 5000))
        #expect(table.popDue(Timestamp(milliseconds: 4999)).isEmpty)
        #expect(table.popDue(Timestamp(milliseconds: 5000)).count == 50_000)
        #expect(table.nextDue() == nil)
    }

    @Test func aSweepListsTheHeldJobsNotHeldAgainSinceItBegan() {
        var table = JobTable(managerID: "m")
        for name in ["a", "b", "c", "d"] { table[name] = Job(name: name, interval: 1000) }
        #expect(table.unseenHeldNames.isEmpty)
        table.beginSweep()
        #expect(table.unseenHeldNames.sorted() == ["a", "b", "c", "d"])
        table["b"] = Job(name: "b", interval: 2000)
        table["e"] = Job(name: "e", interval: 1000)  // newly held during the sweep: seen
        table["c"] = nil  // dropped: no longer held, so not listed
        #expect(table.unseenHeldNames.sorted() == ["a", "d"])
        table.beginSweep()
        #expect(table.unseenHeldNames.sorted() == ["a", "b", "d", "e"])
    }

    @Test func aHeldJobReadsBackAsItWasStoredWithThisHolder() {
        var table = JobTable(managerID: "me")
        let cron = Job(
            name: "c", enabled: false, nextRunAt: Timestamp(milliseconds: 42), cron: "*/5 * * * *",
            timezone: "Europe/Berlin", runExecutionTimeout: 1, runStartTimeout: 2, heartbeatTimeout: 3,
            allowConcurrentRuns: true, maxQueueCount: 4, catchUpWindow: Job.maximumDuration, maxRetries: 1_000_000,
            retryDelay: 7, managerId: "someone's copy")
        let interval = Job(name: "i", interval: 60_000)
        table["c"] = cron
        table["i"] = interval
        var expected = cron
        expected.managerId = "me"
        #expect(table["c"] == expected)
        expected = interval
        expected.managerId = "me"
        #expect(table["i"] == expected)
        #expect(table.setNextRunAt(Timestamp(milliseconds: 99), of: "i")?.nextRunAt == Timestamp(milliseconds: 99))
        #expect(table.setNextRunAt(nil, of: "i")?.nextRunAt == nil)
        #expect(table.setNextRunAt(nil, of: "unknown") == nil)
    }

    @Test func droppingAJobUnschedulesItAndFreesItsRecordOnceItsQueuesAreLetGo() {
        var table = JobTable(managerID: "m")
        table["a"] = Job(name: "a", interval: 1000)
        table.schedule("a", at: Timestamp(milliseconds: 10))
        table.setSubscriptions((status: 3, heartbeat: 4), of: "a")
        table.setSubscriptions((status: 1, heartbeat: 2), of: "a")
        table.setDeclared("a")
        #expect(table.subscribedCount == 1)
        table["a"] = nil
        #expect(!table.isHeld("a") && table.isEmpty)
        #expect(table.heldCount == 0 && table.subscribedCount == 1)
        #expect(table.popDue(Timestamp(milliseconds: 100)).isEmpty, "a dropped job still fired")
        #expect(
            table.subscriptions(of: "a")! == (status: 1, heartbeat: 2), "its queues are consumed until its runs end")
        #expect(table.isDeclared("a"))
        table.setSubscriptions(nil, of: "a")
        #expect(table.subscribedNames.isEmpty && table.subscribedCount == 0 && !table.isDeclared("a"))
        // The freed slot's stale heap entry does not fire the job that reuses the slot early.
        table["b"] = Job(name: "b", interval: 1000)
        table.schedule("b", at: Timestamp(milliseconds: 50))
        #expect(table.popDue(Timestamp(milliseconds: 49)).isEmpty)
        #expect(table.popDue(Timestamp(milliseconds: 50)) == ["b"])
        table.schedule("b", at: Timestamp(milliseconds: 10))
        table["c"] = Job(name: "c", interval: 1000)
        table.schedule("c", at: Timestamp(milliseconds: 10))
        #expect(table.popDue(Timestamp(milliseconds: 10)).sorted() == ["b", "c"], "each due job once")
    }

    /// The name index against a `Set` through random holds and drops: every held name is found,
    /// every dropped one is not (probe runs survive deletions and growth).
    @Test func namesAreFoundThroughRandomHoldsAndDropsAsInASet() {
        var table = JobTable(managerID: "m")
        var model = Set<String>()
        var generator = SystemRandomNumberGenerator()
        for step in 0..<60_000 {
            let name = "j\(Int.random(in: 0..<5_000, using: &generator))"
            if model.contains(name) && step % 3 != 0 {
                table[name] = nil
                model.remove(name)
            } else {
                table[name] = Job(name: name, interval: 1000)
                model.insert(name)
            }
            if step % 10_000 == 0 {
                #expect((0..<5_000).allSatisfy { table.isHeld("j\($0)") == model.contains("j\($0)") })
            }
        }
        #expect(table.heldCount == model.count)
        #expect(Set(table.heldNames) == model)
        #expect((0..<5_000).allSatisfy { table.isHeld("j\($0)") == model.contains("j\($0)") })
        for name in model { table[name] = nil }
        #expect(table.isEmpty && table.heldNames.isEmpty && !table.isHeld("j1"))
    }

    @Test func onlyKnownJobsAreScheduledOrDeclared() {
        var table = JobTable(managerID: "m")
        table.schedule("ghost", at: Timestamp(milliseconds: 1))
        table.setDeclared("ghost")
        #expect(table.nextDue() == nil && !table.isDeclared("ghost"))
    }
}
