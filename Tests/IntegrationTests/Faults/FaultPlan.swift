import Foundation

@testable import SchedulerCore
import TestSupport

/// How hard the fault suite pushes. `.ci/run` runs the quick plan with the other tests;
/// `scripts/faults` sets `SIMPLE_SCHEDULER_FAULTS=full` for the sizes.
struct FaultPlan: Sendable {
    let full: Bool
    /// kill -9 trials per database.
    let crashTrials: Int
    /// One-second jobs in the crash trials, by database (the MongoDB-protocol server is slow).
    let sqliteJobs: Int
    let mongoJobs: Int

    static let current: FaultPlan = {
        ProcessInfo.processInfo.environment["SIMPLE_SCHEDULER_FAULTS"] == "full"
            ? FaultPlan(full: true, crashTrials: 20, sqliteJobs: 1000, mongoJobs: 200)
            : FaultPlan(full: false, crashTrials: 3, sqliteJobs: 100, mongoJobs: 20)
    }()

    /// Prints one result line that scripts/faults collects into docs/reliability.md.
    static func report(_ test: String, _ fields: [String: String]) {
        let object = fields.merging(["test": test]) { $1 }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        print("[fault] " + String(decoding: data, as: UTF8.self))
    }
}

/// Every scheduled slot of `names` between the first slot and each job's stored `nextRunAt`
/// has exactly one fate: a run for it, or a catch-up run that stands for it (`missedSlots`).
struct SlotAudit: Sendable, CustomStringConvertible {
    var duplicates = 0
    var lost = 0
    var slots = 0

    init(database: any Database, names: [String], first: Timestamp, interval: Int64) async throws {
        let wanted = Set(names)
        var byJob: [String: [Run]] = [:]
        for run in try await database.runs(matching: RunQuery(trigger: .schedule), after: nil, limit: nil).items
        where wanted.contains(run.jobName) {
            byJob[run.jobName, default: []].append(run)
        }
        var after: String?
        repeat {
            let page = try await database.jobs(after: after, limit: 1000)
            for job in page.items where wanted.contains(job.name) {
                let runs = byJob[job.name] ?? []
                duplicates += runs.count - Set(runs.map(\.createdTime)).count
                let covered = runs.reduce(0) { $0 + 1 + $1.missedSlots }
                let expected = Int((job.nextRunAt ?? first).milliseconds(since: first) / interval)
                slots += expected
                lost += max(0, expected - covered)
                duplicates += max(0, covered - expected)
            }
            after = page.next
        } while after != nil
    }

    var description: String { "\(slots) slots, \(duplicates) duplicated, \(lost) without a fate" }
}
