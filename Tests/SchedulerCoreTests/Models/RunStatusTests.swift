import Testing

@testable import SchedulerCore
import TestSupport

@Suite struct RunStatusTests {
    /// SPEC §3's table written out independently of the implementation
    /// (plus queued → skipped, which §5's manual-trigger rule needs).
    static let allowed: Set<String> = [
        "queued>pending", "queued>cancelled", "queued>skipped",
        "pending>running", "pending>cancelling", "pending>failed", "pending>completed", "pending>cancelled",
        "running>running", "running>completed", "running>failed", "running>cancelling", "running>pending",
        "cancelling>cancelled", "cancelling>failed", "cancelling>completed",
    ]

    static let pairs = RunStatus.allCases.flatMap { from in RunStatus.allCases.map { (from, $0) } }

    @Test(arguments: pairs)
    func transitionTable(_ from: RunStatus, _ to: RunStatus) {
        #expect(from.canTransition(to: to) == Self.allowed.contains("\(from.rawValue)>\(to.rawValue)"))
    }

    @Test func everyPairIsCovered() {
        #expect(Self.pairs.count == 81)
    }

    @Test func finalStatusesNeverChange() {
        let finals = RunStatus.allCases.filter(\.isFinal)
        #expect(Set(finals) == [.cancelled, .failed, .completed, .skipped, .missed])
        for from in finals { #expect(RunStatus.allCases.allSatisfy { !from.canTransition(to: $0) }) }
    }

    @Test func onlyWorkerStatusesMayArriveInMessages() {
        #expect(Set(RunStatus.allCases.filter(\.isWorkerReported)) == [.running, .cancelled, .failed, .completed])
        #expect(Set(RunStatus.allCases.filter(\.isActive)) == [.pending, .running, .cancelling])
    }

    @Test func transitionsWriteTheRightTimes() {
        let id = RunID.generate()
        let at = Timestamp.test(5)
        let run = Run(id: id, jobName: "j", status: .pending, createdTime: .test())
        let started = run.applying(RunTransition(id: id, from: .pending, to: .running, at: at).changes)
        #expect(started.status == .running && started.startTime == at && started.heartbeat == at)
        let beat = started.applying(RunTransition.heartbeat(id, attempt: 1, at: .test(9)).changes)
        #expect(beat.heartbeat == .test(9) && beat.startTime == at && beat.status == .running)
        let reset = beat.applying(RunTransition(id: id, from: .running, to: .pending, at: .test(20)).changes)
        #expect(reset.attempt == 2 && reset.heartbeat == nil && reset.startTime == nil && reset.statusTime == .test(20))
        let cancelling = reset.applying(RunTransition(id: id, from: .pending, to: .cancelling, at: .test(30)).changes)
        #expect(cancelling.statusTime == .test(30) && cancelling.endTime == nil)
        let cancelled = cancelling.applying(
            RunTransition(id: id, from: .cancelling, to: .cancelled, at: .test(31)).changes)
        #expect(cancelled.endTime == .test(31) && cancelled.status == .cancelled)
    }
}
