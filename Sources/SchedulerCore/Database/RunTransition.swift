/// A compare-and-set change of a run's status (SPEC §3): applied only while the run is
/// still in `from` (and, when given, at `attempt`), and only when the table allows it.
public struct RunTransition: Hashable, Sendable {
    public var id: RunID
    /// The status the run must still have.
    public var from: RunStatus
    /// The attempt the run must still be at; `nil` accepts any (a message without `attempt`).
    public var attempt: Int?
    public var to: RunStatus
    /// When it happened; becomes `startTime`, `endTime`, `heartbeat` or `statusTime` as the change says.
    public var at: Timestamp

    public init(id: RunID, from: RunStatus, attempt: Int? = nil, to: RunStatus, at: Timestamp) {
        self.id = id
        self.from = from
        self.attempt = attempt
        self.to = to
        self.at = at
    }

    /// A heartbeat of a running run: `running → running`, heartbeat moved forward.
    public static func heartbeat(_ id: RunID, attempt: Int?, at: Timestamp) -> RunTransition {
        RunTransition(id: id, from: .running, attempt: attempt, to: .running, at: at)
    }

    /// Whether the status table allows it at all.
    public var isLegal: Bool { from.canTransition(to: to) }

    /// The fields this transition writes, one rule for every adapter.
    public var changes: RunChanges {
        var changes = RunChanges(status: to)
        switch (from, to) {
        case (.running, .running):
            changes.heartbeat = at
            changes.status = nil
        case (.pending, .running):
            changes.startTime = .some(at)
            changes.heartbeat = at
            changes.statusTime = at
        case (.running, .pending):
            // A heartbeat reset: the next attempt starts from scratch.
            changes.incrementAttempt = true
            changes.startTime = .some(nil)
            changes.clearHeartbeat = true
            changes.statusTime = at
        default:
            changes.statusTime = at
            if to.isFinal { changes.endTime = at }
        }
        // A status that calls for an action enters the publish outbox until the broker confirms it.
        if to == .pending || to == .cancelling, changes.status != nil { changes.published = false }
        return changes
    }
}

/// The writes of one `RunTransition`, stated so each adapter can express them in one update.
public struct RunChanges: Hashable, Sendable {
    /// The new status; `nil` when unchanged (a heartbeat).
    public var status: RunStatus?
    /// Set `startTime` (`.some(nil)` clears it).
    public var startTime: Timestamp?? = nil
    /// Set `endTime`.
    public var endTime: Timestamp? = nil
    /// Move `heartbeat` forward to at least this (never backwards: messages may arrive out of order).
    public var heartbeat: Timestamp? = nil
    /// Clear `heartbeat`.
    public var clearHeartbeat = false
    /// Set `statusTime`.
    public var statusTime: Timestamp? = nil
    /// Add one to `attempt`.
    public var incrementAttempt = false
    /// Set `published`.
    public var published: Bool? = nil

    init(status: RunStatus?) { self.status = status }
}

extension Run {
    /// This run after `changes` (the in-memory adapter's write, and a reference for the others).
    public func applying(_ changes: RunChanges) -> Run {
        var run = self
        if let status = changes.status { run.status = status }
        if let startTime = changes.startTime { run.startTime = startTime }
        if let endTime = changes.endTime { run.endTime = endTime }
        if changes.clearHeartbeat { run.heartbeat = nil }
        if let heartbeat = changes.heartbeat { run.heartbeat = max(run.heartbeat ?? heartbeat, heartbeat) }
        if let statusTime = changes.statusTime { run.statusTime = statusTime }
        if changes.incrementAttempt { run.attempt += 1 }
        if let published = changes.published { run.published = published }
        return run
    }

    /// Whether `transition`'s compare-and-set condition holds for this run.
    public func matches(_ transition: RunTransition) -> Bool {
        status == transition.from && (transition.attempt.map { $0 == attempt } ?? true)
    }
}

/// What became of a transition.
public enum TransitionOutcome: Hashable, Sendable {
    /// Written.
    case applied
    /// The run exists but is no longer in the expected status or attempt.
    case conflict
    /// No run has this id.
    case notFound
    /// The status table does not allow it; nothing was read or written.
    case illegal
}

/// What became of one run of a batch insert.
public enum InsertOutcome: Hashable, Sendable {
    /// Stored.
    case inserted
    /// A scheduled run for this (jobName, createdTime) exists already: the slot has its fate.
    case duplicateSlot
}
