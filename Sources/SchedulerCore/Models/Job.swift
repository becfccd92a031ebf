/// A job definition (SPEC §4). Durations are milliseconds, as on the wire and in the database.
public struct Job: Hashable, Sendable {
    /// Unique, 1–200 chars of `[A-Za-z0-9._-]`; part of exchange and queue names.
    public var name: String
    /// When false no runs fire.
    public var enabled: Bool
    /// Next fire instant; `nil` when nothing further is scheduled.
    public var nextRunAt: Timestamp?
    /// > 0: recurring every `interval` ms on the grid of `nextRunAt`; 0 without `cron`: one-shot.
    public var interval: Int
    /// Cron expression, alternative to `interval`.
    public var cron: String?
    /// IANA zone the cron expression is evaluated in.
    public var timezone: String
    /// Running longer than this is cancelled; 0 = off.
    public var runExecutionTimeout: Int
    /// Pending longer than this is cancelled; 0 = off.
    public var runStartTimeout: Int
    /// Running without a heartbeat for this long is reset and re-published; 0 = off.
    public var heartbeatTimeout: Int
    /// Whether a slot may fire while another run of the job is active.
    public var allowConcurrentRuns: Bool
    /// How many runs may wait as `queued` while one is active.
    public var maxQueueCount: Int
    /// Missed slots older than this are recorded as `missed`; 0 = no limit.
    public var catchUpWindow: Int
    /// How many times a failed run is retried.
    public var maxRetries: Int
    /// Delay before the first retry, doubled for each further one.
    public var retryDelay: Int
    /// The manager holding the job's lock (read-only for clients).
    public var managerId: String?
    /// When the lock was claimed (read-only for clients).
    public var heartbeat: Timestamp?

    /// Creates a job with SPEC §4's defaults for everything not given.
    public init(
        name: String, enabled: Bool = true, nextRunAt: Timestamp? = nil, interval: Int = 0, cron: String? = nil,
        timezone: String = "UTC", runExecutionTimeout: Int = 0, runStartTimeout: Int = 0, heartbeatTimeout: Int = 0,
        allowConcurrentRuns: Bool = false, maxQueueCount: Int = 0, catchUpWindow: Int = 0, maxRetries: Int = 0,
        retryDelay: Int = 0, managerId: String? = nil, heartbeat: Timestamp? = nil
    ) {
        self.name = name
        self.enabled = enabled
        self.nextRunAt = nextRunAt
        self.interval = interval
        self.cron = cron
        self.timezone = timezone
        self.runExecutionTimeout = runExecutionTimeout
        self.runStartTimeout = runStartTimeout
        self.heartbeatTimeout = heartbeatTimeout
        self.allowConcurrentRuns = allowConcurrentRuns
        self.maxQueueCount = maxQueueCount
        self.catchUpWindow = catchUpWindow
        self.maxRetries = maxRetries
        self.retryDelay = retryDelay
        self.managerId = managerId
        self.heartbeat = heartbeat
    }

    /// The kind of schedule, following from the fields (SPEC §4).
    public var scheduleKind: ScheduleKind {
        if cron != nil { return .cron }
        return interval > 0 ? .interval : .oneShot
    }
}

/// How a job's slots are laid out.
public enum ScheduleKind: String, Sendable {
    case oneShot
    case interval
    case cron
}

extension Job: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, enabled, nextRunAt, interval, cron, timezone, runExecutionTimeout, runStartTimeout,
            heartbeatTimeout, allowConcurrentRuns, maxQueueCount, catchUpWindow, maxRetries, retryDelay, managerId,
            heartbeat
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        nextRunAt = try c.decodeTime(.nextRunAt)
        interval = try c.decodeIfPresent(Int.self, forKey: .interval) ?? 0
        cron = try c.decodeIfPresent(String.self, forKey: .cron)
        timezone = try c.decodeIfPresent(String.self, forKey: .timezone) ?? "UTC"
        runExecutionTimeout = try c.decodeIfPresent(Int.self, forKey: .runExecutionTimeout) ?? 0
        runStartTimeout = try c.decodeIfPresent(Int.self, forKey: .runStartTimeout) ?? 0
        heartbeatTimeout = try c.decodeIfPresent(Int.self, forKey: .heartbeatTimeout) ?? 0
        allowConcurrentRuns = try c.decodeIfPresent(Bool.self, forKey: .allowConcurrentRuns) ?? false
        maxQueueCount = try c.decodeIfPresent(Int.self, forKey: .maxQueueCount) ?? 0
        catchUpWindow = try c.decodeIfPresent(Int.self, forKey: .catchUpWindow) ?? 0
        maxRetries = try c.decodeIfPresent(Int.self, forKey: .maxRetries) ?? 0
        retryDelay = try c.decodeIfPresent(Int.self, forKey: .retryDelay) ?? 0
        managerId = try c.decodeIfPresent(String.self, forKey: .managerId)
        heartbeat = try c.decodeTime(.heartbeat)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(enabled, forKey: .enabled)
        try c.encodeTime(nextRunAt, .nextRunAt)
        try c.encode(interval, forKey: .interval)
        try c.encode(cron, forKey: .cron)
        try c.encode(timezone, forKey: .timezone)
        try c.encode(runExecutionTimeout, forKey: .runExecutionTimeout)
        try c.encode(runStartTimeout, forKey: .runStartTimeout)
        try c.encode(heartbeatTimeout, forKey: .heartbeatTimeout)
        try c.encode(allowConcurrentRuns, forKey: .allowConcurrentRuns)
        try c.encode(maxQueueCount, forKey: .maxQueueCount)
        try c.encode(catchUpWindow, forKey: .catchUpWindow)
        try c.encode(maxRetries, forKey: .maxRetries)
        try c.encode(retryDelay, forKey: .retryDelay)
        try c.encode(managerId, forKey: .managerId)
        try c.encodeTime(heartbeat, .heartbeat)
    }
}
