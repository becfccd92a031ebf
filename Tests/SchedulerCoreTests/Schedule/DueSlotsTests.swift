import Testing

@testable import SchedulerCore
import TestSupport

/// Slot arithmetic with explicit instants in place of a clock: `now` is an argument.
@Suite struct DueSlotsTests {
    let minute = 60_000

    private func plan(_ job: Job, now: Timestamp) -> DueSlots {
        DueSlots.plan(
            schedule: job.slotSchedule ?? OneShotSchedule(at: .test()), nextRunAt: job.nextRunAt, now: now,
            catchUpWindow: job.catchUpWindow)
    }

    @Test func nothingIsDueEarly() {
        let job = Job(name: "j", nextRunAt: .test(60), interval: minute)
        let due = plan(job, now: Timestamp.test(60).adding(milliseconds: -1))
        #expect(due.fires.isEmpty)
        #expect(due.nextRunAt == .test(60))
    }

    @Test func onTimeFireMovesToTheNextSlotOnTheGrid() {
        let job = Job(name: "j", nextRunAt: .test(60), interval: minute)
        let due = plan(job, now: Timestamp.test(60).adding(milliseconds: 7))
        #expect(due.fires == [.init(slot: .test(60), missedSlots: 0, fate: .run)])
        #expect(due.nextRunAt == .test(120))
        // Exactly on a slot boundary the next slot is strictly after now.
        #expect(plan(job, now: .test(120)).nextRunAt == .test(180))
    }

    @Test func missedSlotsCollapseIntoOneCatchUpRunWithoutAWindow() {
        let job = Job(name: "j", nextRunAt: .test(0), interval: minute)
        let due = plan(job, now: .test(5 * 60 + 30))  // slots at 0,1,2,3,4,5 minutes
        #expect(due.fires == [.init(slot: .test(0), missedSlots: 5, fate: .run)])
        #expect(due.nextRunAt == .test(6 * 60))
    }

    @Test func slotsOlderThanTheWindowBecomeOneMissedRecord() {
        let job = Job(name: "j", nextRunAt: .test(0), interval: minute, catchUpWindow: 2 * minute + 1)
        // now = 10:30; window start = 8:29.999: slots 9 and 10 are within, 0...8 are not.
        let due = plan(job, now: .test(10 * 60 + 30))
        #expect(
            due.fires == [
                .init(slot: .test(0), missedSlots: 8, fate: .missed),
                .init(slot: .test(9 * 60), missedSlots: 1, fate: .run),
            ])
        #expect(due.nextRunAt == .test(11 * 60))
    }

    @Test func aWindowThatHoldsNoSlotLeavesOnlyTheMissedRecord() {
        let job = Job(name: "j", nextRunAt: .test(0), interval: 10 * minute, catchUpWindow: minute)
        let due = plan(job, now: .test(25 * 60))  // slots 0, 10, 20; window starts at 24:00
        #expect(due.fires == [.init(slot: .test(0), missedSlots: 2, fate: .missed)])
        #expect(due.nextRunAt == .test(30 * 60))
    }

    @Test func oneShotJobsFireOnceThenHaveNoNextRun() {
        let job = Job(name: "j", nextRunAt: .test(10))
        let due = plan(job, now: .test(11))
        #expect(due.fires == [.init(slot: .test(10), missedSlots: 0, fate: .run)])
        #expect(due.nextRunAt == nil)
        #expect(plan(Job(name: "j", nextRunAt: nil), now: .test(11)).fires.isEmpty)
        let late = Job(name: "j", nextRunAt: .test(10), catchUpWindow: 1000)
        #expect(plan(late, now: .test(60)).fires == [.init(slot: .test(10), missedSlots: 0, fate: .missed)])
    }

    @Test(arguments: 0..<200)
    func closedFormAgreesWithStepping(_ seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        let interval = Int.random(in: 1...5000, using: &generator)
        let first = Timestamp(milliseconds: Int64.random(in: 0...1_000_000, using: &generator))
        let through = first.adding(milliseconds: Int64.random(in: -2000...100_000, using: &generator))
        let boundary = first.adding(milliseconds: Int64.random(in: -5000...100_000, using: &generator))
        let schedule = IntervalSchedule(anchor: first, interval: interval)
        let stepped = SteppedSchedule(inner: schedule)
        #expect(
            schedule.countSlots(from: first, through: through, boundary: boundary)
                == stepped.countSlots(from: first, through: through, boundary: boundary))
    }
}

/// The same schedule through the protocol's default, slot-by-slot counting.
private struct SteppedSchedule: SlotSchedule {
    let inner: IntervalSchedule
    func nextSlot(after instant: Timestamp) -> Timestamp? { inner.nextSlot(after: instant) }
}

/// SplitMix64, so a failing seed reproduces.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
