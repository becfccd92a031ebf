/// A partial update of a job: every field that is not `nil` is changed (SPEC §7 `PATCH`).
///
/// Nullable fields are doubly optional: `.some(nil)` clears them, `nil` leaves them alone.
public struct JobPatch: Hashable, Sendable {
    public var enabled: Bool?
    public var nextRunAt: Timestamp??
    public var interval: Int?
    public var cron: String??
    public var timezone: String?
    public var runExecutionTimeout: Int?
    public var runStartTimeout: Int?
    public var heartbeatTimeout: Int?
    public var allowConcurrentRuns: Bool?
    public var maxQueueCount: Int?
    public var catchUpWindow: Int?
    public var maxRetries: Int?
    public var retryDelay: Int?

    /// An empty patch.
    public init(
        enabled: Bool? = nil, nextRunAt: Timestamp?? = nil, interval: Int? = nil, cron: String?? = nil,
        timezone: String? = nil, runExecutionTimeout: Int? = nil, runStartTimeout: Int? = nil,
        heartbeatTimeout: Int? = nil, allowConcurrentRuns: Bool? = nil, maxQueueCount: Int? = nil,
        catchUpWindow: Int? = nil, maxRetries: Int? = nil, retryDelay: Int? = nil
    ) {
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
    }

    /// The job with this patch applied (not validated).
    public func applied(to job: Job) -> Job {
        var job = job
        if let enabled { job.enabled = enabled }
        if let nextRunAt { job.nextRunAt = nextRunAt }
        if let interval { job.interval = interval }
        if let cron { job.cron = cron }
        if let timezone { job.timezone = timezone }
        if let runExecutionTimeout { job.runExecutionTimeout = runExecutionTimeout }
        if let runStartTimeout { job.runStartTimeout = runStartTimeout }
        if let heartbeatTimeout { job.heartbeatTimeout = heartbeatTimeout }
        if let allowConcurrentRuns { job.allowConcurrentRuns = allowConcurrentRuns }
        if let maxQueueCount { job.maxQueueCount = maxQueueCount }
        if let catchUpWindow { job.catchUpWindow = catchUpWindow }
        if let maxRetries { job.maxRetries = maxRetries }
        if let retryDelay { job.retryDelay = retryDelay }
        return job
    }
}
