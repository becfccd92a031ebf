import Testing

@testable import SchedulerCore

@Suite("Topology names")
struct TopologyTests {
    @Test func aQueueNameGivesBackItsJobAndKey() {
        for job in ["a", "nightly-report", "with.dots.in.it"] {
            for key in Topology.keys {
                let parsed = Topology.parseQueue(Topology.queue(job, key))
                #expect(parsed?.jobName == job && parsed?.key == key)
            }
        }
    }

    @Test(arguments: ["", "scheduler.job.", "scheduler.job..status", "scheduler.job.a.other", "other.job.a.status", "scheduler.job.status"])
    func otherNamesAreNotJobQueues(_ name: String) {
        #expect(Topology.parseQueue(name) == nil)
    }
}
