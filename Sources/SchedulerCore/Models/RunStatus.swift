/// The life-cycle states of a run (SPEC §3).
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    /// Due, held back by the job's concurrency rule; never published.
    case queued
    /// Scheduled; the run action was published.
    case pending
    /// A worker started it.
    case running
    /// Cancel requested; the cancel action was published.
    case cancelling
    /// Stopped before it finished.
    case cancelled
    /// The worker reported failure.
    case failed
    /// The worker reported success.
    case completed
    /// The slot was not run because of the concurrency rule.
    case skipped
    /// Slots that came due while no instance ran the job, outside its catch-up window.
    case missed

    /// Final statuses never change again.
    public var isFinal: Bool {
        switch self {
        case .cancelled, .failed, .completed, .skipped, .missed: return true
        case .queued, .pending, .running, .cancelling: return false
        }
    }

    /// Statuses that hold the job's single concurrency slot (SPEC §5).
    public var isActive: Bool {
        self == .pending || self == .running || self == .cancelling
    }

    /// Statuses that a worker's status message may carry; the others belong to the scheduler.
    public var isWorkerReported: Bool {
        switch self {
        case .running, .cancelled, .failed, .completed: return true
        default: return false
        }
    }

    /// Whether SPEC §3 allows a run in this status to move to `next`.
    ///
    /// `running → running` is the heartbeat no-op and `running → pending` the
    /// heartbeat-timeout reset. `queued → skipped` is beyond §3's table: §5 has
    /// the scheduler skip a queued manual run when the concurrency rule says so.
    public func canTransition(to next: RunStatus) -> Bool {
        switch (self, next) {
        case (.queued, .pending), (.queued, .cancelled), (.queued, .skipped):
            return true
        case (.pending, .running), (.pending, .cancelling), (.pending, .failed), (.pending, .completed),
            (.pending, .cancelled):
            return true
        case (.running, .running), (.running, .completed), (.running, .failed), (.running, .cancelling),
            (.running, .pending):
            return true
        case (.cancelling, .cancelled), (.cancelling, .failed), (.cancelling, .completed):
            return true
        default:
            return false
        }
    }
}

/// What made a run exist.
public enum RunTrigger: String, Codable, Sendable, CaseIterable {
    /// A slot of the job's schedule (also `skipped` and `missed` records).
    case schedule
    /// Triggered through the API.
    case manual
    /// A retry of a failed run.
    case retry
}

/// The action a run message asks a worker to take.
public enum JobAction: String, Codable, Sendable {
    case run
    case cancel
}
