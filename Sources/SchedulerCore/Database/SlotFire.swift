/// One job's fire as the scheduler records it: `nextRunAt` moves on and the slot's runs (or
/// `skipped`/`missed` records) are inserted, together, or not at all (SPEC §5, §6).
public struct SlotFire: Hashable, Sendable {
    public var jobName: String
    /// The `nextRunAt` the plan started from; the fire is refused when the stored one differs
    /// (an API edit, or another instance fired it).
    public var expectedNextRunAt: Timestamp?
    /// The new `nextRunAt`.
    public var nextRunAt: Timestamp?
    /// The runs and records the due slots became.
    public var runs: [Run]

    public init(jobName: String, expectedNextRunAt: Timestamp?, nextRunAt: Timestamp?, runs: [Run]) {
        self.jobName = jobName
        self.expectedNextRunAt = expectedNextRunAt
        self.nextRunAt = nextRunAt
        self.runs = runs
    }
}

/// What became of a `SlotFire`.
public enum FireOutcome: Hashable, Sendable {
    /// Recorded; one insert outcome per run (`.duplicateSlot` when the slot already had its fate).
    case recorded([InsertOutcome])
    /// The job is no longer this manager's (released, claimed by another, deleted) or the
    /// manager's lease has expired: nothing was written, and the caller must stop firing it.
    case lockLost
    /// The job is still this manager's but its `nextRunAt` or `enabled` changed: reload it.
    case changed
}

/// A run whose action the broker confirmed, as compare-and-set on the status and attempt the
/// action was published for.
public struct PublishedAction: Hashable, Sendable {
    public var id: RunID
    public var status: RunStatus
    public var attempt: Int

    public init(id: RunID, status: RunStatus, attempt: Int) {
        self.id = id
        self.status = status
        self.attempt = attempt
    }
}
