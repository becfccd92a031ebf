import Synchronization

/// A `Database` in process memory, for fast unit tests of the layers above storage.
/// Same semantics as the real adapters (the conformance suite runs against all three);
/// never used instead of them for behaviour they adapt.
public final class InMemoryDatabase: Database {
    private struct State {
        var jobs: [String: Job] = [:]
        var runs: [RunID: Run] = [:]
        var slots: Set<SlotKey> = []
        var managers: [String: Manager] = [:]
        var jobsChangeMarker: Int64 = 0

        /// Inserts one run unless its slot or id is taken.
        mutating func insert(_ run: Run) -> InsertOutcome {
            guard runs[run.id] == nil else { return .duplicateSlot }
            if run.occupiesSlot {
                let key = SlotKey(jobName: run.jobName, createdTime: run.createdTime)
                guard slots.insert(key).inserted else { return .duplicateSlot }
            }
            runs[run.id] = run
            return .inserted
        }
    }

    private struct SlotKey: Hashable {
        let jobName: String
        let createdTime: Timestamp
    }

    private let state = Mutex(State())
    private let clock: @Sendable () -> Timestamp
    /// Runs after `unpublishedRuns` has read and before it returns: a test's way to let other
    /// writes land while an outbox read is in flight, as they may on a real database.
    public let afterUnpublishedRead = Mutex<(@Sendable ([Run]) async -> Void)?>(nil)
    /// Runs after a page of `jobs(lockedBy:after:limit:)` has been read and before it returns.
    public let afterHeldJobsRead = Mutex<(@Sendable ([Job]) async -> Void)?>(nil)
    public let statistics = DatabaseStatistics()

    /// Creates an empty database whose clock is `clock` (the wall clock by default).
    public init(clock: @escaping @Sendable () -> Timestamp = { .now }) {
        self.clock = clock
    }

    private func withState<T>(writes: Int = 0, _ body: (inout State) throws -> T) rethrows -> T {
        statistics.recordRoundTrip()
        if writes > 0 { statistics.recordWrites(writes) }
        return try state.withLock { try body(&$0) }
    }

    public func prepare() async throws {}

    public func now() async throws -> Timestamp { clock() }

    // MARK: Jobs

    public func createJob(_ job: Job) async throws {
        try withState(writes: 1) { state in
            guard state.jobs[job.name] == nil else { throw DatabaseError.jobExists(job.name) }
            var stored = job
            stored.managerId = nil
            stored.heartbeat = nil
            state.jobs[job.name] = stored
            state.jobsChangeMarker += 1
        }
    }

    public func job(named name: String) async throws -> Job? {
        withState { $0.jobs[name] }
    }

    public func updateJob(named name: String, _ patch: JobPatch) async throws -> Job? {
        withState(writes: 1) { state in
            guard let job = state.jobs[name] else { return nil }
            let updated = patch.applied(to: job)
            state.jobs[name] = updated
            state.jobsChangeMarker += 1
            return updated
        }
    }

    public func deleteJob(named name: String) async throws -> Bool {
        withState(writes: 1) { state in
            guard state.jobs.removeValue(forKey: name) != nil else { return false }
            state.jobsChangeMarker += 1
            return true
        }
    }

    public func jobs(after: String?, limit: Int) async throws -> Page<Job, String> {
        withState { state in
            let sorted = state.jobs.values.filter { after == nil || $0.name > after! }.sorted { $0.name < $1.name }
            let items = Array(sorted.prefix(limit))
            return Page(items: items, next: sorted.count > limit ? items.last?.name : nil)
        }
    }

    public func jobs(lockedBy manager: String, after: String?, limit: Int) async throws -> [Job] {
        let page = withState { state in
            Array(
                state.jobs.values.filter { $0.managerId == manager && (after == nil || $0.name > after!) }
                    .sorted { $0.name < $1.name }.prefix(max(0, limit)))
        }
        if let hook = afterHeldJobsRead.withLock({ $0 }) { await hook(page) }
        return page
    }

    public func jobsChangeMarker() async throws -> Int64 {
        withState { $0.jobsChangeMarker }
    }

    // MARK: Managers

    public func registerManager(id: String, hostname: String) async throws {
        let now = clock()
        withState(writes: 1) { $0.managers[id] = Manager(id: id, hostname: hostname, heartbeat: now) }
    }

    public func renewManager(id: String) async throws -> Bool {
        let now = clock()
        return withState(writes: 1) { state in
            guard state.managers[id] != nil else { return false }
            state.managers[id]!.heartbeat = now
            return true
        }
    }

    public func removeManager(id: String) async throws {
        withState(writes: 1) { _ = $0.managers.removeValue(forKey: id) }
    }

    public func managers() async throws -> [Manager] {
        withState { Array($0.managers.values).sorted { $0.id < $1.id } }
    }

    public func claimJobs(for manager: String, limit: Int?, leaseTimeout: Int) async throws -> [Job] {
        let now = clock()
        return withState { state in
            let live = Self.liveManagers(state, now: now, leaseTimeout: leaseTimeout)
            var claimed: [Job] = []
            for name in state.jobs.keys.sorted() {
                if let limit, claimed.count >= limit { break }
                guard var job = state.jobs[name], job.enabled, !Self.isLocked(job, live: live) else { continue }
                job.managerId = manager
                job.heartbeat = now
                state.jobs[name] = job
                claimed.append(job)
            }
            statistics.recordWrites(claimed.count)
            return claimed
        }
    }

    public func releaseJobs(of manager: String, names: [String]?) async throws -> Int {
        withState { state in
            var count = 0
            for (name, job) in state.jobs where job.managerId == manager && (names?.contains(name) ?? true) {
                state.jobs[name]!.managerId = nil
                state.jobs[name]!.heartbeat = nil
                count += 1
            }
            statistics.recordWrites(count)
            return count
        }
    }

    public func releaseJobsOfDeadManagers(leaseTimeout: Int) async throws -> Int {
        let now = clock()
        return withState { state in
            let live = Self.liveManagers(state, now: now, leaseTimeout: leaseTimeout)
            var count = 0
            for (name, job) in state.jobs where job.managerId != nil && !live.contains(job.managerId!) {
                state.jobs[name]!.managerId = nil
                state.jobs[name]!.heartbeat = nil
                count += 1
            }
            statistics.recordWrites(count)
            return count
        }
    }

    public func deleteManagers(silentFor silence: Int) async throws -> Int {
        let cutoff = clock().adding(milliseconds: -Int64(silence))
        return withState { state in
            let dead = state.managers.values.filter { $0.heartbeat < cutoff }.map(\.id)
            for id in dead { state.managers.removeValue(forKey: id) }
            statistics.recordWrites(dead.count)
            return dead.count
        }
    }

    private static func liveManagers(_ state: State, now: Timestamp, leaseTimeout: Int) -> Set<String> {
        let cutoff = now.adding(milliseconds: -Int64(leaseTimeout))
        return Set(state.managers.values.filter { $0.heartbeat >= cutoff }.map(\.id))
    }

    private static func isLocked(_ job: Job, live: Set<String>) -> Bool {
        guard let owner = job.managerId, owner != Manager.zeroID else { return false }
        return live.contains(owner)
    }

    // MARK: Runs

    public func insertRuns(_ runs: [Run]) async throws -> [InsertOutcome] {
        withState { state in
            let outcomes = runs.map { state.insert($0) }
            statistics.recordWrites(outcomes.count { $0 == .inserted })
            return outcomes
        }
    }

    public func run(id: RunID) async throws -> Run? {
        withState { $0.runs[id] }
    }

    public func runs(ids: [RunID]) async throws -> [Run] {
        withState { state in ids.compactMap { state.runs[$0] } }
    }

    public func applyTransitions(_ transitions: [RunTransition]) async throws -> [TransitionOutcome] {
        withState { state in
            var written = 0
            let outcomes = transitions.map { transition -> TransitionOutcome in
                guard transition.isLegal else { return .illegal }
                guard let run = state.runs[transition.id] else { return .notFound }
                guard run.matches(transition) else { return .conflict }
                state.runs[transition.id] = run.applying(transition.changes)
                written += 1
                return .applied
            }
            statistics.recordWrites(written)
            return outcomes
        }
    }

    public func runs(matching query: RunQuery, after cursor: RunCursor?, limit: Int?) async throws
        -> Page<Run, RunCursor>
    {
        withState { state in
            let matching = state.runs.values.filter { query.matches($0) && (cursor?.precedes($0) ?? true) }
                .sorted(by: Run.newestFirst)
            guard let limit, matching.count > limit else { return Page(items: matching, next: nil) }
            let items = Array(matching.prefix(limit))
            return Page(items: items, next: items.last.map(RunCursor.init(after:)))
        }
    }

    // MARK: Firing

    public func recordFires(_ fires: [SlotFire], manager: String, leaseTimeout: Int) async throws -> [FireOutcome] {
        let cutoff = clock().adding(milliseconds: -Int64(leaseTimeout))
        return withState { state in
            let leaseHolds = state.managers[manager].map { $0.heartbeat >= cutoff } ?? false
            var written = 0
            let outcomes = fires.map { fire -> FireOutcome in
                guard leaseHolds, let job = state.jobs[fire.jobName], job.managerId == manager else { return .lockLost }
                guard job.enabled, job.nextRunAt == fire.expectedNextRunAt else { return .changed }
                state.jobs[fire.jobName]!.nextRunAt = fire.nextRunAt
                let inserted = fire.runs.map { state.insert($0) }
                written += 1 + inserted.count { $0 == .inserted }
                return .recorded(inserted)
            }
            statistics.recordWrites(written)
            return outcomes
        }
    }

    public func markPublished(_ actions: [PublishedAction]) async throws {
        withState { state in
            var written = 0
            for action in actions {
                guard let run = state.runs[action.id], run.status == action.status, run.attempt == action.attempt
                else { continue }
                state.runs[action.id]!.published = true
                written += 1
            }
            statistics.recordWrites(written)
        }
    }

    public func unpublishedRuns(jobNames: [String]?) async throws -> [Run] {
        let runs = withState { state in
            let names = jobNames.map(Set.init)
            return state.runs.values.filter { run in
                (run.status == .pending || run.status == .cancelling) && !run.published
                    && (names?.contains(run.jobName) ?? true)
            }.sorted { $0.createdTime < $1.createdTime }
        }
        if let hook = afterUnpublishedRead.withLock({ $0 }) { await hook(runs) }
        return runs
    }

    public func deleteFinalRuns(endedBefore time: Timestamp) async throws -> Int {
        withState { state in
            let old = state.runs.values.filter { $0.status.isFinal && ($0.endTime ?? $0.createdTime) < time }
            for run in old {
                state.runs.removeValue(forKey: run.id)
                if run.occupiesSlot { state.slots.remove(SlotKey(jobName: run.jobName, createdTime: run.createdTime)) }
            }
            statistics.recordWrites(old.count)
            return old.count
        }
    }
}

extension InMemoryDatabase {
    /// Writes a lock field as another program (the original Go service) might have left it.
    func overwriteLock(job name: String, managerId: String?) {
        state.withLock { $0.jobs[name]?.managerId = managerId }
    }
}
