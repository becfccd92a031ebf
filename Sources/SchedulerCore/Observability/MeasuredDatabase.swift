import Foundation

/// A `Database` that times every call of the one it wraps (`simple_scheduler_database_operation_seconds`,
/// by operation) and reports outages once (`OutageLog`). `DatabaseSettings.open` wraps every
/// adapter in it, so all daemons report the same.
public struct MeasuredDatabase: Database {
    public let base: any Database
    let outage: OutageLog?

    public init(_ base: any Database, outage: OutageLog? = nil) {
        self.base = base
        self.outage = outage
    }

    public var statistics: DatabaseStatistics { base.statistics }

    @inline(__always)
    private func measure<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        do {
            let result = try await body()
            SchedulerMetrics.databaseOperation(operation, started.duration(to: .now), failed: false)
            outage?.succeeded()
            return result
        } catch {
            SchedulerMetrics.databaseOperation(operation, started.duration(to: .now), failed: true)
            if (error as? DatabaseError)?.isUnavailable == true { outage?.failed(error) } else { outage?.succeeded() }
            throw error
        }
    }

    public func prepare() async throws { try await measure("prepare") { try await base.prepare() } }

    public func now() async throws -> Timestamp { try await measure("now") { try await base.now() } }

    public func createJob(_ job: Job) async throws { try await measure("createJob") { try await base.createJob(job) } }

    public func job(named name: String) async throws -> Job? { try await measure("job") { try await base.job(named: name) } }

    public func updateJob(named name: String, _ patch: JobPatch) async throws -> Job? { try await measure("updateJob") { try await base.updateJob(named: name, patch) } }

    public func deleteJob(named name: String) async throws -> Bool { try await measure("deleteJob") { try await base.deleteJob(named: name) } }

    public func jobs(after: String?, limit: Int) async throws -> Page<Job, String> { try await measure("jobs") { try await base.jobs(after: after, limit: limit) } }

    public func jobs(lockedBy manager: String, after: String?, limit: Int) async throws -> [Job] {
        try await measure("jobs") { try await base.jobs(lockedBy: manager, after: after, limit: limit) }
    }

    public func jobsChangeMarker() async throws -> Int64 { try await measure("jobsChangeMarker") { try await base.jobsChangeMarker() } }

    public func registerManager(id: String, hostname: String) async throws { try await measure("registerManager") { try await base.registerManager(id: id, hostname: hostname) } }

    public func renewManager(id: String) async throws -> Bool { try await measure("renewManager") { try await base.renewManager(id: id) } }

    public func removeManager(id: String) async throws { try await measure("removeManager") { try await base.removeManager(id: id) } }

    public func managers() async throws -> [Manager] { try await measure("managers") { try await base.managers() } }

    public func claimJobs(for manager: String, limit: Int?, leaseTimeout: Int) async throws -> [Job] { try await measure("claimJobs") { try await base.claimJobs(for: manager, limit: limit, leaseTimeout: leaseTimeout) } }

    public func releaseJobs(of manager: String, names: [String]?) async throws -> Int { try await measure("releaseJobs") { try await base.releaseJobs(of: manager, names: names) } }

    public func releaseJobsOfDeadManagers(leaseTimeout: Int) async throws -> Int { try await measure("releaseJobsOfDeadManagers") { try await base.releaseJobsOfDeadManagers(leaseTimeout: leaseTimeout) } }

    public func deleteManagers(silentFor silence: Int) async throws -> Int { try await measure("deleteManagers") { try await base.deleteManagers(silentFor: silence) } }

    public func recordFires(_ fires: [SlotFire], manager: String, leaseTimeout: Int) async throws -> [FireOutcome] { try await measure("recordFires") { try await base.recordFires(fires, manager: manager, leaseTimeout: leaseTimeout) } }

    public func markPublished(_ actions: [PublishedAction]) async throws { try await measure("markPublished") { try await base.markPublished(actions) } }

    public func unpublishedRuns(jobNames: [String]?) async throws -> [Run] { try await measure("unpublishedRuns") { try await base.unpublishedRuns(jobNames: jobNames) } }

    public func insertRuns(_ runs: [Run]) async throws -> [InsertOutcome] { try await measure("insertRuns") { try await base.insertRuns(runs) } }

    public func run(id: RunID) async throws -> Run? { try await measure("run") { try await base.run(id: id) } }

    public func runs(ids: [RunID]) async throws -> [Run] { try await measure("runs") { try await base.runs(ids: ids) } }

    public func applyTransitions(_ transitions: [RunTransition]) async throws -> [TransitionOutcome] { try await measure("applyTransitions") { try await base.applyTransitions(transitions) } }

    public func runs(matching query: RunQuery, after cursor: RunCursor?, limit: Int?) async throws -> Page<Run, RunCursor> { try await measure("runs") { try await base.runs(matching: query, after: cursor, limit: limit) } }

    public func deleteFinalRuns(endedBefore time: Timestamp) async throws -> Int { try await measure("deleteFinalRuns") { try await base.deleteFinalRuns(endedBefore: time) } }

}
