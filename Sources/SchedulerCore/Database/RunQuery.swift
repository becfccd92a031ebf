/// A filter over runs (SPEC §7 `GET /api/runs`, and the scheduler's own look-ups).
/// Every `…Before` bound is strict.
public struct RunQuery: Hashable, Sendable {
    /// Only runs of these jobs (`nil`: any).
    public var jobNames: [String]?
    /// Only runs in these statuses (`nil`: any).
    public var statuses: [RunStatus]?
    public var trigger: RunTrigger?
    public var createdBefore: Timestamp?
    public var startedBefore: Timestamp?
    public var heartbeatBefore: Timestamp?

    public init(
        jobNames: [String]? = nil, statuses: [RunStatus]? = nil, trigger: RunTrigger? = nil,
        createdBefore: Timestamp? = nil, startedBefore: Timestamp? = nil, heartbeatBefore: Timestamp? = nil
    ) {
        self.jobNames = jobNames
        self.statuses = statuses
        self.trigger = trigger
        self.createdBefore = createdBefore
        self.startedBefore = startedBefore
        self.heartbeatBefore = heartbeatBefore
    }

    /// Whether `run` passes the filter (the in-memory adapter, and a reference for the others).
    public func matches(_ run: Run) -> Bool {
        if let jobNames, !jobNames.contains(run.jobName) { return false }
        if let statuses, !statuses.contains(run.status) { return false }
        if let trigger, run.trigger != trigger { return false }
        if let createdBefore, !(run.createdTime < createdBefore) { return false }
        if let startedBefore, !(run.startTime.map { $0 < startedBefore } ?? false) { return false }
        if let heartbeatBefore, !(run.heartbeat.map { $0 < heartbeatBefore } ?? false) { return false }
        return true
    }
}

/// Where a newest-first page of runs resumes: strictly after this (createdTime, id), descending.
public struct RunCursor: Hashable, Sendable {
    public var createdTime: Timestamp
    public var id: RunID

    public init(createdTime: Timestamp, id: RunID) {
        self.createdTime = createdTime
        self.id = id
    }

    /// The cursor that resumes after `run`.
    public init(after run: Run) { self.init(createdTime: run.createdTime, id: run.id) }

    /// Whether `run` comes after this cursor in newest-first order.
    public func precedes(_ run: Run) -> Bool {
        run.createdTime < createdTime || (run.createdTime == createdTime && run.id < id)
    }
}

extension Run {
    /// Newest-first order: `createdTime` descending, then id descending.
    public static func newestFirst(_ a: Run, _ b: Run) -> Bool {
        a.createdTime != b.createdTime ? a.createdTime > b.createdTime : a.id > b.id
    }
}

/// One page of a listing and where the next one starts (`nil`: this was the last).
public struct Page<Item: Sendable, Cursor: Sendable>: Sendable {
    public var items: [Item]
    public var next: Cursor?

    public init(items: [Item], next: Cursor?) {
        self.items = items
        self.next = next
    }
}
