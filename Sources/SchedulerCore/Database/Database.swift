/// The storage the daemons share, shaped by what the scheduler, custodian and API do,
/// served alike by the MongoDB, SQLite and in-memory adapters (one conformance suite).
///
/// Times that decide leases ("is this manager's heartbeat older than the timeout?")
/// are taken on the database's clock inside the adapter, never on a caller's.
/// Every method may throw `DatabaseError`; `isUnavailable` marks the transient ones.
public protocol Database: Sendable {
    /// Creates indexes and tables; idempotent, run at every start.
    func prepare() async throws

    /// Round trips and writes made so far (a database round trip is one request to the
    /// MongoDB server or one SQLite transaction).
    var statistics: DatabaseStatistics { get }

    /// The database's clock.
    func now() async throws -> Timestamp

    // MARK: Jobs

    /// Stores a new job; throws `DatabaseError.jobExists` when the name is taken.
    /// `managerId` and `heartbeat` are not stored from the argument: a new job is unlocked.
    func createJob(_ job: Job) async throws
    /// The job named `name`, if any.
    func job(named name: String) async throws -> Job?
    /// Applies `patch`; returns the job as stored afterwards, `nil` when there is no such job.
    func updateJob(named name: String, _ patch: JobPatch) async throws -> Job?
    /// Deletes the job (its runs stay); false when there was none.
    func deleteJob(named name: String) async throws -> Bool
    /// Jobs by name, `limit` at most, strictly after the name `after`.
    func jobs(after: String?, limit: Int) async throws -> Page<Job, String>
    /// Jobs whose lock `manager` holds, by name, `limit` at most, strictly after the name `after`:
    /// a scheduler re-reads its 100,000 jobs a page at a time, not all at once.
    func jobs(lockedBy manager: String, after: String?, limit: Int) async throws -> [Job]
    /// A number that changes whenever a job is created, updated or deleted, so a scheduler
    /// notices API edits by polling one small value (SPEC §5: within 1 s).
    func jobsChangeMarker() async throws -> Int64

    // MARK: Managers and locks (SPEC §6)

    /// Creates or refreshes the manager document; its heartbeat becomes the database's now.
    func registerManager(id: String, hostname: String) async throws
    /// Renews the manager's one heartbeat; false when its document is gone (the custodian
    /// removed it: the caller must consider its locks lost and register again).
    func renewManager(id: String) async throws -> Bool
    /// Removes the manager document.
    func removeManager(id: String) async throws
    /// All manager documents.
    func managers() async throws -> [Manager]
    /// Atomically per job, locks up to `limit` (nil: no limit) claimable enabled jobs for
    /// `manager` and returns them. Claimable: no `managerId`, the zero id, or a manager whose
    /// document is gone or whose heartbeat is older than `leaseTimeout` ms on the database's clock.
    func claimJobs(for manager: String, limit: Int?, leaseTimeout: Int) async throws -> [Job]
    /// Unlocks the named jobs (all jobs when `names` is nil) that `manager` holds; returns how many.
    func releaseJobs(of manager: String, names: [String]?) async throws -> Int
    /// Unlocks jobs whose manager is gone or silent for longer than `leaseTimeout` ms; returns how many.
    func releaseJobsOfDeadManagers(leaseTimeout: Int) async throws -> Int
    /// Deletes manager documents silent for longer than `silence` ms; returns how many.
    func deleteManagers(silentFor silence: Int) async throws -> Int

    // MARK: Firing (SPEC §5, §6)

    /// Records fires in one transaction per fire at most (one for the whole batch when every
    /// fire holds). Each fire is fenced: it is written only while `manager`'s document exists
    /// with a heartbeat younger than `leaseTimeout` ms on the database's clock, the job is
    /// locked by `manager`, enabled, and its `nextRunAt` still equals `expectedNextRunAt`.
    /// Then `nextRunAt` moves and the runs are inserted, atomically: a crash leaves both or neither.
    func recordFires(_ fires: [SlotFire], manager: String, leaseTimeout: Int) async throws -> [FireOutcome]

    /// Marks runs whose action the broker confirmed, while they are still in the status and
    /// attempt it was published for.
    func markPublished(_ actions: [PublishedAction]) async throws
    /// The publish outbox: `pending` and `cancelling` runs of these jobs (all jobs when `nil`)
    /// whose action has not been confirmed.
    func unpublishedRuns(jobNames: [String]?) async throws -> [Run]

    // MARK: Runs

    /// Inserts runs in one batch. A scheduled run whose (jobName, createdTime) exists already,
    /// or a run whose id exists already, is not stored: `.duplicateSlot`. One outcome per run, in order.
    func insertRuns(_ runs: [Run]) async throws -> [InsertOutcome]
    /// The run with this id, if any.
    func run(id: RunID) async throws -> Run?
    /// Runs with these ids (missing ones left out), in no particular order.
    func runs(ids: [RunID]) async throws -> [Run]
    /// Applies compare-and-set transitions in one batch; one outcome per transition, in order.
    func applyTransitions(_ transitions: [RunTransition]) async throws -> [TransitionOutcome]
    /// Runs matching `query`, newest first, `limit` at most (nil: all), after `cursor`.
    func runs(matching query: RunQuery, after cursor: RunCursor?, limit: Int?) async throws -> Page<Run, RunCursor>
    /// Deletes final runs that ended (or, with no end time, were created) before `time`; returns how many.
    func deleteFinalRuns(endedBefore time: Timestamp) async throws -> Int
}

extension Database {
    /// Every job whose lock `manager` holds, by name (read in pages).
    public func jobs(lockedBy manager: String) async throws -> [Job] {
        var all: [Job] = []
        while true {
            let page = try await jobs(lockedBy: manager, after: all.last?.name, limit: 1000)
            all += page
            if page.count < 1000 { return all }
        }
    }

    /// Applies one transition.
    public func applyTransition(_ transition: RunTransition) async throws -> TransitionOutcome {
        try await applyTransitions([transition])[0]
    }

    /// Inserts one run.
    public func insertRun(_ run: Run) async throws -> InsertOutcome {
        try await insertRuns([run])[0]
    }
}

/// A scheduler instance as the lock registry knows it.
public struct Manager: Hashable, Sendable {
    /// ObjectId-form id.
    public var id: String
    public var hostname: String
    /// Last renewal, on the database's clock.
    public var heartbeat: Timestamp

    public init(id: String, hostname: String, heartbeat: Timestamp) {
        self.id = id
        self.hostname = hostname
        self.heartbeat = heartbeat
    }

    /// A lock field holding this id counts as unlocked (SPEC §6).
    public static let zeroID = "000000000000000000000000"
}
