import Testing

@testable import SchedulerCore
import TestSupport

@Suite struct JobValidationTests {
    @Test(arguments: ["a", "my-job", "Job_1.v2", String(repeating: "x", count: 200)])
    func validNames(_ name: String) {
        #expect(Job.isValidName(name))
    }

    @Test(arguments: ["", "has space", "slash/name", "ünïcode", "star*", String(repeating: "x", count: 201)])
    func invalidNames(_ name: String) {
        #expect(!Job.isValidName(name))
        #expect(Job(name: name).validationProblems().first?.hasPrefix("name must be") == true)
    }

    @Test func everyProblemIsReportedAtOnce() {
        var job = Job(name: "bad name", interval: -1, cron: "* * * * *", timezone: "Mars/Olympus")
        job.maxRetries = -2
        job.retryDelay = -5
        let problems = job.validationProblems()
        #expect(problems.count == 6, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("interval must be between 0") })
        #expect(problems.contains { $0.hasPrefix("retryDelay must be between 0") })
        #expect(problems.contains { $0.hasPrefix("maxRetries must be between 0") })
        #expect(problems.contains { $0.hasPrefix("interval must be 0 when cron is set") })
        #expect(problems.contains { $0.hasPrefix("timezone must be an IANA zone") })
        #expect(throws: JobValidationError.self) { try job.validate() }
    }

    @Test func scheduleKindFollowsFromTheFields() throws {
        #expect(Job(name: "a").scheduleKind == .oneShot)
        #expect(Job(name: "a", interval: 1000).scheduleKind == .interval)
        #expect(Job(name: "a", cron: "@daily").scheduleKind == .cron)
        try Job(name: "ok", nextRunAt: .test(), interval: 1000, timezone: "Europe/Berlin").validate()
    }

    @Test func patchesChangeOnlyWhatTheyName() {
        let job = Job(name: "a", nextRunAt: .test(), interval: 1000, cron: nil, maxQueueCount: 3)
        #expect(JobPatch().applied(to: job) == job)
        let patched = JobPatch(nextRunAt: .some(nil), cron: .some("@hourly"), maxQueueCount: 1).applied(to: job)
        #expect(patched.nextRunAt == nil && patched.cron == "@hourly" && patched.maxQueueCount == 1)
        #expect(patched.interval == 1000 && patched.name == "a")
    }
}
